"""Topics as code: the declarations file, and ``apply``/``list`` against the real broker."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from streamproc.kafka import (
    Action,
    DeclarationError,
    KafkaSettings,
    KafkaSettingsError,
    TopicDeclarations,
    admin_client,
    apply,
    cluster_topics,
    free_port,
    load_declarations,
    parse_declarations,
    resource_path,
)
from streamproc.kafka._topics import topic_configs

from .conftest import run_python_on

REPO = Path(__file__).resolve().parents[2]
PLATFORMS = ("facebook", "instagram", "twitter", "youtube", "linkedin")
COMMENT_TOPICS = [f"comments.{platform}" for platform in PLATFORMS]


def streamproc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("streamproc")
    command = [str(script)] if script.exists() else [shutil.which("streamproc") or "streamproc"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def prefixed(declarations: TopicDeclarations) -> TopicDeclarations:
    """The declarations under fresh names, so each test sees topics nobody created yet."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    topics = tuple(replace(topic, name=prefix + topic.name) for topic in declarations)
    return TopicDeclarations(topics, declarations.source)


# The declarations file ----------------------------------------------------------------------


def test_packaged_declarations() -> None:
    declarations = load_declarations()
    assert declarations.names == [
        *COMMENT_TOPICS,
        "moderation.actions",
        "moderation.deadletter",
        "moderation.policy",
        "moderation.outcomes",
        "moderation.reviews",
        "connect.cursors",
        "connect.directory",
        "streamproc-strikes-changelog",
        "streamproc-__assignor-__leader",
    ]
    week, month = str(7 * 24 * 3600 * 1000), str(30 * 24 * 3600 * 1000)
    for name in COMMENT_TOPICS:
        topic = declarations.get(name)
        assert topic is not None
        assert topic.partitions == 6
        assert topic.configs["cleanup.policy"] == "delete"
        assert topic.configs["retention.ms"] == week
    actions = declarations.get("moderation.actions")
    deadletter = declarations.get("moderation.deadletter")
    assert actions is not None
    assert (actions.partitions, actions.configs["retention.ms"]) == (6, month)
    assert deadletter is not None
    assert (deadletter.partitions, deadletter.configs["retention.ms"]) == (3, month)
    for name, partitions in [
        ("moderation.policy", 1),
        ("moderation.outcomes", 6),
        ("connect.cursors", 1),
        ("connect.directory", 1),
        ("streamproc-strikes-changelog", 6),
        ("streamproc-__assignor-__leader", 1),
    ]:
        topic = declarations.get(name)
        assert topic is not None and topic.partitions == partitions
        assert topic.configs["cleanup.policy"] == "compact"
        assert "retention.ms" not in topic.configs
    assert all(topic.replication_factor == 1 for topic in declarations)


def test_repository_paths_link_to_the_packaged_files() -> None:
    # One source of truth: deploy/kafka/ and topics/ are symlinks into the package.
    for link, name in [
        (REPO / "deploy" / "kafka" / "pom.xml", "pom.xml"),
        (REPO / "deploy" / "kafka" / "log4j2.yaml", "log4j2.yaml"),
        (REPO / "topics" / "topics.yaml", "topics.yaml"),
    ]:
        assert link.is_symlink(), link
        assert link.resolve() == resource_path(name).resolve()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("topics:\n  a.b:\n    partitions: six\n", 3, "partitions must be a positive integer"),
        ("topics:\n  a.b:\n    partitions: 0\n", 3, "partitions must be a positive integer"),
        ("topics:\n  a.b: {}\n  a.b: {}\n", 3, "duplicate key 'a.b'"),
        ("topics:\n  a.b:\n    partition: 3\n", 3, "unknown key 'partition'"),
        ("topics:\n  bad/name: {}\n", 2, "invalid topic name"),
        ("defaults: {}\n", 1, "missing the 'topics' section"),
        ("topic:\n  a: {}\n", 1, "unknown section 'topic'"),
        ("topics:\n  a.b:\n    configs:\n      retention.ms: {x: 1}\n", 4, "single value"),
        ("topics:\n  a.b:\n    configs:\n      Bad Name: 1\n", 4, "invalid config name"),
        ("topics:\n  a.b: [\n", 3, "invalid YAML"),
        (
            "topics:\n  a.b:\n    configs:\n      min.insync.replicas: 2\n",
            2,
            "exceeds replication_factor",
        ),
    ],
)
def test_malformed_declarations_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(DeclarationError) as caught:
        parse_declarations(text, source="bad.yaml")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"bad.yaml:{line}:")
    assert message in str(caught.value)


def test_defaults_configs_and_null_override() -> None:
    declarations = parse_declarations(
        dedent(
            """\
            defaults:
              partitions: 4
              configs: {cleanup.policy: delete, retention.ms: 1000, preallocate: false}
            topics:
              plain:
              compacted:
                partitions: 1
                configs: {cleanup.policy: [compact, delete], retention.ms: null}
            """
        )
    )
    plain, compacted = declarations.topics
    assert (plain.partitions, plain.line) == (4, 5)
    assert plain.configs == {
        "cleanup.policy": "delete",
        "retention.ms": "1000",
        "preallocate": "false",
    }
    assert compacted.partitions == 1
    assert compacted.configs == {"cleanup.policy": "compact,delete", "preallocate": "false"}


def test_cli_reports_a_malformed_file_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "topics.yaml"
    bad.write_text("defaults:\n  partitions: 3\ntopics:\n  comments.x:\n    partitions: -1\n")
    # The file is checked before any connection: no broker is needed for this error.
    env = {"PATH": "/usr/bin:/bin", "STREAMPROC_BROKER": f"localhost:{free_port()}"}
    for args in (["apply"], ["apply", "--dry-run"], ["list"]):
        result = streamproc("topics", *args, "--file", str(bad), env=env)
        assert result.returncode == 1
        assert f"{bad}:5:17: topic 'comments.x': partitions must be" in result.stderr


def test_cli_without_a_broker_fails_clearly() -> None:
    env = {"PATH": "/usr/bin:/bin", "STREAMPROC_BROKER": f"localhost:{free_port()}"}
    result = streamproc("topics", "apply", env=env)
    assert result.returncode == 1
    assert "cannot reach Kafka at localhost:" in result.stderr


def test_declarations_ship_with_a_non_editable_install(
    non_editable_install: Path, tmp_path: Path
) -> None:
    target = non_editable_install
    resources = target / "streamproc" / "kafka" / "resources"
    for name in ("pom.xml", "log4j2.yaml", "topics.yaml"):
        assert (resources / name).is_file() and not (resources / name).is_symlink()
        assert (resources / name).read_bytes() == resource_path(name).read_bytes()
    probe = (
        "from streamproc.kafka import load_declarations, resource_path; "
        "print(len(load_declarations()), resource_path('pom.xml'))"
    )
    count, pom = run_python_on(target, probe, cwd=tmp_path).split()
    assert count == "14" and Path(pom).is_relative_to(target)


# Connection settings ------------------------------------------------------------------------


def test_settings_from_env() -> None:
    assert KafkaSettings.from_env({}).bootstrap == "localhost:9092"
    settings = KafkaSettings.from_env(
        {
            "STREAMPROC_BROKER": "kafka://k1:9093; k2:9093",
            "STREAMPROC_SECURITY_PROTOCOL": "sasl_ssl",
            "STREAMPROC_SASL_MECHANISM": "SCRAM-SHA-512",
            "STREAMPROC_SASL_USERNAME": "svc",
            "STREAMPROC_SASL_PASSWORD": "s3cret",
        }
    )
    assert settings.bootstrap_servers == ("k1:9093", "k2:9093")
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.describe()
    kwargs = settings.client_kwargs()
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("svc", "s3cret")
    assert kwargs["ssl_context"] is not None
    assert settings.faust_broker_urls() == ["kafka://k1:9093", "kafka://k2:9093"]
    plain = KafkaSettings.from_env({"STREAMPROC_BROKER": "localhost:19092"}).client_kwargs()
    assert plain["ssl_context"] is None and plain["security_protocol"] == "PLAINTEXT"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STREAMPROC_BROKER": "localhost"}, "is not host:port"),
        ({"STREAMPROC_SECURITY_PROTOCOL": "TLS"}, "expected one of PLAINTEXT"),
        ({"STREAMPROC_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "needs STREAMPROC_SASL_USERNAME"),
        (
            {
                "STREAMPROC_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "STREAMPROC_SASL_MECHANISM": "GSSAPI",
            },
            "expected one of PLAIN",
        ),
        ({"STREAMPROC_SSL_CERTFILE": "/x.pem"}, "needs both"),
    ],
)
def test_invalid_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(KafkaSettingsError, match=message):
        KafkaSettings.from_env(env)


# Against the broker -------------------------------------------------------------------------


@pytest.mark.kafka
async def test_apply_creates_every_declared_topic_then_is_a_no_op(
    kafka_settings: KafkaSettings,
) -> None:
    declarations = prefixed(load_declarations())
    async with admin_client(kafka_settings) as admin:
        first = await apply(declarations, admin)
        assert [r.action for r in first.results] == [Action.CREATE] * len(declarations)

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
    assert [r.action for r in report.results] == [Action.CREATE] * len(declarations)
    lines = report.lines()
    assert all(line.startswith("would create") for line in lines[:-1])
    assert lines[-1].startswith("Dry run, nothing changed: 14 to create")


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
    assert result.action is Action.DIFFERS
    differences = {d.setting: (d.declared, d.actual) for d in result.differences}
    assert differences == {
        "partitions": ("6", "2"),
        "retention.ms": ("604800000", "3600000"),
        "segment.ms": (None, "600000"),
    }
    assert after.partitions == 2  # not silently repartitioned
    assert report.has_differences and not report.has_errors
    assert [r.action for r in report.results[1:]] == [Action.CREATE] * (len(declarations) - 1)
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
    assert second.stdout.strip().endswith("All 14 declared topics are up to date.")

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
