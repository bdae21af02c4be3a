"""Decisions and dead letters out to Kafka a batch at a time (a seam on aiokafka and Faust).

Sending each record through ``producer.send`` costs an await, a partitioner call and a lookup
in aiokafka's accumulator per record: about an eighth of the worker's time. The pipeline
instead queues each record here with a plain call (:meth:`BatchPublisher.add`) and calls
:meth:`~BatchPublisher.flush` at the end of every processed batch, and while it processes a
long one at least every ``flush_every`` seconds, so that a large fetch does not hold its first
decisions back. A flush fills one aiokafka ``BatchBuilder`` per partition (more only if one is
full) and submits each with ``send_batch``; it returns one delivery future per submitted batch,
which the runner awaits before it counts the fetched records as done. The commit rule is
unchanged: an input offset is committed only once every output of its batch is acknowledged.

Records go to the partition aiokafka's (and Kafka's) default partitioner gives their key, as
``send`` would (:func:`key_partition`: the same murmur2 hash in native code, since aiokafka's
pure-Python one costs ~2.5 µs per record); a record too large for a produce request raises
``MessageSizeTooLargeError`` at :meth:`add`, as ``send`` does, so that the pipeline can
dead-letter it instead.

What this relies on, in aiokafka 0.14.0 and faust-streaming 0.15.3 (checked by
``tests/unit/test_faust_seams.py``): Faust's aiokafka ``Producer._ensure_producer()`` returns the
started ``AIOKafkaProducer`` that Faust built from the app's ``producer_*`` settings (acks,
batch size, request size, credentials); ``AIOKafkaProducer.create_batch()``,
``send_batch(batch, topic, *, partition)`` (which waits while the partition already has a
batch queued, so batches of a partition go out in order) and ``partitions_for(topic)``;
``BatchBuilder.append(timestamp=, key=, value=, headers=)`` returning None when full (the first
record always fits), and a closed builder being sent without waiting for the linger time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from murmurhash2 import murmurhash2

__all__ = ["BatchPublisher", "Outbox", "faust_producer", "key_partition"]

#: The seed of the murmur2 hash in Kafka's default partitioner (Java's ``Utils.murmur2``).
KAFKA_MURMUR2_SEED: Final = 0x9747B28C

Headers = list[tuple[str, bytes]]


class Outbox(Protocol):
    """Where the pipeline puts its outputs (the worker's :class:`BatchPublisher`)."""

    def add(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None
    ) -> None:
        """Queue a record; raises ``MessageSizeTooLargeError`` if Kafka cannot take it."""

    def due(self) -> bool:
        """True when records have waited ``flush_every`` seconds or more."""

    async def flush(self) -> list[Awaitable[Any]]:
        """Send what is queued; one delivery future per batch sent."""


def key_partition(key: bytes | None, partitions: Sequence[int]) -> int:
    """The partition Kafka's default partitioner (and aiokafka's) gives ``key`` among
    ``partitions`` (sorted): murmur2 of the key, positive, modulo their number; a random one
    for no key."""
    if key is None:
        return random.choice(partitions)
    return partitions[(murmurhash2(key, KAFKA_MURMUR2_SEED) & 0x7FFFFFFF) % len(partitions)]


def faust_producer(app: Any) -> AIOKafkaProducer:
    """The aiokafka producer inside ``app``'s started Faust producer (the seam, see above)."""
    producer: AIOKafkaProducer = app.producer._ensure_producer()
    return producer


class BatchPublisher:
    """The worker's :class:`Outbox`: one aiokafka batch per partition and flush."""

    def __init__(
        self,
        producer: Callable[[], AIOKafkaProducer],
        max_request_size: int,
        flush_every: float = 0.005,
    ) -> None:
        self._producer = producer  # looked up at the first flush: Faust starts it later
        self.max_request_size = max_request_size
        self.flush_every = flush_every
        self._queued: dict[str, list[tuple[bytes | None, bytes | None, Headers]]] = {}
        self._since: float | None = None  # when the oldest queued record was added

    def add(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None
    ) -> None:
        headers = headers or []
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
        if size > self.max_request_size:
            raise MessageSizeTooLargeError(f"a record of {size} bytes")
        queue = self._queued.get(topic)
        if queue is None:
            queue = self._queued[topic] = []
        queue.append((key, value, headers))
        if self._since is None:
            self._since = time.perf_counter()

    def due(self) -> bool:
        since = self._since
        return since is not None and time.perf_counter() - since >= self.flush_every

    async def flush(self) -> list[Awaitable[Any]]:
        if not self._queued:
            return []
        queued, self._queued, self._since = self._queued, {}, None
        producer = self._producer()
        partition_of = key_partition
        futures: list[Awaitable[Any]] = []
        for topic, records in queued.items():
            partitions = sorted(await producer.partitions_for(topic))
            open_: dict[int, Any] = {}
            ready: list[tuple[int, Any]] = []  # full builders, in the order they filled
            for key, value, headers in records:
                partition = partition_of(key, partitions)
                builder = open_.get(partition)
                if builder is None:
                    builder = open_[partition] = producer.create_batch()
                if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
                    ready.append((partition, builder))
                    builder = open_[partition] = producer.create_batch()
                    builder.append(timestamp=None, key=key, value=value, headers=headers)
            # A partition's full builders precede its open one: its records stay in order.
            for partition, builder in [*ready, *open_.items()]:
                builder.close()  # complete: sent at once, not after the linger time
                futures.append(await producer.send_batch(builder, topic, partition=partition))
        return futures
