"""A system of the streaming rounds that stops delivering fails its round within the stall
limit, with its log, instead of holding the run until the round's deadline."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic

from benchmarks.stream_harness import Bench, children
from benchmarks.systems import SystemFailed, child_round
from streamproc.kafka import KafkaSettings, admin_client
from streamproc.local import LocalBroker

from ._streaming import unique

pytestmark = pytest.mark.kafka


def test_a_system_that_writes_nothing_fails_after_the_stall_limit(
    kafka_broker: LocalBroker, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    topic = unique("bench-silent-")

    async def run() -> None:
        async with admin_client(kafka_settings) as admin:
            await admin.create_topics([NewTopic(topic, 1, 1)])
        bench = Bench(
            broker=kafka_broker,
            settings=kafka_settings,
            bootstrap=kafka_settings.bootstrap_servers[0],
            workdir=tmp_path,
            count=10,
            comment_topics=[],
            partitions={topic: 1},
            max_records=100,
        )
        silent = [sys.executable, "-c", "print('started, sending nothing', flush=True)\n"
                  "import time; time.sleep(120)"]  # fmt: skip
        await child_round(bench, "silent", silent, topic, 1, stall_seconds=2.0)

    started = time.monotonic()
    with pytest.raises(SystemFailed) as failed:
        asyncio.run(run())
    assert time.monotonic() - started < 30  # not the round's deadline (120 s and more)
    assert failed.value.reason.startswith("silent wrote no output record for ")
    assert "(0 of 10 outputs)" in failed.value.reason
    assert "started, sending nothing" in failed.value.log
    assert not children  # the child was stopped
