"""Batches from the consumer through the pipeline, with their deliveries tracked to the commit.

The consumer hands a batch over; the runner decides it at once (strikes change in order) and
sends its decisions, then lets the next batch in while the broker acknowledges the first: a few
batches are in flight at a time, which keeps the CPU busy during the produce round trip. When
every record of a batch is on the broker, its offset intervals go into the ledger; a timer and
every revocation commit what the ledger says is done. A failed delivery stops the process
without committing, so that the batch is read and decided again after the restart.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from streamproc.worker._handoff import TP, BatchConsumer, FetchedBatch
from streamproc.worker._ledger import OffsetLedger
from streamproc.worker._pipeline import BatchProcessor
from streamproc.worker._publisher import Outbox

__all__ = ["BatchRunner", "die"]


def die(exc: BaseException) -> None:
    """Stop at once, committing nothing more: what was not committed is decided again."""
    print(f"streamproc worker: fatal error, exiting: {exc!r}", file=sys.stderr, flush=True)
    os._exit(70)


class BatchRunner:
    """The worker's :class:`~streamproc.worker._handoff.BatchHandler`."""

    def __init__(
        self,
        processor: BatchProcessor,
        outbox: Outbox,
        topics: frozenset[str],
        consumer: Callable[[], BatchConsumer],
        *,
        max_in_flight: int = 4,
        on_fatal: Callable[[BaseException], None] = die,
    ) -> None:
        self.processor = processor
        self.outbox = outbox
        self.topics = topics
        self.max_in_flight = max_in_flight
        self.on_fatal = on_fatal
        self.ledger: OffsetLedger[TP] = OffsetLedger()
        self.consumer = consumer
        self._in_flight: set[asyncio.Future[None]] = set()

    # --- BatchHandler -----------------------------------------------------------------------

    def positioned(self, tp: TP, position: int) -> None:
        self.ledger.start(tp, position)

    async def handle(self, batch: FetchedBatch) -> None:
        try:
            futures, stamps = await self.processor.process(batch.records, self.outbox)
        except asyncio.CancelledError:
            raise  # shutting down or rebalancing: nothing of it counts as done
        except Exception as exc:  # the producer refused: the batch must be read again
            self.on_fatal(exc)
            return
        task = asyncio.ensure_future(self._complete(batch, futures, stamps))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        while len(self._in_flight) >= self.max_in_flight:
            await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)

    async def _complete(self, batch: FetchedBatch, futures: list[Any], stamps: list[int]) -> None:
        try:
            await asyncio.gather(*futures)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.on_fatal(exc)
            return
        ledger = self.ledger
        for tp, (start, end) in batch.spans.items():
            ledger.done(tp, start, end)
        self.processor.delivered(stamps)

    async def drain(self, timeout: float) -> bool:
        pending = set(self._in_flight)
        if not pending:
            return True
        _, still = await asyncio.wait(pending, timeout=timeout)
        return not still

    def revoked(self, tps: set[TP]) -> None:
        self.ledger.forget(tps)

    async def commit(self) -> None:
        consumer = self.consumer()
        offsets = self.ledger.committable(consumer.assignment())
        if offsets and await consumer.commit_offsets(offsets):
            self.ledger.committed(offsets)

    # --- for the lag gauge and the watchdog -------------------------------------------------

    def done_until(self, tp: TP) -> int | None:
        return self.ledger.done_until(tp)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)
