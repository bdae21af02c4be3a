"""Policy packs from the compacted policy topic: read at start-up, then watched for changes.

Every worker reads the whole topic itself (no consumer group: a policy is a broadcast, not work
to share). A new pack is validated and compiled in a thread, off the event loop's hot path, and
swapped in whole; a pack that fails validation is logged and counted, and the engine in force
stays. The compiling thread pauses (``Pacer``) so that it takes at most a third of the
interpreter while the stream goes on: a 100k-term pack is seconds of Python, and two busy
threads would otherwise share the interpreter lock about evenly, halving the stream's rate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from streamproc.core import Engine, PackError, load_pack, parse_pack, pausing, unbundle_pack
from streamproc.kafka import KafkaSettings
from streamproc.worker import _heap
from streamproc.worker._metrics import WorkerMetrics
from streamproc.worker._pipeline import EngineHolder

__all__ = ["Pacer", "PolicyWatcher", "engine_from_bundle"]

log = logging.getLogger("streamproc.policy")


def engine_from_bundle(data: bytes) -> Engine:
    """Validate and compile a published pack (raises PackError)."""
    return Engine(parse_pack(unbundle_pack(data)))


class Pacer:
    """Called between chunks of a compilation: sleeps so that the calling thread uses at most
    ``share`` of the time (its own CPU time against the pauses), in pauses of at most 50 ms."""

    def __init__(self, share: float = 1 / 3, clock: Callable[[], float] = time.thread_time):
        self.share = share
        self.clock = clock
        self.mark = clock()
        self.paused = 0.0

    def __call__(self) -> None:
        worked = self.clock() - self.mark
        if worked >= 0.002:
            pause = min(worked * (1 - self.share) / self.share, 0.05)
            time.sleep(pause)
            self.paused += pause
            self.mark = self.clock()


class PolicyWatcher:
    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        metrics: WorkerMetrics,
        fallback: Path | None = None,
    ) -> None:
        self.kafka = kafka
        self.partition = TopicPartition(topic, 0)
        self.metrics = metrics
        self.fallback = fallback
        self.next_offset = 0
        self.holder: EngineHolder | None = None

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            **self.kafka.client_kwargs(), group_id=None, enable_auto_commit=False
        )

    async def load(self) -> EngineHolder:
        """The newest valid pack on the topic, or the fallback pack (the bundled default)."""
        consumer = self._consumer()
        await consumer.start()
        latest: Engine | None = None
        try:
            consumer.assign([self.partition])
            await consumer.seek_to_beginning(self.partition)
            end = (await consumer.end_offsets([self.partition]))[self.partition]
            while (await consumer.position(self.partition)) < end:
                batch = await consumer.getmany(self.partition, timeout_ms=1000)
                for record in batch.get(self.partition, []):
                    engine = self._compile(record.value, record.offset)
                    latest = engine or latest
            self.next_offset = end
        finally:
            await consumer.stop()
        if latest is None:
            latest = Engine(load_pack(self.fallback))
            log.warning("no policy on %s: using %s", self.partition.topic, latest.policy_version)
        self.holder = EngineHolder(latest)
        self.metrics.set_policy(latest.policy_version)
        return self.holder

    def _compile(self, data: bytes | None, offset: int) -> Engine | None:
        """The engine of the record at ``offset``, or None (logged and counted) if it is not a
        valid pack: a bad record must never stop a worker, which replays this topic at every
        start."""
        if not data:
            return None
        try:
            return engine_from_bundle(data)
        except PackError as exc:
            log.error("policy at offset %d is invalid, keeping the one in force: %s", offset, exc)
        except Exception as exc:  # a bug in the loader: the same, with the type for the report
            log.error(
                "policy at offset %d could not be loaded, keeping the policy in force: %s",
                offset,
                type(exc).__name__,
            )
        self.metrics.policy_reloads.labels("invalid").inc()
        return None

    def _compile_paced(self, data: bytes | None, offset: int) -> Engine | None:
        """:meth:`_compile` for a swap under load, leaving most of the interpreter to the
        stream (at start-up there is no stream yet: :meth:`load` compiles at full speed)."""
        with pausing(Pacer()):
            return self._compile(data, offset)

    async def watch(self) -> None:
        """Follow the topic and swap in each new valid pack. Runs until cancelled; a broker
        outage only delays it (it reconnects, logging once a minute)."""
        assert self.holder is not None, "load() first"
        last_logged = -1e9
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                now = asyncio.get_running_loop().time()
                if now - last_logged >= 60.0:
                    last_logged = now
                    log.warning("policy topic unavailable (retrying): %r", exc)
                await asyncio.sleep(5.0)

    async def _follow(self) -> None:
        assert self.holder is not None
        consumer = self._consumer()
        await consumer.start()
        loop = asyncio.get_running_loop()
        try:
            consumer.assign([self.partition])
            consumer.seek(self.partition, self.next_offset)
            while True:
                batch = await consumer.getmany(self.partition, timeout_ms=1000)
                for record in batch.get(self.partition, []):
                    engine = await loop.run_in_executor(
                        None, self._compile_paced, record.value, record.offset
                    )
                    self.next_offset = record.offset + 1
                    if engine is not None:
                        self.holder.engine = engine
                        self.metrics.set_policy(engine.policy_version)
                        self.metrics.policy_reloads.labels("applied").inc()
                        log.warning("policy %s in force", engine.policy_version)
                        # One full collection now (the old policy's cycles go), then the new
                        # policy is frozen out of the collector's way like the first one.
                        _heap.resettle()
        finally:
            await consumer.stop()
