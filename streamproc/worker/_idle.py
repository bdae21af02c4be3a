"""A worker that is a member of its group but reads nothing: noticed and recovered.

The fetch watchdog (:mod:`._watchdog`) reads again a partition that stopped while the consumer
fetches. It cannot see a worker on which *every* partition stands still: the flow stopped and
the partitions paused by a rebalance whose callbacks never resumed them (Faust's
``Recovery.on_rebalance`` and ``_resume_streams`` return early on a generation mismatch), a
recovery that never ends, a fetcher that returns nothing; nor a worker left holding no
partition while the group's partitions are read by nobody. The lag gauges do not show it
either: the highwaters they use come from the fetches that stopped.

So every two seconds :class:`IdleJudge` looks at what the worker holds and how far it has
decided each partition. Once nothing of it has moved for ``timeout`` seconds (``10 x timeout``
while Faust recovers the strikes table) while the worker is a group member, the broker is asked
whether records are waiting: on the partitions it holds (end offsets against what it decided),
or, holding none, on the group's partitions whose committed offsets did not move between two
such checks. If some are, the worker rejoins the group (aiokafka revokes and assigns again, and
Faust's callbacks resume every partition; a static member that is not the leader gets its
partitions back without a rebalance of the others). Idle again soon after a rejoin, it exits
(70) so that its supervisor restarts it: with ``--instance-id`` the restarted worker keeps its
assignment. Each recovery is counted (``streamproc_idle_recoveries_total{action}``) and logged
once; a comment read again is decided again, the same way, never lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from streamproc.worker._handoff import TP
from streamproc.worker._metrics import IDLE_ACTIONS, WorkerMetrics

__all__ = ["IDLE_ACTIONS", "IdleJudge", "IdleSample", "IdleWatchdog", "unread"]

log = logging.getLogger("streamproc.worker")

#: While Faust recovers the strikes table the comment partitions are paused on purpose: a large
#: table may take a while, so only this many times the idle timeout counts as stuck.
RECOVERY_FACTOR = 10.0
#: Idle again within this many idle timeouts of a rejoin: the rejoin did not help, restart.
ESCALATE_FACTOR = 3.0


@dataclass(frozen=True, slots=True)
class IdleSample:
    """What the worker holds and how far it got, at one look."""

    member: bool  # the group coordinator has accepted it (generation and member id)
    held: frozenset[TP]  # comment partitions assigned to it
    positions: Mapping[TP, int | None]  # decided up to, per held partition (None: unknown)
    in_recovery: bool  # Faust is recovering tables: comment partitions paused on purpose


class IdleJudge:
    """The decision, without I/O: :meth:`observe` every look; when it says so, ask the broker
    how many records wait and let :meth:`decide` say what to do."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._key: tuple[Any, ...] | None = None
        self._since = 0.0  # when the current still stretch began
        self._rejoined_at: float | None = None

    def observe(self, now: float, sample: IdleSample) -> bool:
        """True once nothing the worker holds has moved for long enough (time to ask)."""
        if self.timeout <= 0:
            return False
        if not sample.member:  # joining: aiokafka is at work, nothing to judge yet
            self._key = None
            return False
        key = (sample.held, tuple(sorted(sample.positions.items(), key=repr)))
        if key != self._key:
            self._key, self._since = key, now
            return False
        limit = self.timeout * (RECOVERY_FACTOR if sample.in_recovery else 1.0)
        return now - self._since >= limit

    def decide(self, now: float, waiting: int) -> str | None:
        """``waiting`` records the worker should have read: None (nothing waits: a quiet
        topic), ``"rejoin"``, or ``"restart"`` when a rejoin did not help."""
        self._since = now  # the next question comes after another full stretch
        if waiting <= 0:
            return None
        recent = self._rejoined_at is not None and (
            now - self._rejoined_at <= self.timeout * ESCALATE_FACTOR
        )
        if recent:
            return "restart"
        self._rejoined_at = now
        return "rejoin"


def unread(
    previous: Mapping[TP, int] | None, committed: Mapping[TP, int], ends: Mapping[TP, int]
) -> int:
    """Records on partitions whose committed offset has not moved since ``previous`` (the last
    look) while records wait after it: nobody reads those. Nothing on the first look."""
    if previous is None:
        return 0
    total = 0
    for tp, offset in committed.items():
        end = ends.get(tp)
        if end is not None and previous.get(tp) == offset and end > offset:
            total += end - offset
    return total


class _Progress(Protocol):
    def done_until(self, tp: TP) -> int | None: ...


class IdleWatchdog:
    """Runs :class:`IdleJudge` against the app's consumer (called every two seconds)."""

    def __init__(
        self,
        progress: _Progress,
        consumer: Callable[[], Any],
        metrics: WorkerMetrics,
        partitions: Iterable[TP],
        timeout: float,
        on_restart: Callable[[BaseException], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.progress = progress
        self.consumer = consumer  # the app's BatchConsumer (its group seam: _handoff)
        self.metrics = metrics
        self.partitions = sorted(partitions)  # every comment partition of the topology
        self.topics = frozenset(tp.topic for tp in self.partitions)
        self.judge = IdleJudge(timeout)
        self.on_restart = on_restart
        self.clock = clock
        self._baseline: dict[TP, int] | None = None  # group offsets at the last look (held none)
        self._error_logged = -1e9

    async def check(self, app: Any) -> None:
        try:
            await self._check(app)
        except Exception as exc:  # a timer must never stop the worker
            now = self.clock()
            if now - self._error_logged >= 60.0:
                self._error_logged = now
                log.warning("idle-member check failed (will retry): %r", exc)

    async def _check(self, app: Any) -> None:
        consumer = self.consumer()
        held = frozenset(tp for tp in consumer.assignment() if tp.topic in self.topics)
        sample = IdleSample(
            member=consumer.group_member(),
            held=held,
            positions={tp: self.progress.done_until(tp) for tp in held},
            in_recovery=bool(app.in_recovery),
        )
        now = self.clock()
        if not self.judge.observe(now, sample):
            if held:
                self._baseline = None
            return
        if held:
            waiting = await self._waiting_on(consumer, sample)
            what = f"read none of its {len(held)} comment partitions"
        else:
            committed = await consumer.group_committed(self.partitions)
            ends = await consumer.highwaters(*committed)
            waiting = unread(self._baseline, committed, ends)
            self._baseline = committed
            what = "held no comment partition while the group's partitions went unread"
        action = self.judge.decide(self.clock(), waiting)
        if action is None:
            return
        self.metrics.idle_recoveries.labels(action).inc()
        seconds = self.judge.timeout
        if action == "rejoin":
            log.warning(
                "group member %s for %.0f s with %d records waiting: rejoining the group",
                what,
                seconds,
                waiting,
            )
            await consumer.request_rejoin()
        else:
            log.warning(
                "group member %s again after a rejoin (%d records waiting): exiting to be "
                "restarted",
                what,
                waiting,
            )
            self.on_restart(RuntimeError("idle group member after a rejoin"))

    async def _waiting_on(self, consumer: Any, sample: IdleSample) -> int:
        """Records after what the worker decided on the partitions it holds, by the broker's
        end offsets (the fetcher's highwaters stop with it)."""
        held = sorted(sample.held)
        ends = await consumer.highwaters(*held)
        unknown = [tp for tp in held if sample.positions.get(tp) is None]
        known: dict[TP, int] = {}
        if unknown:  # nothing read since the assignment: from the group's offsets, or the start
            known = await consumer.group_committed(unknown)
            missing = [tp for tp in unknown if tp not in known]
            if missing:
                known.update(await consumer.earliest_offsets(*missing))
        total = 0
        for tp in held:
            position = sample.positions.get(tp)
            start = position if position is not None else known.get(tp)
            end = ends.get(tp)
            if start is not None and end is not None and end > start:
                total += end - start
        return total
