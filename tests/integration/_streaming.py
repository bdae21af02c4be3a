"""Helpers for tests that run real workers against the session's Kafka broker."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings, load_declarations, topology
from streamproc.local import WorkerProcess, service_env, streamproc_command

__all__ = ["streamproc_command"]


streamproc_env = service_env


def unique(prefix: str = "") -> str:
    # 64 random bits: the tests of one session share the broker's topics and read decisions
    # back by comment id, and with 40 bits a few hundred thousand ids collided now and then
    # (a kill test once found another test's comment under one of its ids).
    return f"{prefix}{uuid.uuid4().hex[:16]}"


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


class Worker(WorkerProcess):
    """A ``streamproc worker`` subprocess (see :class:`streamproc.local.WorkerProcess`), logging
    at ``$TEST_WORKER_LOG_LEVEL`` (default WARNING)."""

    def __init__(self, env: dict[str, str], directory: Path, instance_id: str | None = None):
        level = os.environ.get("TEST_WORKER_LOG_LEVEL", "WARNING")
        super().__init__(env, directory, instance_id=instance_id, log_level=level)

    def metrics(self) -> str:
        return self.metrics_text()


async def declare_app_topics(settings: KafkaSettings, app_id: str) -> None:
    """Create the Faust topics of a worker with its own ``app_id`` (a consumer group of its own,
    starting from the beginning of every topic), declared like the default app's."""
    from aiokafka.admin import NewTopic

    from streamproc.kafka import admin_client

    declarations = load_declarations()
    topics = []
    for declared_name, name in topology().app_topics(app_id).items():
        declared = declarations.get(declared_name)
        assert declared is not None
        topics.append(NewTopic(name, declared.partitions, 1, topic_configs=dict(declared.configs)))
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


def _key_text(record: Any) -> str | None:
    return record.key.decode("utf-8", "replace") if record.key is not None else None


def read_decisions(
    settings: KafkaSettings, ids: Iterable[str], timeout: float = 60.0
) -> dict[str, list[dict[str, Any]]]:
    """Every decision on moderation.actions for the comment ``ids`` (a list each: replays)."""
    records = asyncio.run(
        # Other tests write records the topic's consumers must survive (a null key among them).
        _read(settings, "moderation.actions", set(ids), _key_text, timeout)
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
