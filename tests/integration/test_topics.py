"""Topics as code: the declarations file, and ``apply``/``list`` against the real broker."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from streamproc.kafka import (
    KafkaSettings,
    TopicAction,
    admin_client,
    apply,
    cluster_topics,
    load_declarations,
    parse_declarations,
    resource_path,
)
from streamproc.kafka._topics import topic_configs
from streamproc.local._paths import resource_path as local_resource
from tests._topics import prefixed, streamproc

from .conftest import run_python_on

REPO = Path(__file__).resolve().parents[2]


def test_declarations_ship_with_a_non_editable_install(
    non_editable_install: Path, tmp_path: Path
) -> None:
    target = non_editable_install
    for package, names, source in [
        ("kafka", ("topics.yaml",), resource_path),
        ("local", ("pom.xml", "log4j2.yaml"), local_resource),
    ]:
        resources = target / "streamproc" / package / "resources"
        for name in names:
            assert (resources / name).is_file() and not (resources / name).is_symlink()
            assert (resources / name).read_bytes() == source(name).read_bytes()
    probe = (
        "from streamproc.kafka import load_declarations; "
        "from streamproc.local._paths import resource_path; "
        "print(len(load_declarations()), resource_path('pom.xml'))"
    )
    count, pom = run_python_on(target, probe, cwd=tmp_path).split()
    assert count == str(len(load_declarations())) and Path(pom).is_relative_to(target)


# Against the broker -------------------------------------------------------------------------


@pytest.mark.kafka
async def test_apply_creates_every_declared_topic_then_is_a_no_op(
    kafka_settings: KafkaSettings,
) -> None:
    declarations = prefixed(load_declarations())
    async with admin_client(kafka_settings) as admin:
        first = await apply(declarations, admin)
        assert [r.action for r in first.results] == [TopicAction.CREATE] * len(declarations)

        existing = await cluster_topics(admin)
        configs = await topic_configs(admin, declarations.names)
        for topic in declarations:
            assert existing[topic.name].partitions == topic.partitions
            assert existing[topic.name].replication_factor == topic.replication_factor
            for key, value in topic.configs.items():
                assert configs[topic.name][key][0] == value, (topic.name, key)

        second = await apply(declarations, admin)
    assert second.up_to_date
    assert second.lines()[-1] == f"All {len(declarations)} declared topics are up to date."


@pytest.mark.kafka
async def test_dry_run_on_missing_topics_changes_nothing(kafka_settings: KafkaSettings) -> None:
    declarations = prefixed(load_declarations())
    async with admin_client(kafka_settings) as admin:
        before = set(await cluster_topics(admin))
        report = await apply(declarations, admin, dry_run=True)
        after = set(await cluster_topics(admin))
    assert before == after
    assert not set(declarations.names) & after
    assert [r.action for r in report.results] == [TopicAction.CREATE] * len(declarations)
    lines = report.lines()
    assert all(line.startswith("would create") for line in lines[:-1])
    assert lines[-1].startswith(f"Dry run, nothing changed: {len(declarations)} to create")


@pytest.mark.kafka
async def test_dry_run_reports_what_the_cluster_would_reject(
    kafka_settings: KafkaSettings,
) -> None:
    name = f"t{uuid.uuid4().hex[:8]}.bad"
    declarations = parse_declarations(f"topics:\n  {name}:\n    configs: {{no.such.config: 1}}\n")
    async with admin_client(kafka_settings) as admin:
        report = await apply(declarations, admin, dry_run=True)
        assert name not in await cluster_topics(admin)
    assert report.has_errors
    assert "no.such.config" in (report.results[0].error or "")


@pytest.mark.kafka
async def test_drifted_topic_is_reported_and_left_alone(kafka_settings: KafkaSettings) -> None:
    from aiokafka.admin import NewTopic

    declarations = prefixed(load_declarations())
    drifted = declarations.topics[0]  # a comments topic: 6 partitions, 7 days
    async with admin_client(kafka_settings) as admin:
        by_hand = {"retention.ms": "3600000", "segment.ms": "600000"}
        await admin.create_topics([NewTopic(drifted.name, 2, 1, topic_configs=by_hand)])
        # No waiting here on purpose: apply copes with a topic created a moment ago.
        report = await apply(declarations, admin)
        after = (await cluster_topics(admin))[drifted.name]

    result = report.results[0]
    assert result.action is TopicAction.DIFFERS
    differences = {d.setting: (d.declared, d.actual) for d in result.differences}
    assert differences == {
        "partitions": ("6", "2"),
        "retention.ms": ("604800000", "3600000"),
        "segment.ms": (None, "600000"),
    }
    assert after.partitions == 2  # not silently repartitioned
    assert report.has_differences and not report.has_errors
    assert [r.action for r in report.results[1:]] == [TopicAction.CREATE] * (len(declarations) - 1)
    text = "\n".join(report.lines())
    assert "partitions: declared 6, actual 2" in text
    assert "segment.ms is 600000 on the cluster but not declared" in text


@pytest.mark.kafka
def test_cli_apply_and_list(kafka_env: dict[str, str], tmp_path: Path) -> None:
    dry = streamproc("topics", "apply", "--dry-run", env=kafka_env)
    assert dry.returncode == 0, dry.stderr

    first = streamproc("topics", "apply", env=kafka_env)
    assert first.returncode == 0, first.stdout + first.stderr
    second = streamproc("topics", "apply", env=kafka_env)
    assert second.returncode == 0
    assert second.stdout.strip().endswith(
        f"All {len(load_declarations())} declared topics are up to date."
    )

    listed = streamproc("topics", "list", env=kafka_env)
    assert listed.returncode == 0
    rows = {line.split()[0]: line.split()[1:] for line in listed.stdout.splitlines()[1:]}
    assert rows["comments.youtube"] == ["6", "1", "yes"]
    assert rows["moderation.policy"] == ["1", "1", "yes"]
    assert not any(name.startswith("__") for name in rows)

    # A file whose declaration disagrees with an existing topic: exit 3, topic unchanged.
    drifted = tmp_path / "drift.yaml"
    drifted.write_text("topics:\n  moderation.policy:\n    partitions: 4\n")
    result = streamproc("topics", "apply", "--file", str(drifted), env=kafka_env)
    assert result.returncode == 3
    assert "partitions: declared 4, actual 1" in result.stdout
    assert "min.insync.replicas is 1 on the cluster but not declared" in result.stdout
