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


def look(judge: IdleJudge, now: float, positions: dict[Any, int], ends: dict[Any, int]) -> Any:
    """One look: observe, and if it is time, decide on what the broker says."""
    if not judge.observe(now, sample(dict(positions))):
        return "not yet"
    return judge.decide(now, positions, ends)[0]


def test_records_left_unread_across_two_looks_make_it_rejoin_then_restart() -> None:
    judge = IdleJudge(timeout=15.0)
    ends = {A: 50, B: 90}
    assert look(judge, 0.0, {A: 10, B: 20}, ends) == "not yet"
    assert look(judge, 14.0, {A: 10, B: 20}, ends) == "not yet"
    assert look(judge, 15.0, {A: 10, B: 20}, ends) is None  # the first look: a baseline
    assert look(judge, 17.0, {A: 10, B: 20}, ends) == "not yet"  # next one a stretch later
    assert look(judge, 30.0, {A: 10, B: 20}, {A: 60, B: 90}) == "rejoin"
    # After the rejoin the stretch starts again; idle soon after: the rejoin did not help.
    assert look(judge, 45.0, {A: 10, B: 20}, ends) is None
    assert look(judge, 60.0, {A: 10, B: 20}, ends) == "restart"


def test_a_comment_arriving_on_a_quiet_topic_just_before_a_look_is_no_fault() -> None:
    judge = IdleJudge(timeout=15.0)
    look(judge, 0.0, {A: 10}, {A: 10})
    assert look(judge, 15.0, {A: 10}, {A: 11}) is None  # arrived a moment ago: baseline only
    assert judge.observe(16.0, sample({A: 11})) is False  # decided: the worker moved


def test_a_moving_partition_or_a_new_assignment_starts_the_stretch_again() -> None:
    judge = IdleJudge(timeout=15.0)
    ends = {A: 50, B: 90}
    look(judge, 0.0, {A: 10, B: 20}, ends)
    assert look(judge, 15.0, {A: 10, B: 20}, ends) is None
    assert look(judge, 29.0, {A: 10, B: 21}, ends) == "not yet"  # B moved
    assert look(judge, 44.0, {A: 10, B: 21}, ends) is None  # a new baseline
    assert look(judge, 45.0, {A: 10}, ends) == "not yet"  # B went to another worker
    assert look(judge, 60.0, {A: 10}, ends) is None
    assert look(judge, 75.0, {A: 10}, ends) == "rejoin"


def test_joining_is_aiokafkas_work_a_recovery_gets_longer_and_a_failed_look_starts_over() -> None:
    judge = IdleJudge(timeout=15.0)
    ends = {A: 50}
    look(judge, 0.0, {A: 10}, ends)
    assert look(judge, 15.0, {A: 10}, ends) is None
    assert not judge.observe(30.0, sample({A: 10}, member=False))  # rejoining
    assert not judge.observe(31.0, sample({A: 10}))  # a member again: a new stretch
    assert not judge.observe(100.0, sample({A: 10}, recovery=True))  # 69 s into a recovery
    assert judge.observe(181.0, sample({A: 10}, recovery=True))  # 10 x the timeout: stuck
    judge.failed(181.0)  # the broker did not answer: no baseline, a new stretch
    assert look(judge, 196.0, {A: 10}, ends) is None
    assert look(judge, 211.0, {A: 10}, ends) == "rejoin"


def test_a_rejoin_long_ago_does_not_make_the_next_one_a_restart() -> None:
    judge = IdleJudge(timeout=10.0)
    ends = {A: 9}
    look(judge, 0.0, {A: 1}, ends)
    look(judge, 10.0, {A: 1}, ends)
    assert look(judge, 20.0, {A: 1}, ends) == "rejoin"
    look(judge, 100.0, {A: 2}, ends)
    look(judge, 110.0, {A: 2}, ends)
    assert look(judge, 120.0, {A: 2}, ends) == "rejoin"


def test_a_zero_timeout_turns_it_off() -> None:
    judge = IdleJudge(timeout=0.0)
    judge.observe(0.0, sample({A: 1}))
    assert not judge.observe(1e6, sample({A: 1}))


def test_unread_counts_what_was_there_at_the_last_look_on_partitions_that_did_not_move() -> None:
    assert unread(None, {A: 10}, {A: 100}) == 0  # no baseline yet
    baseline = ({A: 10, B: 10}, {A: 40, B: 40})
    # A stood still: 30 records it had then are still unread (not the 60 that came since);
    # B moved on.
    assert unread(baseline, {A: 10, B: 35}, {A: 100, B: 100}) == 30
    assert unread(({A: 40}, {A: 40}), {A: 40}, {A: 90}) == 0  # read to its end then


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

    async def group_committed(self, tps: Any, timeout: float = 5.0) -> dict[Any, int]:
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
    for t in (0.0, 2.0, 10.0, 12.0, 20.0):
        now[0] = t
        asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 1 and restarts == []
    assert _counts(metrics) == {"rejoin": 1.0, "restart": 0.0}
    for t in (30.0, 40.0):
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
    consumer.committed = {A: 300, B: 500}  # another worker reads them
    now[0] = 20.0
    asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 0
    now[0] = 30.0  # ... and then nobody reads A
    asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 1
    assert _counts(metrics)["rejoin"] == 1.0


def test_a_failing_broker_call_never_stops_the_timer_and_starts_the_judgement_over() -> None:
    now = [0.0]
    consumer, progress = FakeConsumer(), Progress()
    consumer.held, progress.done, consumer.ends = {A}, {A: 1}, {A: 9}
    watchdog, _, _ = _watchdog(consumer, progress, now)
    for t in (0.0, 10.0):
        now[0] = t
        asyncio.run(watchdog.check(App()))
    consumer.ends = {}  # highwaters raise KeyError, as a timed-out call would raise
    now[0] = 20.0
    asyncio.run(watchdog.check(App()))
    consumer.ends = {A: 9}
    now[0] = 30.0
    asyncio.run(watchdog.check(App()))  # a new baseline, not a rejoin
    assert consumer.rejoins == 0
    now[0] = 40.0
    asyncio.run(watchdog.check(App()))
    assert consumer.rejoins == 1
