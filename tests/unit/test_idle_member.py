"""The idle-member watchdog's decisions, without a broker: when a group member that reads
nothing rejoins, when it restarts, and when it leaves things alone (a quiet topic, a rebalance,
a table recovery). ``tests/integration/test_idle_member.py`` runs it against the real broker."""

from __future__ import annotations

import asyncio
from collections import namedtuple
from typing import Any

from prometheus_client import generate_latest

from streamproc.worker._idle import IdleJudge, IdleSample, IdleWatchdog, unread
from streamproc.worker._metrics import WorkerMetrics

TP = namedtuple("TP", "topic partition")
A, B = TP("comments.x", 0), TP("comments.x", 1)


def sample(positions: dict[Any, int | None], member: bool = True, recovery: bool = False) -> Any:
    return IdleSample(member, frozenset(positions), positions, recovery)


def test_a_member_whose_partitions_stand_still_with_records_waiting_rejoins_then_restarts() -> None:
    judge = IdleJudge(timeout=30.0)
    assert not judge.observe(0.0, sample({A: 10, B: 20}))
    assert not judge.observe(29.0, sample({A: 10, B: 20}))
    assert judge.observe(30.0, sample({A: 10, B: 20}))
    assert judge.decide(30.0, waiting=500) == "rejoin"
    # The next question comes a full stretch later, not at the next look.
    assert not judge.observe(32.0, sample({A: 10, B: 20}))
    assert judge.observe(60.0, sample({A: 10, B: 20}))
    # Still idle soon after the rejoin: the rejoin did not help.
    assert judge.decide(60.0, waiting=800) == "restart"


def test_progress_on_any_partition_or_a_new_assignment_starts_the_stretch_again() -> None:
    judge = IdleJudge(timeout=30.0)
    judge.observe(0.0, sample({A: 10, B: 20}))
    assert not judge.observe(25.0, sample({A: 10, B: 21}))  # one partition moved
    assert not judge.observe(50.0, sample({A: 10, B: 21}))
    assert judge.observe(55.0, sample({A: 10, B: 21}))
    judge.observe(56.0, sample({A: 10}))  # B moved to another worker: a new assignment
    assert not judge.observe(80.0, sample({A: 10}))
    assert judge.observe(86.0, sample({A: 10}))


def test_nothing_waiting_is_a_quiet_topic_not_a_fault() -> None:
    judge = IdleJudge(timeout=30.0)
    judge.observe(0.0, sample({A: 10}))
    assert judge.observe(30.0, sample({A: 10}))
    assert judge.decide(30.0, waiting=0) is None
    assert not judge.observe(40.0, sample({A: 10}))  # asks again only after another stretch
    assert judge.observe(60.0, sample({A: 10}))
    assert judge.decide(60.0, waiting=0) is None


def test_joining_the_group_is_aiokafkas_work_and_a_table_recovery_gets_longer() -> None:
    judge = IdleJudge(timeout=30.0)
    judge.observe(0.0, sample({A: 10}))
    assert not judge.observe(40.0, sample({A: 10}, member=False))  # rejoining
    assert not judge.observe(41.0, sample({A: 10}))  # back: a new stretch
    assert not judge.observe(100.0, sample({A: 10}, recovery=True))  # 59 s into a recovery
    assert judge.observe(341.0, sample({A: 10}, recovery=True))  # 10 x the timeout: stuck


def test_a_rejoin_long_ago_does_not_make_the_next_one_a_restart() -> None:
    judge = IdleJudge(timeout=10.0)
    judge.observe(0.0, sample({A: 1}))
    judge.observe(10.0, sample({A: 1}))
    assert judge.decide(10.0, waiting=5) == "rejoin"
    judge.observe(100.0, sample({A: 2}))
    assert judge.observe(110.0, sample({A: 2}))
    assert judge.decide(110.0, waiting=5) == "rejoin"


def test_a_zero_timeout_turns_it_off() -> None:
    judge = IdleJudge(timeout=0.0)
    judge.observe(0.0, sample({A: 1}))
    assert not judge.observe(1e6, sample({A: 1}))


def test_unread_counts_only_partitions_nobody_committed_on_since_the_last_look() -> None:
    ends = {A: 100, B: 100}
    assert unread(None, {A: 10, B: 10}, ends) == 0  # first look: nothing to compare
    assert unread({A: 10, B: 10}, {A: 10, B: 60}, ends) == 90  # B moves, A does not
    assert unread({A: 100, B: 60}, {A: 100, B: 60}, ends) == 40  # A is read to its end


# --- the watchdog against a consumer's shape -------------------------------------------------


class FakeConsumer:
    """The calls IdleWatchdog makes on the BatchConsumer (whose seam test_faust_seams checks)."""

    def __init__(self) -> None:
        self.held: set[Any] = set()
        self.member = True
        self.ends: dict[Any, int] = {}
        self.committed: dict[Any, int] = {}
        self.rejoins = 0

    def assignment(self) -> set[Any]:
        return set(self.held)

    def group_member(self) -> bool:
        return self.member

    async def highwaters(self, *tps: Any) -> dict[Any, int]:
        return {tp: self.ends[tp] for tp in tps}

    async def group_committed(self, tps: Any) -> dict[Any, int]:
        return {tp: self.committed[tp] for tp in tps if tp in self.committed}

    async def earliest_offsets(self, *tps: Any) -> dict[Any, int]:
        return dict.fromkeys(tps, 0)

    async def request_rejoin(self) -> None:
        self.rejoins += 1


class App:
    in_recovery = False


class Progress:
    def __init__(self) -> None:
        self.done: dict[Any, int] = {}

    def done_until(self, tp: Any) -> int | None:
        return self.done.get(tp)


def _counts(metrics: WorkerMetrics) -> dict[str, float]:
    out = {}
    for line in generate_latest(metrics.registry).decode().splitlines():
        if line.startswith("streamproc_idle_recoveries_total{"):
            name, value = line.rsplit(" ", 1)
            out[name.split('"')[1]] = float(value)
    return out


def _watchdog(consumer: FakeConsumer, progress: Progress, now: list[float]) -> Any:
    restarts: list[BaseException] = []
    metrics = WorkerMetrics()
    watchdog = IdleWatchdog(
        progress, lambda: consumer, metrics, [A, B], 10.0, restarts.append, clock=lambda: now[0]
    )
    return watchdog, metrics, restarts


def test_the_watchdog_rejoins_once_then_restarts_and_counts_each() -> None:
    now = [0.0]
    consumer, progress = FakeConsumer(), Progress()
    consumer.held, consumer.ends = {A, B}, {A: 500, B: 500}
    progress.done = {A: 100}  # B: nothing read since the assignment; the group has 50
    consumer.committed = {B: 50}
    watchdog, metrics, restarts = _watchdog(consumer, progress, now)
    for t in (0.0, 2.0, 10.0):
        now[0] = t
        asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 1 and restarts == []
    assert _counts(metrics) == {"rejoin": 1.0, "restart": 0.0}
    for t in (12.0, 20.0):
        now[0] = t
        asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 1 and len(restarts) == 1
    assert _counts(metrics) == {"rejoin": 1.0, "restart": 1.0}


def test_a_worker_holding_nothing_rejoins_only_when_the_groups_offsets_stand_still() -> None:
    now = [0.0]
    consumer, progress = FakeConsumer(), Progress()
    consumer.ends, consumer.committed = {A: 500, B: 500}, {A: 100, B: 100}
    watchdog, metrics, _ = _watchdog(consumer, progress, now)
    for t in (0.0, 10.0):  # the first look at the group's offsets: a baseline
        now[0] = t
        asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 0
    consumer.committed = {A: 300, B: 500}  # another worker reads them
    now[0] = 20.0
    asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 0
    now[0] = 30.0  # ... and then nobody does
    asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 1
    assert _counts(metrics)["rejoin"] == 1.0


def test_a_failing_broker_call_never_stops_the_timer() -> None:
    now = [0.0]
    consumer, progress = FakeConsumer(), Progress()
    consumer.held, progress.done = {A}, {A: 1}
    watchdog, _, _ = _watchdog(consumer, progress, now)
    asyncio.run(watchdog.check(App()))
    now[0] = 10.0
    consumer.ends = {}  # highwaters raise KeyError, as a timed-out call would raise
    asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 0
