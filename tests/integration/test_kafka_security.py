"""Kafka security end to end: a broker with SASL_SSL and SCRAM-SHA-512 (certificates of a CA
made for the test), and every service configured only through the documented variables
(STREAMPROC_SECURITY_PROTOCOL, _SASL_MECHANISM, _SASL_USERNAME, _SASL_PASSWORD, _SSL_CAFILE).
Wrong credentials end start-up at once with a message that names the cause."""

from __future__ import annotations

import atexit
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from streamproc.kafka import KafkaSettings
from streamproc.local import BrokerSecurity, LocalBroker, free_port
from streamproc.local.platforms import StandIns
from tests.integration._platforms import Service
from tests.integration._streaming import (
    Worker,
    comment,
    read_decisions,
    streamproc_command,
    streamproc_env,
    unique,
)

pytestmark = pytest.mark.kafka

_SECURITY = BrokerSecurity(username="streamproc-test", password="s3cret-for-the-test")
# Start-up must fail within this, not retry for ever.
_FAIL_WITHIN = 30.0


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    broker = LocalBroker(
        tmp_path_factory.mktemp("secure-broker"),
        port=free_port(),
        controller_port=free_port(),
        security=_SECURITY,
    )
    atexit.register(broker.kill)
    try:
        broker.start(timeout=300.0, die_with_parent=True)
        yield broker
    finally:
        broker.stop(timeout=20.0)
        atexit.unregister(broker.kill)


@pytest.fixture(scope="module")
def secure_env(secure_broker: LocalBroker) -> dict[str, str]:
    """What a deployment sets: the documented variables, nothing else about Kafka."""
    bootstrap = secure_broker.status().bootstrap
    assert bootstrap is not None
    env = streamproc_env(bootstrap, **secure_broker.client_env())
    assert env["STREAMPROC_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["STREAMPROC_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert Path(env["STREAMPROC_SSL_CAFILE"]).is_file()
    return env


@pytest.fixture(scope="module")
def topics_applied(secure_env: dict[str, str]) -> dict[str, str]:
    result = run_streamproc(secure_env, "topics", "apply")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout, result.stdout
    return secure_env


def run_streamproc(
    env: dict[str, str], *args: str, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*streamproc_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_worker_decides_published_comments_over_sasl_ssl(
    topics_applied: dict[str, str], tmp_path: Path
) -> None:
    env = topics_applied
    worker = Worker(env, tmp_path / "worker")
    try:
        worker.start(timeout=90.0)
        run = unique()
        comments = [
            comment("Grazie per le informazioni", author=f"{run}-a"),
            comment("Quando apre il bando?", author=f"{run}-b", channel="instagram"),
            comment("sei un idiota", author=f"{run}-c"),
        ]
        source = tmp_path / "comments.ndjson"
        source.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in comments))
        published = run_streamproc(env, "publish", str(source))
        assert published.returncode == 0, published.stderr
        assert "published 3 comments" in published.stderr, published.stderr

        # Read back with the same documented settings the services used.
        settings = KafkaSettings.from_env(env)
        decisions = read_decisions(settings, [c["id"] for c in comments], timeout=60.0)
        assert decisions.keys() == {c["id"] for c in comments}, worker.log()
        worker.check_alive()
    finally:
        worker.stop()


def test_sink_and_connect_become_ready_over_sasl_ssl(
    topics_applied: dict[str, str], tmp_path: Path
) -> None:
    stand_ins = StandIns().start()
    env = {**topics_applied, **stand_ins.env(), "STREAMPROC_SINK_GROUP": unique("sink-")}
    services = [Service(command, env, tmp_path) for command in ("connect", "sink")]
    try:
        for service in services:
            service.start(timeout=60.0)  # waits for /readyz 200
            assert service.get("/readyz")[0] == 200
    finally:
        for service in services:
            service.stop()
        stand_ins.stop()


def assert_fails_fast(env: dict[str, str], tmp_path: Path, *args: str) -> str:
    started = time.monotonic()
    env = {**env, "STREAMPROC_WORKER_DIR": str(tmp_path / "worker-data")}
    result = run_streamproc(env, *args, timeout=_FAIL_WITHIN + 30)
    took = time.monotonic() - started
    assert result.returncode != 0, result.stdout + result.stderr
    assert took < _FAIL_WITHIN, f"{args} took {took:.0f} s to fail"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize("command", [("topics", "apply"), ("worker",)])
def test_a_wrong_password_is_a_clear_error_at_start_up(
    topics_applied: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = {**topics_applied, "STREAMPROC_SASL_PASSWORD": "not-the-password"}
    error = assert_fails_fast(env, tmp_path, *command)
    assert "authentication failed" in error, error
    assert "STREAMPROC_SASL_PASSWORD" in error, error
    assert "not-the-password" not in error, error


def test_an_untrusted_certificate_and_a_plaintext_client_fail_clearly(
    topics_applied: dict[str, str], tmp_path: Path
) -> None:
    untrusted = {k: v for k, v in topics_applied.items() if k != "STREAMPROC_SSL_CAFILE"}
    error = assert_fails_fast(untrusted, tmp_path, "topics", "apply")
    assert "TLS certificate" in error and "STREAMPROC_SSL_CAFILE" in error, error

    plaintext = {**topics_applied, "STREAMPROC_SECURITY_PROTOCOL": "PLAINTEXT"}
    error = assert_fails_fast(plaintext, tmp_path, "worker")
    assert "does it speak PLAINTEXT" in error and "STREAMPROC_SECURITY_PROTOCOL" in error, error
