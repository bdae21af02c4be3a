"""Reading compacted topics (cursors, the employee directory, outcomes): every key's latest
value, from the beginning of the topic to its end as it was when reading started; and
following one as it changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from streamproc.kafka._settings import KafkaSettings

__all__ = ["follow_topic", "read_to_end"]

Apply = Callable[[bytes, bytes | None], None]


async def _drain(consumer: AIOKafkaConsumer, tps: list[TopicPartition], apply: Apply) -> None:
    await consumer.seek_to_beginning(*tps)
    ends = await consumer.end_offsets(tps)
    pending = {tp for tp in tps if ends[tp] > 0}
    while pending:
        batch = await consumer.getmany(*pending, timeout_ms=500, max_records=5000)
        for records in batch.values():
            for record in records:
                if record.key is not None:
                    apply(record.key, record.value)
        for tp in list(pending):
            if await consumer.position(tp) >= ends[tp]:
                pending.discard(tp)


async def read_to_end(
    settings: KafkaSettings, topic: str, apply: Apply, partitions: Iterable[int] | None = None
) -> None:
    """Call ``apply(key, value)`` for every record of ``topic`` (or of some of its partitions)
    up to the end offsets at the start; a tombstone has ``value`` None."""
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        numbers = (
            sorted(partitions)
            if partitions is not None
            else sorted(consumer.partitions_for_topic(topic) or [])
        )
        if partitions is None and not numbers:
            numbers = sorted(await _partitions(consumer, topic))
        tps = [TopicPartition(topic, p) for p in numbers]
        consumer.assign(tps)
        await _drain(consumer, tps, apply)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise LookupError(f"topic {topic} does not exist (run `streamproc topics apply`)")


async def follow_topic(
    settings: KafkaSettings, topic: str, apply: Apply, loaded: asyncio.Event
) -> None:
    """Apply every record of ``topic`` from the beginning, set ``loaded`` once it has caught up
    with the end, and go on applying changes until cancelled."""
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(tps)
        await _drain(consumer, tps, apply)
        loaded.set()
        while True:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                for record in records:
                    if record.key is not None:
                        apply(record.key, record.value)
    finally:
        await consumer.stop()
