"""YAML loading that remembers where each value came from, for errors with file and line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from streamproc.core._errors import StreamprocError

__all__ = ["KeyPath", "LocatedYaml", "YamlSyntaxError", "load_located"]

KeyPath = tuple[str | int, ...]


class YamlSyntaxError(StreamprocError, ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class LocatedYaml:
    """A parsed document plus the 1-based line of every mapping key and sequence item."""

    value: Any
    lines: dict[KeyPath, int]

    def line(self, path: KeyPath) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, str(key_node.value))
                _walk(value_node, child, lines)
                lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def load_located(text: str) -> LocatedYaml:
    """Parse one YAML document with the safe loader, keeping line numbers."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters at once
        raise YamlSyntaxError(str(exc), 1) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return LocatedYaml(None, {(): 1})
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(f"{exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), 1) from None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    _walk(node, (), lines)
    return LocatedYaml(value, lines)
