"""The lag gauges and the stall watchdog, without a broker: a worker reports lag only for the
partitions it holds, and seeks a partition whose position stopped with records waiting."""

from __future__ import annotations

import asyncio
from collections import namedtuple
from typing import Any

from prometheus_client import generate_latest

from streamproc.worker._metrics import WorkerMetrics
from streamproc.worker._watchdog import FetchWatchdog

TP = namedtuple("TP", "topic partition")


class FakeConsumer:
    def __init__(self) -> None:
        self.held: dict[Any, int] = {}  # tp -> highwater
        self.seeks: list[tuple[Any, int]] = []
        self.flow_active = True

    def assignment(self) -> set[Any]:
        return set(self.held)

    def highwater(self, tp: Any) -> int | None:
        return self.held.get(tp)

    async def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp, offset))


class FakeApp:
    def __init__(self) -> None:
        self.consumer = FakeConsumer()
        self.in_recovery = False


class Progress:
    def __init__(self) -> None:
        self.done: dict[Any, int] = {}

    def done_until(self, tp: Any) -> int | None:
        return self.done.get(tp)


def _lag_series(metrics: WorkerMetrics) -> dict[str, float]:
    out = {}
    for line in generate_latest(metrics.registry).decode().splitlines():
        if line.startswith("streamproc_consumer_lag{"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_lag_is_reported_only_for_the_partitions_held() -> None:
    app, progress, metrics = FakeApp(), Progress(), WorkerMetrics()
    watchdog = FetchWatchdog(progress, metrics, ["comments.facebook"], clock=lambda: 0.0)
    a, b = TP("comments.facebook", 0), TP("comments.facebook", 1)
    app.consumer.held = {a: 100, b: 50, TP("other", 0): 9}
    progress.done = {a: 40, b: 50}
    asyncio.run(watchdog.check(app))
    assert _lag_series(metrics) == {
        'streamproc_consumer_lag{partition="0",topic="comments.facebook"}': 60.0,
        'streamproc_consumer_lag{partition="1",topic="comments.facebook"}': 0.0,
    }
    # Partition 0 moves to another worker: its series goes, partition 1's stays.
    del app.consumer.held[a]
    asyncio.run(watchdog.check(app))
    assert _lag_series(metrics) == {
        'streamproc_consumer_lag{partition="1",topic="comments.facebook"}': 0.0
    }
    # All partitions gone (a worker left out of a rebalance): no lag at all, not the last one.
    app.consumer.held = {}
    asyncio.run(watchdog.check(app))
    assert _lag_series(metrics) == {}


def test_a_partition_stuck_with_records_waiting_is_read_again() -> None:
    now = [0.0]
    app, progress, metrics = FakeApp(), Progress(), WorkerMetrics()
    watchdog = FetchWatchdog(
        progress, metrics, ["comments.x"], stall_seconds=10.0, clock=lambda: now[0]
    )
    stuck, moving = TP("comments.x", 0), TP("comments.x", 1)
    app.consumer.held = {stuck: 100, moving: 100}
    progress.done = {stuck: 40, moving: 40}
    for t in (0.0, 5.0, 11.0):
        now[0] = t
        progress.done[moving] += 10
        asyncio.run(watchdog.check(app))
    assert app.consumer.seeks == [(stuck, 40)]
    # In recovery (or paused) nothing counts as stuck.
    app.in_recovery = True
    now[0] = 30.0
    asyncio.run(watchdog.check(app))
    now[0] = 45.0
    asyncio.run(watchdog.check(app))
    assert app.consumer.seeks == [(stuck, 40)]
