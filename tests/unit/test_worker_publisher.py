"""The worker's publisher: outputs queued without an await, sent as one aiokafka batch per
partition, on the partitions Kafka's default partitioner gives their keys, in order."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatch

from streamproc.worker._publisher import BatchPublisher, key_partition

PARTITIONS = 6


class RecordingProducer(AIOKafkaProducer):  # type: ignore[misc]
    """A real producer (its real batch builders), never started: submitted batches are kept."""

    def __init__(self, max_batch_size: int = 16384) -> None:
        super().__init__(max_batch_size=max_batch_size)
        self.batches: list[tuple[str, int, list[tuple[bytes | None, bytes | None, Any]]]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(PARTITIONS))

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[None]:
        assert batch.closed()  # complete: not held back for the linger time
        records = [
            (r.key, r.value, list(r.headers)) for r in DefaultRecordBatch(bytes(batch._build()))
        ]
        self.batches.append((topic, partition, records))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def kafka_partition(key: bytes) -> int:
    return int(DefaultPartitioner()(key, list(range(PARTITIONS)), list(range(PARTITIONS))))


async def test_one_batch_per_partition_on_the_keys_partitions_in_order() -> None:
    producer = RecordingProducer()
    publisher = BatchPublisher(lambda: producer, max_request_size=1_000_000)
    keys = [f"c{i}".encode() for i in range(200)]
    for key in keys:
        publisher.add("moderation.actions", key, b"decision of " + key)
    publisher.add("moderation.deadletter", b"k", b"copy", [("streamproc.error", b"too_large")])
    assert producer.batches == []  # nothing leaves before the flush
    futures = await publisher.flush()
    assert len(futures) == len(producer.batches)
    await asyncio.gather(*futures)
    actions = [b for b in producer.batches if b[0] == "moderation.actions"]
    assert sorted(p for _, p, _ in actions) == list(range(PARTITIONS))  # one batch each
    for _, partition, records in actions:
        sent = [key for key, _, _ in records]
        assert sent == [k for k in keys if kafka_partition(k) == partition]  # in order
        assert all(value == b"decision of " + key for key, value, _ in records)
    ((_, _, [dead]),) = [b for b in producer.batches if b[0] == "moderation.deadletter"]
    assert dead == (b"k", b"copy", [("streamproc.error", b"too_large")])
    assert await publisher.flush() == []  # nothing queued: nothing sent


async def test_a_full_batch_is_followed_by_another_of_the_same_partition_in_order() -> None:
    producer = RecordingProducer(max_batch_size=1024)
    publisher = BatchPublisher(lambda: producer, max_request_size=1_000_000)
    key = b"same-author"
    values = [b"%04d" % i + b"x" * 200 for i in range(20)]
    for value in values:
        publisher.add("moderation.actions", key, value)
    await asyncio.gather(*await publisher.flush())
    assert len(producer.batches) > 1
    assert {p for _, p, _ in producer.batches} == {kafka_partition(key)}
    assert [v for _, _, records in producer.batches for _, v, _ in records] == values


async def test_a_record_too_large_for_a_request_is_refused_when_queued() -> None:
    publisher = BatchPublisher(RecordingProducer, max_request_size=1000)
    with pytest.raises(MessageSizeTooLargeError):
        publisher.add("moderation.actions", b"k", b"x" * 1000)
    assert not publisher.due() and await publisher.flush() == []


async def test_queued_records_are_due_once_they_waited_the_flush_interval() -> None:
    patient = BatchPublisher(RecordingProducer, max_request_size=1_000_000, flush_every=3600)
    patient.add("moderation.actions", b"k", b"v")
    assert not patient.due()
    eager = BatchPublisher(RecordingProducer, max_request_size=1_000_000, flush_every=0.0)
    assert not eager.due()  # nothing queued
    eager.add("moderation.actions", b"k", b"v")
    assert eager.due()
    await eager.flush()
    assert not eager.due()


# Kafka's own test vectors for its murmur2 (Java's UtilsTest.testMurmur2), as signed ints.
KAFKA_MURMUR2_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize(("key", "signed"), KAFKA_MURMUR2_VECTORS.items())
def test_key_partition_hashes_as_kafka_does(key: bytes, signed: int) -> None:
    for count in (1, 3, 6, 7, 30, 64):
        partitions = list(range(count))
        assert key_partition(key, partitions) == (signed & 0x7FFFFFFF) % count


def test_key_partition_agrees_with_aiokafkas_partitioner_on_random_keys() -> None:
    rng = random.Random(2026)
    partitioner = DefaultPartitioner()
    for _ in range(20_000):
        key = rng.randbytes(rng.randrange(0, 70))
        partitions = sorted(rng.sample(range(100), rng.randrange(1, 40)))
        assert key_partition(key, partitions) == partitioner(key, partitions, partitions)


def test_key_partition_without_a_key_picks_one_of_the_partitions() -> None:
    picked = {key_partition(None, [2, 5, 9]) for _ in range(200)}
    assert picked == {2, 5, 9}
