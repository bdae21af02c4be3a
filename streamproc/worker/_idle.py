"""A worker that is a member of its group but reads nothing: noticed and recovered.

The fetch watchdog (:mod:`._watchdog`) reads again a partition that stopped while the consumer
fetches. It cannot see a worker on which *every* partition stands still: the flow stopped and
the partitions paused by a rebalance whose callbacks did not resume them (Faust's
``Recovery.on_rebalance``, ``_resume_streams`` and ``on_recovery_completed`` return early when
they see a newer generation, counting on the next rebalance to resume), a recovery that never
ends, a fetcher that returns nothing; nor a worker left holding no
partition while the group's partitions are read by nobody. The lag gauges do not show it
either: the highwaters they use come from the fetches that stopped.

So every two seconds :class:`IdleJudge` looks at what the worker holds and how far it has
decided each partition. Once nothing of it has moved for ``timeout`` seconds (``10 x timeout``
while Faust recovers the strikes table) while the worker is a group member, it reads from the
broker where each partition ends, and again a ``timeout`` later: records that were there at
the first look and are still undecided at the second, on partitions that did not move, mean
the worker reads nothing (a comment that arrives on a quiet topic just before a look is
decided long before the next). Holding no partition, it makes the same two looks at the
group's committed offsets: partitions nobody reads. Then the worker rejoins the group
(aiokafka revokes and assigns again, and Faust's callbacks resume every partition; a static
member that is not the leader gets its partitions back without a rebalance of the others).
Idle again soon after a rejoin, it exits (70) so that its supervisor restarts it: with
``--instance-id`` the restarted worker keeps its assignment. Each recovery is counted
(``streamproc_idle_recoveries_total{action}``) and logged once; a failed look (the broker
away) starts the judgement again. A comment read again is decided again, the same way.
"""

from __future__ import annotations

import asyncio
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
#: Idle again within this many idle timeouts of a rejoin (a new stretch takes two): the rejoin
#: did not help, restart.
ESCALATE_FACTOR = 4.0
#: Seconds a look may wait for the broker (aiokafka would wait its request timeout, 90 s, and
#: hold up the lag timer meanwhile).
LOOK_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class IdleSample:
    """What the worker holds and how far it got, at one look."""

    member: bool  # the group coordinator has accepted it (generation and member id)
    held: frozenset[TP]  # comment partitions assigned to it
    positions: Mapping[TP, int | None]  # decided up to, per held partition (None: unknown)
    in_recovery: bool  # Faust is recovering tables: comment partitions paused on purpose


class IdleJudge:
    """The decision, without I/O. :meth:`observe` at every look; once it says so, read from the
    broker where each partition stands and where it ends, and let :meth:`decide` say what to
    do; :meth:`failed` if the broker could not say."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._key: tuple[Any, ...] | None = None
        self._since = 0.0  # when the current still stretch began, or the last look
        self._baseline: tuple[Mapping[TP, int], Mapping[TP, int]] | None = None
        self._rejoined_at: float | None = None

    def observe(self, now: float, sample: IdleSample) -> bool:
        """True once nothing the worker holds has moved for long enough (time to look)."""
        if self.timeout <= 0:
            return False
        if not sample.member:  # joining: aiokafka is at work, nothing to judge yet
            self._key, self._baseline = None, None
            return False
        key = (sample.held, tuple(sorted(sample.positions.items(), key=repr)))
        if key != self._key:
            self._key, self._since, self._baseline = key, now, None
            return False
        limit = self.timeout * (RECOVERY_FACTOR if sample.in_recovery else 1.0)
        return now - self._since >= limit

    def decide(
        self, now: float, positions: Mapping[TP, int], ends: Mapping[TP, int]
    ) -> tuple[str | None, int]:
        """What to do, and how many records nobody read since the last look: records that were
        already there then, on partitions that have not moved since (on a quiet topic a comment
        may arrive just before a look: it must still be unread a whole stretch later). The
        first look of a stretch only takes the baseline. ``"rejoin"``, or ``"restart"`` when a
        rejoin did not help; None while nothing is stuck."""
        waiting = unread(self._baseline, positions, ends)
        self._since, self._baseline = now, (dict(positions), dict(ends))
        if waiting <= 0:
            return None, 0
        self._baseline = None  # after a recovery, judge from scratch
        recent = self._rejoined_at is not None and (
            now - self._rejoined_at <= self.timeout * ESCALATE_FACTOR
        )
        if recent:
            return "restart", waiting
        self._rejoined_at = now
        return "rejoin", waiting

    def failed(self, now: float) -> None:
        """The broker did not answer (an outage): judge again from scratch once it does."""
        self._since, self._baseline = now, None


def unread(
    baseline: tuple[Mapping[TP, int], Mapping[TP, int]] | None,
    positions: Mapping[TP, int],
    ends: Mapping[TP, int],
) -> int:
    """Records that were waiting at the last look (``baseline``: positions and end offsets
    then) on partitions whose position has not moved since. Nothing without a baseline."""
    if baseline is None:
        return 0
    then, ends_then = baseline
    total = 0
    for tp, position in positions.items():
        end = min(ends_then.get(tp, 0), ends.get(tp, 0))
        if then.get(tp) == position and end > position:
            total += end - position
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
        judge = self.judge
        if not judge.observe(self.clock(), sample):
            return
        try:
            if held:
                positions = await self._positions(consumer, sample)
                what = f"read none of its {len(held)} comment partitions"
            else:  # the group's offsets: does anybody read them?
                positions = await consumer.group_committed(self.partitions, LOOK_TIMEOUT)
                what = "held no comment partition while the group's went unread"
            ends = await asyncio.wait_for(consumer.highwaters(*positions), LOOK_TIMEOUT)
        except Exception:
            judge.failed(self.clock())
            raise
        action, waiting = judge.decide(self.clock(), positions, ends)
        if action is None:
            return
        self.metrics.idle_recoveries.labels(action).inc()
        if action == "rejoin":
            log.warning(
                "group member %s for over %.0f s, %d records waiting: rejoining the group",
                what,
                2 * judge.timeout,
                waiting,
            )
            await consumer.request_rejoin()
        else:
            log.warning(
                "group member %s again after a rejoin, %d records waiting: exiting to be restarted",
                what,
                waiting,
            )
            self.on_restart(RuntimeError("idle group member after a rejoin"))

    async def _positions(self, consumer: Any, sample: IdleSample) -> dict[TP, int]:
        """Where each held partition stands: decided up to, or (nothing read since the
        assignment) the group's committed offset, or the partition's first offset."""
        out = {tp: p for tp, p in sample.positions.items() if p is not None}
        unknown = sorted(tp for tp in sample.held if tp not in out)
        if unknown:
            out.update(await consumer.group_committed(unknown, LOOK_TIMEOUT))
            missing = [tp for tp in unknown if tp not in out]
            if missing:
                first = consumer.earliest_offsets(*missing)
                out.update(await asyncio.wait_for(first, LOOK_TIMEOUT))
        return out
