"""Topics as code without a broker: the declarations file, the topology, connection settings, and
the CLI's errors."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from streamproc.kafka import (
    DeclarationError,
    KafkaSettings,
    KafkaSettingsError,
    Topology,
    load_declarations,
    parse_declarations,
    resource_path,
)
from streamproc.local import free_port
from streamproc.local._paths import resource_path as local_resource
from tests._topics import COMMENT_TOPICS, PLATFORMS, streamproc

REPO = Path(__file__).resolve().parents[2]


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


def test_the_package_links_to_the_one_declarations_file() -> None:
    # One source of truth: topics/topics.yaml is the file; the package links to it.
    packaged = REPO / "streamproc" / "kafka" / "resources" / "topics.yaml"
    assert packaged.is_symlink() and not (REPO / "topics" / "topics.yaml").is_symlink()
    assert packaged.resolve() == (REPO / "topics" / "topics.yaml").resolve()
    assert resource_path("topics.yaml").resolve() == (REPO / "topics" / "topics.yaml").resolve()
    for name in ("pom.xml", "log4j2.yaml"):
        assert local_resource(name).is_file() and not local_resource(name).is_symlink()


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


# The topology ---------------------------------------------------------------------------------


def test_the_topology_reads_channels_and_partitions_from_the_declarations() -> None:
    declared = load_declarations()
    topo = Topology(declared)
    assert topo.channels == tuple(PLATFORMS)
    assert topo.comment_topics == tuple(COMMENT_TOPICS)
    assert topo.partitions == declared.get("comments.facebook").partitions  # type: ignore[union-attr]
    assert topo.comment_partitions == topo.partitions * len(PLATFORMS)
    assert topo.changelog("strikes") == "streamproc-strikes-changelog"
    assert topo.app_topics("kills-1") == {
        "streamproc-strikes-changelog": "kills-1-strikes-changelog",
        "streamproc-__assignor-__leader": "kills-1-__assignor-__leader",
    }


def test_a_topology_with_uneven_comment_topics_is_refused() -> None:
    text = dedent(
        """
        topics:
          comments.a: {partitions: 3}
          comments.b: {partitions: 4}
          moderation.actions: {}
          moderation.deadletter: {}
          moderation.policy: {}
          moderation.reviews: {}
        """
    )
    with pytest.raises(DeclarationError, match="one partition count"):
        Topology(parse_declarations(text))
    with pytest.raises(DeclarationError, match="no actions topic"):
        Topology(parse_declarations("topics:\n  comments.a: {}\n"))
