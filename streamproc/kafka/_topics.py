"""Apply the topic declarations to a cluster: create what is missing, report what differs.

Existing topics are never altered: changing partitions moves keys between partitions and
changing retention can delete data, so those are decisions for a person, not for ``apply``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from streamproc.kafka._declarations import TopicDeclaration, TopicDeclarations

# DescribeConfigs ``config_source`` of a value set on the topic itself.
_DYNAMIC_TOPIC_CONFIG = 1
_TOPIC_RESOURCE = 2
_CREATE_TIMEOUT_MS = 30_000
_TOPIC_ALREADY_EXISTS = 36


class TopicAction(StrEnum):
    CREATE = "create"
    UP_TO_DATE = "up to date"
    DIFFERS = "differs"
    ERROR = "error"


@dataclass(frozen=True)
class Difference:
    """One setting of an existing topic that does not match its declaration."""

    setting: str
    declared: str | None  # None: set on the cluster, not declared
    actual: str | None  # None: declared, but the cluster does not report it

    def describe(self) -> str:
        if self.declared is None:
            return f"{self.setting} is {self.actual} on the cluster but not declared"
        if self.actual is None:
            return f"{self.setting}: declared {self.declared}, not reported by the cluster"
        return f"{self.setting}: declared {self.declared}, actual {self.actual}"


@dataclass(frozen=True)
class TopicResult:
    declaration: TopicDeclaration
    action: TopicAction
    differences: tuple[Difference, ...] = ()
    error: str | None = None

    @property
    def name(self) -> str:
        return self.declaration.name


@dataclass(frozen=True)
class ApplyReport:
    """What :func:`apply` did (or, in a dry run, would do) for each declared topic."""

    results: tuple[TopicResult, ...]
    dry_run: bool

    def having(self, action: TopicAction) -> list[TopicResult]:
        return [result for result in self.results if result.action is action]

    @property
    def has_errors(self) -> bool:
        return bool(self.having(TopicAction.ERROR))

    @property
    def has_differences(self) -> bool:
        return bool(self.having(TopicAction.DIFFERS))

    @property
    def up_to_date(self) -> bool:
        """True if every declared topic exists exactly as declared."""
        return all(result.action is TopicAction.UP_TO_DATE for result in self.results)

    def lines(self) -> list[str]:
        """A human-readable report, one topic per line (differences indented below)."""
        width = max((len(result.name) for result in self.results), default=0)
        out = []
        for result in self.results:
            label = str(result.action)
            detail = ""
            if result.action is TopicAction.CREATE:
                label = "would create" if self.dry_run else "created"
                detail = result.declaration.summary()
            elif result.action is TopicAction.ERROR:
                detail = result.error or ""
            out.append(f"{label:<13} {result.name:<{width}}  {detail}".rstrip())
            out.extend(f"{'':<13} {'':<{width}}  {d.describe()}" for d in result.differences)
        out.append(self.summary())
        return out

    def summary(self) -> str:
        counts = {action: len(self.having(action)) for action in TopicAction}
        if self.up_to_date:
            return f"All {len(self.results)} declared topics are up to date."
        create = "to create" if self.dry_run else "created"
        done, same = counts[TopicAction.CREATE], counts[TopicAction.UP_TO_DATE]
        differ, failed = counts[TopicAction.DIFFERS], counts[TopicAction.ERROR]
        text = (
            f"{done} {create}, {same} up to date, {differ} differ (left unchanged), "
            f"{failed} failed."
        )
        return f"Dry run, nothing changed: {text}" if self.dry_run else text


@dataclass(frozen=True)
class ClusterTopic:
    """A topic as the cluster describes it."""

    name: str
    partitions: int
    replication_factor: int
    internal: bool


async def cluster_topics(admin: Any) -> dict[str, ClusterTopic]:
    """Every topic of the cluster, by name."""
    # A metadata request for *all* topics: naming missing topics could auto-create them on a
    # cluster that allows it.
    topics = await admin.describe_topics(None)
    result = {}
    for topic in topics:
        partitions = topic["partitions"]
        replication = max((len(p["replicas"]) for p in partitions), default=0)
        result[topic["topic"]] = ClusterTopic(
            topic["topic"], len(partitions), replication, bool(topic["is_internal"])
        )
    return result


async def topic_configs(admin: Any, names: list[str]) -> dict[str, dict[str, tuple[str, bool]]]:
    """Each topic's configs: name -> {config: (value, set on the topic itself)}."""
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    responses = await admin.describe_configs(resources)
    result: dict[str, dict[str, tuple[str, bool]]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["resource_type"] != _TOPIC_RESOURCE:
                continue
            if resource["error_code"]:
                raise RuntimeError(
                    f"describing the configs of {resource['resource_name']!r} failed: "
                    f"{_error_name(resource['error_code'])} {resource.get('error_message') or ''}"
                )
            entries = {}
            for entry in resource["config_entries"]:
                if "config_source" in entry:
                    on_topic = entry["config_source"] == _DYNAMIC_TOPIC_CONFIG
                else:  # DescribeConfigs v0 has only is_default
                    on_topic = not entry.get("is_default", True)
                entries[entry["config_names"]] = (entry["config_value"], on_topic)
            result[resource["resource_name"]] = entries
    return result


async def apply(
    declarations: TopicDeclarations, admin: Any, *, dry_run: bool = False
) -> ApplyReport:
    """Create the declared topics that are missing and compare the others with the declarations.

    *admin* is a started ``aiokafka.admin.AIOKafkaAdminClient``. With *dry_run* nothing is
    changed: missing topics are only validated by the cluster (CreateTopics ``validate_only``).
    """
    existing = await cluster_topics(admin)
    missing = [d for d in declarations if d.name not in existing]
    results: dict[str, TopicResult] = {}
    if missing:
        failures = await _create(admin, missing, validate_only=dry_run)
        for declaration in missing:
            failure = failures.get(declaration.name)
            if failure is None:
                results[declaration.name] = TopicResult(declaration, TopicAction.CREATE)
            elif failure[0] != _TOPIC_ALREADY_EXISTS:
                results[declaration.name] = TopicResult(
                    declaration, TopicAction.ERROR, error=failure[1]
                )
        # Wait until the brokers' metadata shows what was just created, so that the topics are
        # usable when apply returns. A topic that "already exists" although the metadata did not
        # list it was created a moment ago by someone else: compare it like any existing topic.
        created = [name for name, r in results.items() if r.action is TopicAction.CREATE]
        raced = [d.name for d in missing if d.name not in results]
        if raced or (created and not dry_run):
            existing = await _wait_visible(admin, raced + ([] if dry_run else created))
    present = [d for d in declarations if d.name not in results]
    configs = await topic_configs(admin, [d.name for d in present if d.name in existing])
    for declaration in present:
        if declaration.name not in existing:
            error = "the cluster says it exists but does not describe it"
            results[declaration.name] = TopicResult(declaration, TopicAction.ERROR, error=error)
            continue
        differences = compare(declaration, existing[declaration.name], configs[declaration.name])
        action = TopicAction.DIFFERS if differences else TopicAction.UP_TO_DATE
        results[declaration.name] = TopicResult(declaration, action, differences)
    return ApplyReport(tuple(results[d.name] for d in declarations), dry_run)


async def _wait_visible(
    admin: Any, names: list[str], timeout: float = 10.0
) -> dict[str, ClusterTopic]:
    """Poll the metadata until every topic of *names* appears (or *timeout* seconds pass)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        existing = await cluster_topics(admin)
        if all(name in existing for name in names):
            return existing
        if asyncio.get_running_loop().time() >= deadline:
            return existing
        await asyncio.sleep(0.2)


def compare(
    declaration: TopicDeclaration, actual: ClusterTopic, configs: dict[str, tuple[str, bool]]
) -> tuple[Difference, ...]:
    """The differences between a declaration and the existing topic."""
    differences = []
    if declaration.partitions != actual.partitions:
        differences.append(
            Difference("partitions", str(declaration.partitions), str(actual.partitions))
        )
    if declaration.replication_factor != actual.replication_factor:
        differences.append(
            Difference(
                "replication_factor",
                str(declaration.replication_factor),
                str(actual.replication_factor),
            )
        )
    for key, declared in sorted(declaration.configs.items()):
        value = configs.get(key)
        if value is None:
            differences.append(Difference(key, declared, None))
        elif not _same_value(key, declared, value[0]):
            differences.append(Difference(key, declared, value[0]))
    for key, (override, on_topic) in sorted(configs.items()):
        if on_topic and key not in declaration.configs:
            differences.append(Difference(key, None, override))
    return tuple(differences)


def _same_value(key: str, declared: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if declared == actual:
        return True
    if key == "cleanup.policy":  # a list: "compact,delete" == "delete,compact"
        return {p.strip() for p in declared.split(",")} == {p.strip() for p in actual.split(",")}
    try:
        return float(declared) == float(actual)
    except ValueError:
        return False


async def _create(
    admin: Any, declarations: list[TopicDeclaration], *, validate_only: bool
) -> dict[str, tuple[int, str]]:
    """Create (or only validate) topics; return (error code, message) of each that failed."""
    from aiokafka.admin import NewTopic

    new_topics = [
        NewTopic(d.name, d.partitions, d.replication_factor, topic_configs=dict(d.configs))
        for d in declarations
    ]
    response = await admin.create_topics(
        new_topics, timeout_ms=_CREATE_TIMEOUT_MS, validate_only=validate_only
    )
    failures = {}
    for entry in response.to_object()["topic_errors"]:
        code = entry["error_code"]
        if code:
            message = f"{_error_name(code)}: {entry.get('error_message') or ''}".rstrip(": ")
            failures[entry["topic"]] = (code, message)
    return failures


def _error_name(code: int) -> str:
    from aiokafka.errors import for_code

    return str(for_code(code).__name__)
