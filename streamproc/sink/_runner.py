"""The sink's consumer: moderation.actions (and moderation.reviews) in its own consumer group,
one task per partition, offsets committed once a record's steps all have their outcome.

The fetch loop reads ahead of the partition tasks: a deletion is seen as soon as it is fetched,
so an action still waiting (for a rate limit, a back-off, or its turn) is cancelled rather than
carried out on a comment that is gone. A partition whose queue grows long is paused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from streamproc._appeal import appeal_link
from streamproc._deadletter import dead_letter_headers
from streamproc._health import Health
from streamproc.sink._client import PlatformClient
from streamproc.sink._executor import Executor
from streamproc.sink._ledger import OutcomeLedger
from streamproc.sink._metrics import SinkMetrics
from streamproc.sink._plan import Step, plan_decision, plan_review
from streamproc.sink._settings import SinkSettings

__all__ = ["SinkRunner"]

log = logging.getLogger("streamproc.sink")
_HIGH, _LOW = 2000, 200  # queued records per partition: pause above, resume below


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: SinkRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.runner.revoke(list(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.runner.assign(list(assigned))


def _problem(topic: str, doc: Any, reviews_topic: str) -> str | None:
    """Why ``doc`` cannot be carried out, or None."""
    if not isinstance(doc, dict):
        return "not a JSON object"
    names = ("review_id", "comment_id", "channel", "action") if topic == reviews_topic else (
        "comment_id", "channel"
    )  # fmt: skip
    for name in names:
        if not isinstance(doc.get(name), str) or not doc.get(name):
            return f"field {name!r} missing or not a string"
    if topic != reviews_topic and not isinstance(doc.get("actions"), list):
        return "field 'actions' missing or not a list"
    return None


class SinkRunner:
    def __init__(
        self,
        settings: SinkSettings,
        clients: dict[str, PlatformClient],
        metrics: SinkMetrics,
        health: Health,
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.metrics = metrics
        self.health = health
        kafka = settings.kafka.client_kwargs()
        self.producer = AIOKafkaProducer(**kafka, acks="all", enable_idempotence=True)
        self.consumer = AIOKafkaConsumer(
            **kafka,
            group_id=settings.group_id,
            group_instance_id=settings.instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
        )
        self.ledger = OutcomeLedger(settings.kafka, settings.outcomes_topic, self.producer)
        self.executor = Executor(self.ledger, clients, metrics, settings.retry_for)
        self.queues: dict[TopicPartition, asyncio.Queue[Any]] = {}
        self.tasks: dict[TopicPartition, asyncio.Task[None]] = {}
        self.processed: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()

    # --- assignment ----------------------------------------------------------------------

    async def assign(self, assigned: list[TopicPartition]) -> None:
        # The queues first: records of these partitions may be fetched while the ledger loads.
        for tp in assigned:
            self.queues[tp] = asyncio.Queue()
        numbers = sorted({tp.partition for tp in assigned})
        await self.ledger.load(numbers)
        for tp in assigned:
            self.tasks[tp] = asyncio.create_task(self._work(tp, self.queues[tp]))
        self.metrics.assigned.set(len(self.tasks))
        self.health.ready()

    async def revoke(self, revoked: list[TopicPartition]) -> None:
        for tp in revoked:
            task = self.tasks.pop(tp, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.queues.pop(tp, None)
            self.paused.discard(tp)
        await self.commit(revoked)
        for tp in revoked:
            self.processed.pop(tp, None)
            self.committed.pop(tp, None)
        still = {tp.partition for tp in self.tasks}
        self.ledger.forget([tp.partition for tp in revoked if tp.partition not in still])
        self.metrics.assigned.set(len(self.tasks))

    async def commit(self, only: list[TopicPartition] | None = None) -> None:
        offsets = {
            tp: offset
            for tp, offset in self.processed.items()
            if (only is None or tp in only) and self.committed.get(tp) != offset
        }
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            log.warning("could not commit offsets (%s); they are committed later", exc)
            return
        self.committed.update(offsets)

    # --- records ---------------------------------------------------------------------------

    def _enqueue(self, tp: TopicPartition, records: list[Any]) -> None:
        queue = self.queues.get(tp)
        if queue is None:
            # Not ours (any more): read again from the committed offset by whoever owns it.
            log.warning("records of a partition not assigned here were fetched; dropped")
            return
        for record in records:
            try:
                doc = orjson.loads(record.value) if record.value else None
            except orjson.JSONDecodeError:
                doc = None
            if isinstance(doc, dict) and doc.get("deleted") is True and doc.get("comment_id"):
                self.ledger.mark_deleted(str(doc["comment_id"]))  # cancels what waits for it
            queue.put_nowait((record, doc))
        if queue.qsize() > _HIGH and tp not in self.paused:
            self.consumer.pause(tp)
            self.paused.add(tp)

    async def _work(self, tp: TopicPartition, queue: asyncio.Queue[Any]) -> None:
        while True:
            record, doc = await queue.get()
            await self._process(tp, record, doc)
            self.processed[tp] = record.offset + 1
            if tp in self.paused and queue.qsize() < _LOW:
                self.consumer.resume(tp)
                self.paused.discard(tp)

    async def _process(self, tp: TopicPartition, record: Any, doc: Any) -> None:
        source = f"{tp.topic}/{tp.partition}/{record.offset}"
        problem = (
            "not JSON" if doc is None else _problem(tp.topic, doc, self.settings.reviews_topic)
        )
        if problem is not None:
            await self._dead_letter(record, source, problem)
            return
        channel = doc["channel"]
        client = self.clients.get(channel)
        caps = client.capabilities if client is not None else None
        remove = self.settings.remove_modes.get(channel, "hide")
        steps: list[Step]
        if tp.topic == self.settings.reviews_topic:
            steps = plan_review(doc, caps, remove)
        else:
            reply = self.settings.reply_modes.get(channel, "public")
            link = appeal_link(self.settings.appeal, doc)
            steps = plan_decision(doc, caps, remove, reply, link)
        for step in steps:
            try:
                await self.executor.run(step, tp.partition, source)
            except (KafkaError, TimeoutError):
                raise  # the outcome could not be recorded: stop, the record is read again
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not stop the sink or lose the action
                log.exception("internal error carrying out %s on %s", step.action, channel)
                await self.ledger.record(
                    tp.partition,
                    step,
                    "failed",
                    source,
                    reason=f"internal error: {type(exc).__name__}",
                )

    async def _dead_letter(self, record: Any, source: str, reason: str) -> None:
        kind = "invalid_json" if reason == "not JSON" else "invalid_comment"
        key, value, headers = dead_letter_headers(kind, reason, source, record.key, record.value)
        future = await self.producer.send(
            self.settings.dead_letter_topic, value, key=key, headers=headers
        )
        await future
        self.metrics.dead_letters.labels(kind).inc()
        log.warning("%s is not a record the sink can carry out (%s)", source, reason)

    # --- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        await self.producer.start()
        try:
            self.consumer.subscribe(
                [self.settings.actions_topic, self.settings.reviews_topic],
                listener=_Listener(self),
            )
            await self.consumer.start()
            try:
                await self._loop(stop)
            finally:
                for tp in list(self.tasks):
                    self.tasks[tp].cancel()
                await asyncio.gather(*self.tasks.values(), return_exceptions=True)
                await self.commit()
                await self.consumer.stop()
        finally:
            await self.producer.stop()

    async def _loop(self, stop: asyncio.Event) -> None:
        last_commit = asyncio.get_running_loop().time()
        while not stop.is_set():
            self.health.beat()
            batch = await self.consumer.getmany(timeout_ms=200, max_records=500)
            for tp, records in batch.items():
                self._enqueue(tp, records)
            for task in list(self.tasks.values()):
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            now = asyncio.get_running_loop().time()
            if now - last_commit >= self.settings.commit_interval:
                await self.commit()
                last_commit = now
