"""Helpers for tests that run real workers against the session's Kafka broker."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings, free_port, load_declarations


def streamproc_command() -> list[str]:
    script = Path(sys.executable).with_name("streamproc")
    return [str(script)] if script.exists() else [shutil.which("streamproc") or "streamproc"]


def streamproc_env(bootstrap: str) -> dict[str, str]:
    """Environment for a ``streamproc`` subprocess that must talk to the broker at
    ``bootstrap``: this process's environment without any other STREAMPROC_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    if "STREAMPROC_CACHE" in os.environ:
        env["STREAMPROC_CACHE"] = os.environ["STREAMPROC_CACHE"]
    env["STREAMPROC_BROKER"] = bootstrap
    return env


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def comment(
    text: str,
    *,
    author: str,
    channel: str = "facebook",
    id: str | None = None,
    at: str = "2026-11-18T10:30:00+01:00",
    role: str = "public",
) -> dict[str, Any]:
    return {
        "id": id or unique("c-"),
        "channel": channel,
        "author": {"id": author, "name": "Test", "role": role},
        "text": text,
        "created_at": at,
        "kind": "comment",
    }


class Worker:
    """A ``streamproc worker`` subprocess with its own metrics port and log file."""

    def __init__(self, env: dict[str, str], directory: Path, instance_id: str | None = None):
        self.metrics_port = free_port()
        self.directory = directory
        self.log_path = directory / f"worker-{self.metrics_port}.log"
        self.env = {
            **env,
            "STREAMPROC_METRICS_PORT": str(self.metrics_port),
            "STREAMPROC_WORKER_DIR": str(directory / "worker-data"),
            "STREAMPROC_LOG_LEVEL": os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING"),
        }
        if instance_id:
            self.env["STREAMPROC_INSTANCE_ID"] = instance_id
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0, partitions: int = 30) -> Worker:
        """Start it and wait until it has ``partitions`` comment partitions (all, alone)."""
        self.launch()
        self.wait_ready(timeout, partitions)
        return self

    def launch(self) -> Worker:
        """Start it without waiting."""
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*streamproc_command(), "worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()

    def metric(self, name: str) -> float:
        """Sum of every sample of ``name`` on the worker's endpoint."""
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_ready(self, timeout: float, partitions: int = 30) -> None:
        """Until the worker has been assigned ``partitions`` comment partitions."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            try:
                if self.metric("streamproc_assigned_partitions") >= partitions:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"worker not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


async def declare_app_topics(settings: KafkaSettings, app_id: str) -> None:
    """Create the Faust topics of a worker with its own ``app_id`` (a consumer group of its own,
    starting from the beginning of every topic), declared like the default app's."""
    from aiokafka.admin import NewTopic

    from streamproc.kafka import admin_client

    declarations = load_declarations()
    topics = []
    for declared in declarations:
        if declared.name.startswith("streamproc-"):
            name = app_id + declared.name.removeprefix("streamproc")
            topics.append(
                NewTopic(name, declared.partitions, 1, topic_configs=dict(declared.configs))
            )
    async with admin_client(settings) as admin:
        await admin.create_topics(topics)


def publish(settings: KafkaSettings, comments: Iterable[dict[str, Any] | bytes]) -> None:
    lines = [c if isinstance(c, bytes) else orjson.dumps(c) for c in comments]
    summary = asyncio.run(publish_lines(settings, lines))
    assert not summary.dead_letters and summary.unsent_from is None, summary


async def _read(
    settings: KafkaSettings, topic: str, wanted: set[str], key_of: Any, timeout: float
) -> dict[str, list[Any]]:
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    found: dict[str, list[Any]] = defaultdict(list)
    try:
        declared = load_declarations().get(topic)
        assert declared is not None, topic
        tps = [TopicPartition(topic, p) for p in range(declared.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not wanted <= found.keys():
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for record in records:
                    key = key_of(record)
                    if key in wanted:
                        found[key].append(record)
    finally:
        await consumer.stop()
    return dict(found)


def read_decisions(
    settings: KafkaSettings, ids: Iterable[str], timeout: float = 60.0
) -> dict[str, list[dict[str, Any]]]:
    """Every decision on moderation.actions for the comment ``ids`` (a list each: replays)."""
    records = asyncio.run(
        _read(settings, "moderation.actions", set(ids), lambda r: r.key.decode(), timeout)
    )
    return {k: [orjson.loads(r.value) for r in v] for k, v in records.items()}


def read_dead_letters(
    settings: KafkaSettings, markers: Iterable[str], timeout: float = 60.0
) -> dict[str, list[Any]]:
    """Dead-letter records whose original bytes contain one of ``markers`` (the longest wins)."""
    ordered = sorted(markers, key=len, reverse=True)

    def marker_of(record: Any) -> str | None:
        value = record.value or b""
        return next((m for m in ordered if m.encode() in value), None)

    return asyncio.run(_read(settings, "moderation.deadletter", set(ordered), marker_of, timeout))
