"""What the streaming benchmarks share: CPU sampling from /proc and small Kafka helpers
(end offsets, reading a window of records back, forgetting a group, recreating a topic)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from streamproc.kafka import KafkaSettings, TopicAction, apply, load_declarations


class CpuSampler:
    """CPU seconds (all threads) of some processes, sampled from /proc with wall-clock times."""

    def __init__(self, pids: dict[str, int], interval: float = 0.1) -> None:
        self.pids = pids
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._tick = os.sysconf("SC_CLK_TCK")
        self._task: asyncio.Task[None] | None = None

    def _cpu(self, pid: int) -> float:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return float("nan")
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime

    def sample(self) -> None:
        self.samples.append((time.time(), {n: self._cpu(p) for n, p in self.pids.items()}))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self.sample()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def at(self, name: str, when: float) -> float:
        """CPU seconds of ``name`` at wall-clock time ``when``, interpolated linearly."""
        points = [(t, s[name]) for t, s in self.samples if s[name] == s[name]]  # not NaN
        if not points:
            return float("nan")
        if when <= points[0][0]:
            return points[0][1]
        for (t0, c0), (t1, c1) in itertools.pairwise(points):
            if t0 <= when <= t1:
                return c0 + (c1 - c0) * (when - t0) / (t1 - t0) if t1 > t0 else c1
        return points[-1][1]

    def used(self, name: str, start: float, end: float) -> float:
        return self.at(name, end) - self.at(name, start)


# Kafka helpers -----------------------------------------------------------------------------


def scratch_consumer(settings: KafkaSettings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **settings.client_kwargs(),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )


def partitions_of(topics: Iterable[str], partitions: dict[str, int]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in range(partitions[t])]


async def end_offsets(settings: KafkaSettings, tps: list[TopicPartition]) -> dict[Any, int]:
    consumer = scratch_consumer(settings)
    await consumer.start()
    try:
        ends: dict[Any, int] = await consumer.end_offsets(tps)
        return ends
    finally:
        await consumer.stop()


@dataclass
class Output:
    """Records of a topic written in one window: keys, values and timestamps (ms)."""

    keys: list[bytes | None] = field(default_factory=list)
    values: list[bytes | None] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    timestamp_types: set[int] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.stamps)

    def span_seconds(self) -> float:
        return (max(self.stamps) - min(self.stamps)) / 1000 if self.stamps else 0.0


async def read_window(
    settings: KafkaSettings,
    start: dict[Any, int],
    *,
    values: bool = False,
    timeout: float = 300.0,
) -> Output:
    """Every record from the ``start`` offsets to the current end of those partitions."""
    out = Output()
    consumer = scratch_consumer(settings)
    await consumer.start()
    try:
        end = await consumer.end_offsets(list(start))
        todo = {tp: end[tp] for tp in start if end[tp] > start[tp]}
        if not todo:
            return out
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, start[tp])
        deadline = time.monotonic() + timeout
        while todo:
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not read back {sum(todo.values())} records in time")
            batch = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            for tp, records in batch.items():
                stop = todo.get(tp)
                if stop is None:
                    continue
                for record in records:
                    if record.offset >= stop:
                        break
                    out.keys.append(record.key)
                    if values:
                        out.values.append(record.value)
                    out.stamps.append(record.timestamp)
                    out.timestamp_types.add(record.timestamp_type)
                if records and records[-1].offset + 1 >= stop:
                    del todo[tp]
                    consumer.pause(tp)
    finally:
        await consumer.stop()
    return out


async def delete_group(admin: Any, group: str, timeout: float = 60.0) -> None:
    """Forget the group's committed offsets (aiokafka 0.14 has no delete_consumer_groups)."""
    from aiokafka.errors import GroupCoordinatorNotAvailableError
    from aiokafka.protocol.admin import DeleteGroupsRequest

    retriable = {14, 15, 16, 68}  # loading, not available, not coordinator, group not empty
    deadline = time.monotonic() + timeout
    while True:
        try:
            node = await admin.find_coordinator(group)
        except GroupCoordinatorNotAvailableError:  # __consumer_offsets not made yet
            code = 15
        else:
            response = await admin._send_request_to_node(node, DeleteGroupsRequest([group]))
            code = dict(response.results).get(group, 0)
        if code in (0, 69):  # deleted, or there was no such group
            return
        if code not in retriable or time.monotonic() > deadline:
            raise RuntimeError(f"cannot delete consumer group {group!r}: error code {code}")
        await asyncio.sleep(0.5)


async def recreate(admin: Any, topic: str, timeout: float = 60.0) -> None:
    """Delete a declared topic and create it again, empty, with the project's ``apply``.

    (DeleteRecords is refused on compacted topics such as a table's changelog.)
    """
    if topic in await admin.list_topics():
        await admin.delete_topics([topic])
    deadline = time.monotonic() + timeout
    while True:
        if topic not in await admin.list_topics():
            with contextlib.suppress(Exception):  # may still be marked for deletion
                report = await apply(load_declarations(), admin)
                if any(r.name == topic and r.action is TopicAction.CREATE for r in report.results):
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not recreate {topic}")
        await asyncio.sleep(0.5)
