"""The Faust app: comment topics in, decisions out, strikes in a changelogged table.

The agent takes batches of raw records (``noack_take``), decides them with the engine, hands
every decision to the producer, waits until all of the batch's decisions, dead letters and
strike changes are on the broker, and only then acknowledges the records. So a crash or a
restart never commits an offset whose decision was lost; at worst a comment is decided twice,
which the strike store absorbs (strikes are keyed by comment id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from typing import Any

import faust

from streamproc.worker import _fastdrain
from streamproc.worker._metrics import WorkerMetrics
from streamproc.worker._pipeline import BatchProcessor, EngineHolder
from streamproc.worker._policy import PolicyWatcher
from streamproc.worker._settings import WorkerSettings
from streamproc.worker._strikes import TableStrikeStore

__all__ = ["create_app"]

log = logging.getLogger("streamproc.worker")
STALL_SECONDS = 10.0


def _credentials(settings: WorkerSettings) -> Any:
    kafka = settings.kafka
    if kafka.uses_sasl:
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password,
            mechanism=kafka.sasl_mechanism,
            ssl_context=kafka.ssl_context(),
        )
    if kafka.uses_ssl:
        return faust.SSLCredentials(kafka.ssl_context())
    return None


def _die(exc: BaseException) -> None:
    """Stop at once, without acknowledging the batch in hand (it will be redelivered)."""
    print(f"streamproc worker: fatal error, exiting: {exc!r}", file=sys.stderr, flush=True)
    os._exit(70)


def create_app(
    settings: WorkerSettings,
    engines: EngineHolder,
    metrics: WorkerMetrics,
    watcher: PolicyWatcher | None = None,
) -> faust.App:
    fast_drain = os.environ.get("STREAMPROC_FAST_DRAIN", "1") != "0"
    scheme = "kafka"
    if fast_drain:
        _fastdrain.register()
        scheme = _fastdrain.SCHEME
    app = faust.App(
        settings.app_id,
        version=1,  # part of the changelog topic names declared in topics.yaml
        broker=[f"{scheme}://{server}" for server in settings.kafka.bootstrap_servers],
        broker_credentials=_credentials(settings),
        datadir=str(settings.data_dir),
        store="memory://",  # the table is rebuilt from its changelog at start-up
        web_enabled=False,  # metrics come from our own endpoint
        key_serializer="raw",
        value_serializer="raw",  # orjson ourselves: bad bytes reach our dead-letter path
        topic_partitions=settings.partitions,
        topic_allow_declare=False,  # topics come from topics.yaml (`streamproc topics apply`)
        topic_disable_leader=False,
        producer_acks=-1,
        producer_linger=0.005,  # default 0: one produce request per record
        stream_buffer_maxsize=32768,
        cython_optimizations=True,
        consumer_group_instance_id=settings.instance_id,
        broker_session_timeout=30.0,
    )

    strikes_table = app.Table(
        "strikes",
        default=None,
        partitions=settings.partitions,
        key_type=str,
        value_type=bytes,  # an author's strikes as JSON, written by TableStrikeStore
    )
    processor = BatchProcessor(
        engines,
        TableStrikeStore(strikes_table),
        metrics,
        settings.actions_topic,
        settings.dead_letter_topic,
    )
    comments = app.topic(*settings.topics, key_type=bytes, value_type=bytes)

    @app.agent(comments, name="moderate")
    async def moderate(stream: Any) -> None:  # a faust.Stream; noack_take yields events
        send = app.producer.send
        async for events in stream.noack_take(settings.batch_size, within=settings.batch_seconds):
            try:
                futures, stamps = await processor.process([e.message for e in events], send)
                await asyncio.gather(*futures)
            except asyncio.CancelledError:
                raise  # shutting down: the batch is not acknowledged, so it is redelivered
            except Exception as exc:
                _die(exc)
            for event in events:
                await stream.ack(event)
            processor.delivered(stamps)

    @app.task
    async def tune_runtime() -> None:
        # faust.Worker sets the root logger to DEBUG for its spinner, which makes aiokafka build
        # a log record for every message it sends; and the default Monitor sensor does
        # bookkeeping per event that our own metrics replace.
        logging.getLogger().setLevel(settings.log_level)
        with contextlib.suppress(KeyError):
            app.sensors.remove(app.monitor)

    progress: dict[Any, tuple[int, float]] = {}

    @app.timer(interval=2.0)
    async def report_lag() -> None:
        consumer = app.consumer
        assigned = [tp for tp in consumer.assignment() if tp.topic in settings.topics]
        metrics.assigned_partitions.set(len(assigned))
        now = time.monotonic()
        stalled = []
        for tp in assigned:
            decided = processor.positions.get((tp.topic, tp.partition))
            position = decided + 1 if decided is not None else await consumer.position(tp)
            if position is None:
                continue
            lag = max(consumer.highwater(tp) - position, 0)
            metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
            last = progress.get(tp)
            if last is None or last[0] != position or lag == 0:
                progress[tp] = (position, now)
            elif now - last[1] > STALL_SECONDS:
                stalled.append(tp)
        if stalled and not app.in_recovery and getattr(consumer, "flow_active", True):
            # Records wait on these partitions but none has come for STALL_SECONDS: the
            # fetcher has lost them (an upstream Faust/aiokafka bug after rebalances). Seeking
            # to the next undecided offset makes it fetch them again; a record that was already
            # fetched is either dropped by Faust or decided twice, never lost.
            log.warning("no progress on %s with records waiting: fetching again", stalled)
            for tp in stalled:
                metrics.stalls.labels(tp.topic).inc()
                await consumer.seek(tp, progress[tp][0])
                progress[tp] = (progress[tp][0], now)

    if watcher is not None:

        @app.task
        async def watch_policy() -> None:
            await watcher.watch()

    return app
