"""Consumer lag for the metrics, and a watchdog for partitions the fetcher stops reading.

Every two seconds: the lag of each assigned comment partition (its end offset minus what is
decided), and, for a partition with records waiting that has not moved for ``stall_seconds``
while the consumer is fetching, a seek back to its first undecided offset so that the fetcher
reads it again (faust-streaming issues report partitions left unfetched after a rebalance; a
re-read record is decided again, never lost). A timer must never stop the worker: any error is
logged once per minute and the next round tries again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any, Protocol

from streamproc.worker._handoff import TP
from streamproc.worker._metrics import WorkerMetrics

__all__ = ["FetchWatchdog"]

log = logging.getLogger("streamproc.worker")


class _Progress(Protocol):
    def done_until(self, tp: TP) -> int | None: ...


class FetchWatchdog:
    def __init__(
        self,
        progress: _Progress,
        metrics: WorkerMetrics,
        topics: Iterable[str],
        stall_seconds: float = 10.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.progress = progress
        self.metrics = metrics
        self.topics = frozenset(topics)
        self.stall_seconds = stall_seconds
        self.clock = clock
        self._seen: dict[TP, tuple[int, float]] = {}  # position, and since when
        self._error_logged = -1e9
        self._shown: set[tuple[str, str]] = set()  # (topic, partition) lag series exported

    async def check(self, app: Any) -> None:
        try:
            await self._check(app)
        except Exception as exc:
            now = self.clock()
            if now - self._error_logged >= 60.0:
                self._error_logged = now
                log.warning("lag check failed (will retry): %r", exc)

    async def _check(self, app: Any) -> None:
        consumer = app.consumer
        assigned = [tp for tp in consumer.assignment() if tp.topic in self.topics]
        self.metrics.assigned_partitions.set(len(assigned))
        lags = {}
        for tp in assigned:
            position = self.progress.done_until(tp)
            highwater = consumer.highwater(tp)
            if position is None or highwater is None:
                continue  # just assigned: nothing known yet
            lags[tp] = (position, max(highwater - position, 0))
        for tp, (_, lag) in lags.items():
            self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
        # A partition that moved to another worker is that worker's to report: keeping its
        # last value here would show lag nobody has (summed across workers, counted twice).
        held = {(tp.topic, str(tp.partition)) for tp in assigned}
        for shown in set(self._shown) - held:
            with contextlib.suppress(KeyError):
                self.metrics.consumer_lag.remove(*shown)
        self._shown = {(tp.topic, str(tp.partition)) for tp in lags} | (self._shown & held)
        fetching = not app.in_recovery and getattr(consumer, "flow_active", True)
        for tp in self.stalled(lags, fetching):
            log.warning("no progress on %s with records waiting: reading it again", tp)
            self.metrics.stalls.labels(tp.topic).inc()
            await consumer.seek(tp, lags[tp][0])

    def stalled(self, lags: dict[TP, tuple[int, int]], fetching: bool) -> list[TP]:
        """Partitions whose position has not moved for ``stall_seconds`` with records waiting."""
        now = self.clock()
        out = []
        for tp, (position, lag) in lags.items():
            last = self._seen.get(tp)
            if last is None or last[0] != position or lag == 0 or not fetching:
                self._seen[tp] = (position, now)
            elif now - last[1] > self.stall_seconds:
                out.append(tp)
                self._seen[tp] = (position, now)
        for tp in set(self._seen) - set(lags):
            del self._seen[tp]
        return out
