"""The seam between Faust's consumer and the worker: fetched comment records, a batch at a time.

Faust delivers each record through its conductor, a queue, a stream iterator and an Event, and
acknowledges it afterwards; offsets are committed from those acknowledgements. Two things in
that path lose comments (faust-streaming 0.15.3, aiokafka 0.14):

- the stream iterator *acknowledges* the events it skips while a rebalance is in progress
  (``Stream._c_aiter``: "We want to ack the filtered out message"), so the commit that follows
  can move past records that were never processed, and nobody reads them again;
- the drain loop counts a jump in offsets as a gap to treat as acknowledged
  (``Consumer._add_gap``), and skips records at or below its "read offset", which a delivery
  that completes after a seek sets back to a stale value.

So for the comment topics this transport's consumer replaces the drain loop
(``Consumer._drain_messages``, which ``Fetcher._fetcher`` runs): it hands each fetch's records
to a :class:`BatchHandler` as one :class:`FetchedBatch`, with the offset interval each partition's
records cover, and never acknowledges anything to Faust. The worker commits offsets itself from
its :class:`~streamproc.worker._ledger.OffsetLedger` through :meth:`BatchConsumer.commit_offsets`.
Records of every other topic (the strikes table's changelog during recovery, standby tables)
take Faust's own path, unchanged. It is also much cheaper: one call per fetch instead of four
framework steps and a task per record.

What this relies on in faust-streaming 0.15.3, each checked by ``tests/unit/test_faust_seams.py``
so that an upgrade that changes it fails a test instead of losing comments:
``Consumer._drain_messages(fetcher)`` is the fetch loop; ``Consumer._wait_next_records(timeout)``
returns ``(records by partition, active partitions)`` and waits while flow is stopped;
``Consumer.callback`` delivers one Faust message to the conductor; ``Consumer._to_message``;
``Consumer.flow_active``; ``Consumer._new_consumer_thread()`` builds the consumer thread, whose
``_create_worker_consumer(transport)`` returns the (not yet started) aiokafka consumer, which
passes its ``_fetch_max_wait_ms`` to its fetcher at start; ``Consumer.perform_seek`` and
``Consumer._seek`` are the only ways Faust moves a position; ``Consumer.wait_empty`` runs when
partitions are revoked and when the consumer stops; ``ThreadDelegateConsumer._thread.call_thread``
runs a call on the thread that owns the aiokafka consumer.

For the idle-member watchdog (:mod:`._idle`), in aiokafka 0.14.0: the consumer's
``_coordinator`` (a ``GroupCoordinator``) holds ``generation`` (-1) and ``member_id`` ("")
until the group accepts it, and its ``_subscription.reassignment_in_progress`` is true from a
join's start (``begin_reassignment``) to its assignment; ``request_rejoin()`` sets the future
its coordination routine waits on, so that it revokes, joins again and assigns (Faust runs its
rebalance callbacks and resumes the flow); ``fetch_committed_offsets(partitions)`` reads the
group's offsets, whoever committed them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from aiokafka.structs import OffsetAndMetadata, TopicPartition
from faust.transport import drivers
from faust.transport.drivers import aiokafka as aiokafka_driver

__all__ = [
    "SCHEME",
    "BatchConsumer",
    "BatchHandler",
    "BatchTransport",
    "FetchedBatch",
    "batch_consumer",
    "register",
    "wire",
]

SCHEME = "streamproc-kafka"
log = logging.getLogger("streamproc.worker")

_HANDLER_ATTRIBUTE = "_streamproc_batch_handler"
TP = Any  # faust's TP and aiokafka's TopicPartition: equal namedtuples (topic, partition)


@dataclass(frozen=True, slots=True)
class FetchedBatch:
    """The comment records of one fetch, in order within each partition.

    ``spans[tp]`` is the offset interval ``[start, end)`` those records cover: ``end`` is one
    past the last record, ``start`` the end of the partition's previous batch (the offsets in
    between hold no record), or the first record's offset after an assignment or a seek.
    """

    records: Sequence[Any]  # aiokafka ConsumerRecord: topic, partition, offset, timestamp (ms)...
    spans: Mapping[TP, tuple[int, int]]


class BatchHandler(Protocol):
    """What the consumer hands its batches to (the worker's pipeline)."""

    topics: frozenset[str]

    def positioned(self, tp: TP, position: int) -> None:
        """``tp`` is read from ``position`` on again: nothing before it is left to decide."""

    async def handle(self, batch: FetchedBatch) -> None:
        """Take a batch; may wait (back-pressure) but must not wait for its deliveries."""

    async def drain(self, timeout: float) -> bool:
        """Wait until every batch taken so far is delivered; False if ``timeout`` ran out."""

    def revoked(self, tps: set[TP]) -> None:
        """These partitions belong to another consumer now."""

    async def commit(self) -> None:
        """Commit what is done, now."""


#: How long the broker may hold a fetch that finds nothing new (Faust sets 1,500 ms). aiokafka
#: sends one fetch at a time per broker, leaving out the partitions whose records are still
#: buffered: when every comment partition has some, the fetch asks only for idle ones (the
#: reviews topic) and the broker holds it for the whole wait, while comments pile up. That
#: stalled the worker in bursts ~1.5 s apart at half its maximum rate (p50 1.5-1.9 s).
FETCH_MAX_WAIT_MS = 10


class BatchConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread, with a short fetch wait (see FETCH_MAX_WAIT_MS)."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class BatchConsumer(aiokafka_driver.Consumer):
    """Faust's aiokafka consumer, with comment records handed over in batches (see above)."""

    #: Seconds that revocation or shutdown waits for batches in flight before committing.
    drain_timeout: ClassVar[float] = 15.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._positions: dict[TP, int] = {}  # next offset the fetcher returns, per partition
        self._commit_lock = asyncio.Lock()
        self._commit_error_logged = 0.0

    def _new_consumer_thread(self) -> BatchConsumerThread:
        return BatchConsumerThread(self, loop=self.loop, beacon=self.beacon)

    @property
    def handler(self) -> BatchHandler | None:
        handler: BatchHandler | None = getattr(self.app, _HANDLER_ATTRIBUTE, None)
        return handler

    # --- positions: any seek makes what we knew of a partition's position void ------------

    async def perform_seek(self) -> None:
        # Faust seeks every assigned partition to its committed offset (after each rebalance,
        # and when a fetch came back during one): the hand-off reads from there on.
        self._positions.clear()
        await super().perform_seek()
        handler = self.handler
        if handler is not None:
            assigned = self.assignment()
            for tp, offset in list(self._committed_offset.items()):
                if offset is not None and tp in assigned and tp.topic in handler.topics:
                    handler.positioned(tp, offset)

    async def _seek(self, partition: TP, offset: int) -> None:
        self._positions.pop(partition, None)
        await super()._seek(partition, offset)

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        for tp in partitions:
            self._positions.pop(tp, None)
        await super().seek_wait(partitions)

    # --- the drain loop ---------------------------------------------------------------------

    async def _drain_messages(self, fetcher: Any) -> None:
        handler = self.handler
        if handler is None:  # not wired for batches: Faust's own loop
            await super()._drain_messages(fetcher)
            return
        self._positions.clear()  # (re)started after a rebalance: positions may have moved
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                records, _active = await self._wait_next_records(1.0)
                await asyncio.sleep(0)
                if not records or self.should_stop:
                    continue
                # Every record fetched is handed on, also when a rebalance began meanwhile:
                # the fetch position has moved past it, and a partition without a committed
                # offset (a new group, a changelog in recovery) would never be read again if
                # it were dropped, as Faust's getmany drops it. A comment of a partition that
                # now belongs to another worker is decided twice, the same way.
                batch = await self._split(records, handler)
                if batch is not None:
                    await handler.handle(batch)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise

    async def _split(self, records: Mapping[TP, list[Any]], handler: BatchHandler) -> Any:
        """The comment records as one batch; every other record through Faust's path."""
        batch: list[Any] = []
        spans: dict[TP, tuple[int, int]] = {}
        positions = self._positions
        topics = handler.topics
        for tp, fetched in records.items():
            if not fetched:
                continue
            if tp.topic in topics:
                first, end = fetched[0].offset, fetched[-1].offset + 1
                start = positions.get(tp)
                if start is None or start > first:
                    # The first records since an assignment or a seek. The consumer reads a
                    # partition from its position on, and every position it is given is done
                    # (a committed offset, the log start, the ledger's own): so is everything
                    # before the first record it returns.
                    handler.positioned(tp, first)
                    start = first
                positions[tp] = end
                spans[tp] = (start, end)
                batch.extend(fetched)
            else:
                await self._deliver_to_faust(tp, fetched)
        return FetchedBatch(batch, spans) if batch else None

    async def _deliver_to_faust(self, tp: TP, fetched: list[Any]) -> None:
        """Faust's per-message path, as its drain loop takes it (no acknowledgements: these
        topics are Faust's own, and Faust does not acknowledge their records)."""
        read_offset = self._read_offset
        for record in fetched:
            offset = record.offset
            last = read_offset[tp]
            if last is not None and offset < last:
                continue  # already delivered (a re-read after a seek)
            await self.callback(self._to_message(tp, record))
            read_offset[tp] = offset

    # --- revocation and shutdown --------------------------------------------------------

    async def wait_empty(self) -> None:
        # Called by Faust when partitions are revoked and when the consumer stops: finish the
        # batches in flight and commit what they decided, so that the next owner of these
        # partitions starts where this one stopped (a bounded wait: past it, it re-reads).
        handler = self.handler
        if handler is not None:
            if not await handler.drain(self.drain_timeout):
                log.warning(
                    "batches still in flight after %.0f s; their comments will be decided again",
                    self.drain_timeout,
                )
            await handler.commit()
        await super().wait_empty()

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        await super().on_partitions_revoked(revoked)
        for tp in revoked:
            self._positions.pop(tp, None)
        if self.handler is not None:
            self.handler.revoked(set(revoked))

    # --- commits --------------------------------------------------------------------------

    async def commit_offsets(self, offsets: Mapping[TP, int], timeout: float = 10.0) -> bool:
        """Commit ``offsets`` (the next offset to read, per partition) for the partitions still
        assigned. False, logged at most once a minute, if the broker refused or timed out:
        the offsets stay uncommitted and the next commit carries them."""
        assigned = self.assignment()
        wanted = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not wanted:
            return True
        async with self._commit_lock:
            try:
                await asyncio.wait_for(self._thread.call_thread(self._commit_now, wanted), timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, rebalancing, unreachable: commit again later
                self._log_commit_error(exc)
                return False
        self._committed_offset.update(wanted)
        return True

    async def _commit_now(self, offsets: Mapping[TP, int]) -> None:
        consumer = self._thread._ensure_consumer()
        await consumer.commit(
            {
                TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(o, "")
                for tp, o in offsets.items()
            }
        )

    # --- the group, for the idle-member watchdog (see the module docstring) ---------------

    def group_member(self) -> bool:
        """True while the group coordinator has accepted this consumer (a generation and a
        member id) and it is not joining again, also while it holds no partition."""
        consumer = self._thread._consumer
        coordinator = getattr(consumer, "_coordinator", None)
        if consumer is None or coordinator is None:
            return False
        if consumer._subscription.reassignment_in_progress:
            return False  # between revoking and the next assignment: aiokafka is at work
        return bool(coordinator.generation > 0 and coordinator.member_id)

    async def request_rejoin(self) -> None:
        """Have aiokafka revoke, join the group again and assign: Faust's callbacks pause and
        resume every partition, the fetcher starts from the committed offsets. A static member
        (``group.instance.id``) that is not the leader gets its assignment back without a
        rebalance of the others."""

        async def rejoin() -> None:
            self._thread._ensure_consumer()._coordinator.request_rejoin()

        await self._thread.call_thread(rejoin)

    async def group_committed(self, tps: Sequence[TP], timeout: float = 5.0) -> dict[TP, int]:
        """The group's committed offsets of ``tps`` (whoever committed them); partitions
        without one are left out. Raises ``TimeoutError`` while the coordinator is unreachable
        (aiokafka retries that for ever)."""

        async def fetch() -> Any:
            coordinator = self._thread._ensure_consumer()._coordinator
            wanted = [TopicPartition(tp.topic, tp.partition) for tp in tps]
            return await coordinator.fetch_committed_offsets(wanted)

        found = await asyncio.wait_for(self._thread.call_thread(fetch), timeout)
        return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}

    def _log_commit_error(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._commit_error_logged >= 60.0:
            self._commit_error_logged = now
            log.warning("committing offsets failed (will retry): %r", exc)


class BatchTransport(aiokafka_driver.Transport):
    Consumer: ClassVar[type] = BatchConsumer


def register() -> None:
    """Make ``streamproc-kafka://host:port`` broker URLs use this transport."""
    drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:BatchTransport"


def wire(app: Any, handler: BatchHandler) -> None:
    """Have ``app``'s consumer (created later, by Faust) hand its batches to ``handler``."""
    setattr(app, _HANDLER_ATTRIBUTE, handler)


def batch_consumer(app: Any) -> BatchConsumer:
    """``app``'s consumer, which must be this transport's."""
    consumer = app.consumer
    if not isinstance(consumer, BatchConsumer):
        raise TypeError(f"the app's consumer is a {type(consumer).__name__}, not a BatchConsumer")
    return consumer
