"""The local broker through the real CLI: start, status, idempotence, restart, stale pid files."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamproc.kafka import KafkaSettings, admin_client
from streamproc.local import LocalBroker, free_port
from streamproc.local._process import pid_alive

pytestmark = pytest.mark.kafka


def streamproc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``streamproc`` command."""
    script = Path(sys.executable).with_name("streamproc")
    command = [str(script)] if script.exists() else [shutil.which("streamproc") or "streamproc"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=400, check=False
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A broker data directory whose broker is killed after the test, whatever happened."""
    path = tmp_path / "broker"
    broker = LocalBroker(path)
    atexit.register(broker.kill)
    yield path
    broker.kill()
    atexit.unregister(broker.kill)


async def produce_and_read_back(bootstrap: str, topic: str, value: bytes | None) -> list[bytes]:
    """Optionally create *topic* and write *value*; return everything the topic holds."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import NewTopic

    if value is not None:
        async with admin_client(KafkaSettings(bootstrap_servers=(bootstrap,))) as admin:
            await admin.create_topics([NewTopic(topic, 1, 1)])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=b"k")
        finally:
            await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=10_000)
        return [record.value for records in batches.values() for record in records]
    finally:
        await consumer.stop()


async def test_start_status_restart_keeps_data_stop(data_dir: Path) -> None:
    port = free_port()
    started = streamproc("broker", "start", "--data-dir", str(data_dir), "--port", str(port))
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip()
    assert bootstrap == f"localhost:{port}"
    pid = int((data_dir / "broker.pid").read_text())

    status = streamproc("broker", "status", "--data-dir", str(data_dir))
    assert status.returncode == 0
    assert f"pid {pid}" in status.stdout and bootstrap in status.stdout

    # Idempotent: a second start reports the running broker and starts nothing.
    again = streamproc("broker", "start", "--data-dir", str(data_dir))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == bootstrap
    assert int((data_dir / "broker.pid").read_text()) == pid

    assert await produce_and_read_back(bootstrap, "restart.check", b"kept") == [b"kept"]

    stopped = streamproc("broker", "stop", "--data-dir", str(data_dir))
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not pid_alive(pid)
    assert not (data_dir / "broker.pid").exists()
    status = streamproc("broker", "status", "--data-dir", str(data_dir))
    assert status.returncode == 3 and "not running" in status.stdout

    # A restart without --port reuses the recorded port and keeps the data.
    restarted = streamproc("broker", "start", "--data-dir", str(data_dir))
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.strip() == bootstrap
    assert await produce_and_read_back(bootstrap, "restart.check", None) == [b"kept"]

    assert streamproc("broker", "stop", "--data-dir", str(data_dir)).returncode == 0
    again_stopped = streamproc("broker", "stop", "--data-dir", str(data_dir))
    assert again_stopped.returncode == 0 and "was not running" in again_stopped.stdout


def test_stale_pid_file_is_ignored_and_its_process_spared(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    # The pid of a live process that is not a broker: what a reused pid looks like.
    bystander = subprocess.Popen(["sleep", "600"])
    try:
        (data_dir / "broker.pid").write_text(f"{bystander.pid}\n")
        status = streamproc("broker", "status", "--data-dir", str(data_dir))
        assert status.returncode == 3
        assert f"stale pid file for pid {bystander.pid}" in status.stdout

        stopped = streamproc("broker", "stop", "--data-dir", str(data_dir))
        assert stopped.returncode == 0 and "was not running" in stopped.stdout
        assert bystander.poll() is None, "stop killed a process that is not the broker"

        (data_dir / "broker.pid").write_text(f"{bystander.pid}\n")
        port = free_port()
        started = streamproc("broker", "start", "--data-dir", str(data_dir), "--port", str(port))
        assert started.returncode == 0, started.stderr
        broker_pid = int((data_dir / "broker.pid").read_text())
        assert broker_pid != bystander.pid

        assert streamproc("broker", "stop", "--data-dir", str(data_dir)).returncode == 0
        assert not pid_alive(broker_pid)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_start_on_a_busy_port_fails_clearly(data_dir: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = streamproc("broker", "start", "--data-dir", str(data_dir), "--port", str(port))
    assert result.returncode != 0
    assert f"port {port} is already in use" in result.stderr
    assert not (data_dir / "broker.pid").exists()


def test_broker_dying_at_startup_reports_its_log(data_dir: Path) -> None:
    # Format the data directory through a first start, then make the stored node id disagree
    # with the configuration: Kafka refuses to start and exits.
    port = free_port()
    broker = LocalBroker(data_dir, port=port)
    broker.start()
    broker.stop()
    meta = data_dir / "kafka-logs" / "meta.properties"
    meta.write_text(meta.read_text().replace("node.id=1", "node.id=7"))

    result = streamproc("broker", "start", "--data-dir", str(data_dir), "--timeout", "120")
    assert result.returncode != 0
    assert "exited with code" in result.stderr
    assert "broker.log" in result.stderr
    assert "node" in result.stderr.lower()  # the log tail shows Kafka's own complaint
    assert not (data_dir / "broker.pid").exists()


def test_stop_escalates_to_sigkill(data_dir: Path) -> None:
    broker = LocalBroker(data_dir, port=free_port())
    broker.start()
    pid = broker.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # a stopped JVM ignores SIGTERM until it is continued
    try:
        assert broker.stop(timeout=1.0)
        assert not pid_alive(pid)
    finally:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_concurrent_jar_fetches_share_one_complete_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "STREAMPROC_CACHE": str(cache)}
    code = "from streamproc.local import ensure_kafka_jars; print(ensure_kafka_jars())"
    fetchers = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [fetcher.communicate(timeout=600)[0].strip() for fetcher in fetchers]
    assert [fetcher.returncode for fetcher in fetchers] == [0, 0, 0]
    assert len(set(outputs)) == 1
    jars = {jar.name for jar in Path(outputs[0]).glob("*.jar")}
    assert any(name.startswith("kafka_2.13-") for name in jars)
    assert any(name.startswith("log4j-slf4j2-impl-") for name in jars)
    # The slf4j 2 override won: a 1.7 API would find no log4j binding.
    slf4j = [name for name in jars if name.startswith("slf4j-api-")]
    assert len(slf4j) == 1 and slf4j[0].startswith("slf4j-api-2."), slf4j
    assert not [path for path in cache.iterdir() if path.name.startswith(".")]  # no temp dirs
