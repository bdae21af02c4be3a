"""The librdkafka baseline of the streaming benchmark (benchmarks/confluent_loop.py) on the
session's broker: one decision per comment on its scratch topic, and the offsets committed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from benchmarks.confluent_loop import CONFLUENT_OUT
from benchmarks.kafka_tools import end_offsets, read_window
from streamproc.kafka import KafkaSettings, admin_client

from ._streaming import comment, unique

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[2]
COUNT = 300


async def _prepare(settings: KafkaSettings, topic: str, lines: list[bytes]) -> dict[object, int]:
    async with admin_client(settings) as admin:
        for name, partitions in ((topic, 3), (CONFLUENT_OUT, 6)):
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(name, partitions, 1)])
    producer = AIOKafkaProducer(**settings.client_kwargs())
    await producer.start()
    try:
        for index, line in enumerate(lines):
            await producer.send(topic, line, key=f"author-{index % 7}".encode())
        await producer.flush()
    finally:
        await producer.stop()
    return await end_offsets(settings, [TopicPartition(CONFLUENT_OUT, p) for p in range(6)])


async def _committed(settings: KafkaSettings, group: str) -> dict[object, int]:
    async with admin_client(settings) as admin:
        offsets = await admin.list_consumer_group_offsets(group)
    return {tp: meta.offset for tp, meta in offsets.items()}


def test_the_librdkafka_loop_decides_each_comment_once_and_commits(
    kafka_settings: KafkaSettings, kafka_env: dict[str, str], tmp_path: Path
) -> None:
    topic, group = unique("bench-confluent-in-"), unique("bench-confluent-")
    comments = [comment("Grazie per le informazioni", author=f"a{i % 7}") for i in range(COUNT)]
    before = asyncio.run(_prepare(kafka_settings, topic, [orjson.dumps(c) for c in comments]))
    result = tmp_path / "result.json"
    bootstrap = kafka_settings.bootstrap_servers[0]
    subprocess.run(
        [sys.executable, "-m", "benchmarks.confluent_loop", "--bootstrap", bootstrap,
         "--group", group, "--count", str(COUNT), "--max-records", "100",
         "--result", str(result), "--topics", topic],
        env=kafka_env, cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    report = json.loads(result.read_text())
    assert (report["consumed"], report["errors"]) == (COUNT, 0)
    assert report["per_s"] > 0 and report["cpu_seconds"] > 0
    out = asyncio.run(read_window(kafka_settings, before, values=True))
    assert sorted(out.keys) == sorted(c["id"].encode() for c in comments)  # once each
    decisions = [orjson.loads(v) for v in out.values if v is not None]
    assert {d["comment_id"] for d in decisions} == {c["id"] for c in comments}
    committed = asyncio.run(_committed(kafka_settings, group))
    assert sum(committed.values()) == COUNT  # every partition committed to its end
