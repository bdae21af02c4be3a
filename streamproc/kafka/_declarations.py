"""Parse and validate the topic declarations (``topics/topics.yaml``).

The file is composed into YAML nodes rather than loaded into dicts, so that every error can
name the file, line and column of the offending entry, and duplicate keys are caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from streamproc.core._errors import StreamprocError
from streamproc.kafka._paths import resource_path

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_CONFIG_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
_TOPIC_KEYS = ("partitions", "replication_factor", "configs")


class DeclarationError(StreamprocError, ValueError):
    """A topic declarations file is malformed; the message starts with ``file:line:column``."""

    def __init__(self, source: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{source}:{line}:{column}: {message}")
        self.source = source
        self.line = line
        self.column = column


@dataclass(frozen=True)
class TopicDeclaration:
    """One declared topic, with the defaults already applied."""

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)
    #: 1-based line of the declaration in its file (0 if built in code).
    line: int = 0

    def summary(self) -> str:
        configs = ", ".join(f"{k}={v}" for k, v in sorted(self.configs.items()))
        noun = "partition" if self.partitions == 1 else "partitions"
        return f"{self.partitions} {noun}, replication {self.replication_factor}, {configs}"


@dataclass(frozen=True)
class TopicDeclarations:
    """All declared topics of one file, in file order."""

    topics: tuple[TopicDeclaration, ...]
    source: str = "<string>"

    def __iter__(self) -> Iterator[TopicDeclaration]:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    @property
    def names(self) -> list[str]:
        return [topic.name for topic in self.topics]

    def get(self, name: str) -> TopicDeclaration | None:
        return next((topic for topic in self.topics if topic.name == name), None)


def load_declarations(path: Path | str | None = None) -> TopicDeclarations:
    """Read and validate a declarations file; the packaged ``topics.yaml`` by default."""
    file = Path(path) if path is not None else resource_path("topics.yaml")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeclarationError(str(file), 0, 0, f"cannot read: {exc.strerror}") from exc
    return parse_declarations(text, source=str(file))


def parse_declarations(text: str, source: str = "<string>") -> TopicDeclarations:
    """Validate declarations given as YAML text; *source* names it in error messages."""
    parser = _Parser(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise DeclarationError(source, line, column, f"invalid YAML: {exc.problem}") from exc
    if root is None:
        raise DeclarationError(source, 1, 1, "the file is empty; expected a 'topics' mapping")
    return TopicDeclarations(parser.document(root), source)


@dataclass(frozen=True)
class _Settings:
    partitions: int
    replication_factor: int
    configs: dict[str, str | None]


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self._constructor = yaml.SafeLoader("")

    def error(self, node: yaml.Node, message: str) -> DeclarationError:
        mark = node.start_mark
        return DeclarationError(self.source, mark.line + 1, mark.column + 1, message)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        """The (key, value) node pairs of a mapping with unique string keys."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping")
        seen: set[str] = set()
        for key, _ in node.value:
            name = self.scalar(key)
            if not isinstance(name, str):
                raise self.error(key, f"{what}: keys must be strings, got {name!r}")
            if name in seen:
                raise self.error(key, f"{what}: duplicate key {name!r}")
            seen.add(name)
        return list(node.value)

    def scalar(self, node: yaml.Node) -> object:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, "expected a single value")
        return self._constructor.construct_object(node)

    def document(self, root: yaml.Node) -> tuple[TopicDeclaration, ...]:
        sections = {self.scalar(k): (k, v) for k, v in self.mapping(root, "the file")}
        for name, (key, _) in sections.items():
            if name not in ("defaults", "topics"):
                raise self.error(key, f"unknown section {name!r}; expected 'defaults' or 'topics'")
        if "topics" not in sections:
            raise self.error(root, "missing the 'topics' section")
        defaults = _Settings(partitions=1, replication_factor=1, configs={})
        if "defaults" in sections:
            defaults = self.settings(sections["defaults"][1], "defaults", defaults)
        topics_node = sections["topics"][1]
        pairs = self.mapping(topics_node, "'topics'")
        if not pairs:
            raise self.error(topics_node, "'topics' declares no topic")
        return tuple(self.topic(key, value, defaults) for key, value in pairs)

    def topic(self, key: yaml.Node, value: yaml.Node, defaults: _Settings) -> TopicDeclaration:
        name = str(self.scalar(key))
        if not _TOPIC_NAME.match(name) or name in (".", ".."):
            raise self.error(
                key, f"invalid topic name {name!r} (letters, digits, '.', '_', '-'; at most 249)"
            )
        settings = self.settings(value, f"topic {name!r}", defaults)
        min_isr = settings.configs.get("min.insync.replicas")
        if min_isr is not None and min_isr.isdigit() and int(min_isr) > settings.replication_factor:
            raise self.error(
                key,
                f"topic {name!r}: min.insync.replicas {min_isr} exceeds replication_factor "
                f"{settings.replication_factor}; acks=all writes would always fail",
            )
        return TopicDeclaration(
            name=name,
            partitions=settings.partitions,
            replication_factor=settings.replication_factor,
            configs={k: v for k, v in settings.configs.items() if v is not None},
            line=key.start_mark.line + 1,
        )

    def settings(self, node: yaml.Node, what: str, base: _Settings) -> _Settings:
        partitions, replication_factor = base.partitions, base.replication_factor
        configs = dict(base.configs)
        for key, value in self.mapping(node, what):
            name = self.scalar(key)
            if name == "partitions":
                partitions = self.positive_int(value, what, name)
            elif name == "replication_factor":
                replication_factor = self.positive_int(value, what, name)
            elif name == "configs":
                for config_key, config_value in self.mapping(value, f"{what}: configs"):
                    config_name = str(self.scalar(config_key))
                    if not _CONFIG_NAME.match(config_name):
                        raise self.error(config_key, f"{what}: invalid config name {config_name!r}")
                    configs[config_name] = self.config_value(config_value, what)
            else:
                raise self.error(
                    key, f"{what}: unknown key {name!r}; expected one of {', '.join(_TOPIC_KEYS)}"
                )
        return _Settings(partitions, replication_factor, configs)

    def positive_int(self, node: yaml.Node, what: str, name: str) -> int:
        number = self.scalar(node)
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise self.error(node, f"{what}: {name} must be a positive integer, got {number!r}")
        return number

    def config_value(self, node: yaml.Node, what: str) -> str | None:
        """Kafka takes config values as strings: render YAML scalars the way Kafka prints them."""
        if isinstance(node, yaml.SequenceNode):  # e.g. cleanup.policy: [compact, delete]
            items = [self.config_value(item, what) for item in node.value]
            if not items or None in items:
                raise self.error(node, f"{what}: a config list needs non-empty values")
            return ",".join(str(item) for item in items)
        value = self.scalar(node)
        if value is None:  # drops an inherited default
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        raise self.error(node, f"{what}: unsupported config value {value!r}")
