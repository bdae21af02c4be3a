"""The console's consumer: decisions, outcomes and comments into the database in its own
group; offsets committed only after the batch's transaction, so a crash re-reads (and the
idempotent ingestion ignores) what was not committed. And the outbox publisher."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError

from streamproc._deadletter import dead_letter_headers
from streamproc._health import Health
from streamproc.review._actions import Actions
from streamproc.review._metrics import ReviewMetrics
from streamproc.review._notify import UrgentNotifier
from streamproc.review._records import comment_problem, decision_problem, outcome_problem
from streamproc.review._retention import purge_expired
from streamproc.review._settings import ReviewSettings
from streamproc.review._store import QUEUES, Incoming, Store

__all__ = ["Ingestion", "classify"]

log = logging.getLogger("streamproc.review")


def classify(
    topic: str, value: bytes | None, settings: ReviewSettings
) -> tuple[str, dict[str, Any] | None, str | None]:
    """(kind, doc, problem) of a record; a tombstone (compaction) is kind ``skip``."""
    if topic == settings.outcomes_topic and value is None:
        return "skip", None, None
    try:
        doc = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return "invalid_json", None, "not JSON"
    if topic == settings.actions_topic:
        kind, problem = "decision", decision_problem(doc)
    elif topic == settings.outcomes_topic:
        kind, problem = "outcome", outcome_problem(doc)
    else:
        kind, problem = "comment", comment_problem(doc)
    return kind, doc if problem is None else None, problem


class Ingestion:
    def __init__(
        self,
        settings: ReviewSettings,
        store: Store,
        actions: Actions,
        metrics: ReviewMetrics,
        health: Health,
    ) -> None:
        self.settings = settings
        self.store = store
        self.actions = actions
        self.metrics = metrics
        self.health = health
        self.notifier = (
            UrgentNotifier(
                store.engine,
                settings.urgent_webhook,
                settings.public_url,
                settings.webhook_secret,
                metrics.notifications,
            )
            if settings.urgent_webhook
            else None
        )
        self._http: aiohttp.ClientSession | None = None
        kafka = settings.kafka.client_kwargs()
        self.producer = AIOKafkaProducer(**kafka, acks="all", enable_idempotence=True)
        self.consumer = AIOKafkaConsumer(
            **kafka,
            group_id=settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    def topics(self) -> list[str]:
        s = self.settings
        return [s.actions_topic, s.outcomes_topic, *s.comment_topics]

    async def run(self, stop: asyncio.Event) -> None:
        await self.producer.start()
        try:
            self.consumer.subscribe(self.topics())
            await self.consumer.start()
            try:
                await self._loop(stop)
            finally:
                await self.consumer.stop()
        finally:
            await self.producer.stop()
            if self._http is not None:
                await self._http.close()

    async def _loop(self, stop: asyncio.Event) -> None:
        self.health.ready()
        clock = asyncio.get_running_loop().time
        gauged = purged = 0.0
        orphans = timedelta(hours=self.settings.orphan_hours)
        while not stop.is_set():
            self.health.beat()
            batch = await self.consumer.getmany(timeout_ms=200, max_records=500)
            if batch:
                await self.ingest(batch)
            await self.publish()
            if clock() - gauged > 5.0:
                await asyncio.to_thread(self._gauge)
                await self._notify()
                gauged = clock()
            if clock() - purged > 600.0:
                await asyncio.to_thread(self.store.purge_orphan_comments, orphans)
                await asyncio.to_thread(self._retain)
                purged = clock()

    async def ingest(self, batch: dict[TopicPartition, list[Any]]) -> None:
        usable: list[Incoming] = []
        for tp, records in batch.items():
            for record in records:
                source = f"{tp.topic}/{tp.partition}/{record.offset}"
                kind, doc, problem = classify(tp.topic, record.value, self.settings)
                if doc is not None:
                    usable.append(Incoming(kind, doc, source))
                elif problem is not None:
                    await self._dead_letter(record, kind, source, problem)
        counts = await asyncio.to_thread(self.store.ingest, usable)
        for kind, n in counts.items():
            self.metrics.ingested.labels(kind).inc(n)
        # Only now: the transaction holds everything up to these offsets.
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError:  # a rebalance meanwhile: the next owner re-reads, replays
            log.warning("offsets not committed (the group rebalanced); records will be re-read")

    async def _dead_letter(self, record: Any, kind: str, source: str, problem: str) -> None:
        kind = "invalid_json" if kind == "invalid_json" else "invalid_comment"
        key, value, headers = dead_letter_headers(kind, problem, source, record.key, record.value)
        await (
            await self.producer.send(
                self.settings.dead_letter_topic, value, key=key, headers=headers
            )
        )
        self.metrics.dead_letters.labels(kind).inc()
        log.warning("%s is not a record the console can use (%s)", source, problem)

    async def publish(self) -> int:
        """Send the review records waiting in the outbox; mark them sent once acknowledged."""
        pending = await asyncio.to_thread(self.actions.pending_reviews)
        if not pending:
            return 0
        futures = [
            await self.producer.send(
                self.settings.reviews_topic,
                orjson.dumps(row["payload"]),
                key=str(row["key"]).encode(),
            )
            for row in pending
        ]
        await asyncio.gather(*futures)
        await asyncio.to_thread(self.actions.mark_sent, [row["review_id"] for row in pending])
        self.metrics.reviews_published.inc(len(pending))
        return len(pending)

    async def _notify(self) -> None:
        if self.notifier is None:
            return
        if self._http is None:
            self._http = aiohttp.ClientSession()
        try:
            await self.notifier.run_once(self._http)
        except Exception:  # the webhook must never stop ingestion
            log.exception("the urgent-case webhook failed; retrying later")

    def _retain(self) -> None:
        if self.settings.retention_days:
            done = purge_expired(self.store.engine, timedelta(days=self.settings.retention_days))
            self.metrics.purged.inc(done.cases)

    def _gauge(self) -> None:
        counts = self.store.counts("compliance")
        ages = self.store.oldest("compliance")
        for queue in QUEUES:
            self.metrics.queue_depth.labels(queue).set(counts.get(queue, 0))
            self.metrics.oldest_case.labels(queue).set(ages.get(queue, 0.0))
        self.metrics.appeals_open.set(counts.get("appeals", 0))
