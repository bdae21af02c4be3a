"""The Faust app: comment topics in, decisions out, strikes in a changelogged table.

Faust runs the group membership, the partition assignment (co-partitioned with the strikes
table), the table's recovery from its changelog, the producer, the timers and the lifecycle. The
comment records themselves reach the pipeline through one seam (:mod:`._handoff`): the consumer
hands each fetch over as a batch, and the worker commits offsets from its own ledger once every
decision, dead letter and strike change of a batch is on the broker. So a crash or a restart
never commits an offset whose decision was lost; at worst a comment is decided twice, which the
strike store absorbs (strikes are keyed by comment id) and which carries the same decision.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import faust
from faust.types import TP as faust_tp

from streamproc._health import Health
from streamproc._logging import quiet_repeats
from streamproc.worker import _handoff, _heap
from streamproc.worker._idle import IdleWatchdog
from streamproc.worker._metrics import WorkerMetrics
from streamproc.worker._pipeline import BatchProcessor, EngineHolder
from streamproc.worker._policy import PolicyWatcher
from streamproc.worker._publisher import BatchPublisher, faust_producer
from streamproc.worker._runner import BatchRunner, die
from streamproc.worker._settings import WorkerSettings
from streamproc.worker._strikes import TableStrikeStore
from streamproc.worker._watchdog import FetchWatchdog

__all__ = ["create_app"]

log = logging.getLogger("streamproc.worker")

PRODUCER_MAX_BATCH_SIZE = 256 * 1024


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


def _faust_app(settings: WorkerSettings) -> faust.App:
    _handoff.register()
    return faust.App(
        settings.app_id,
        version=1,  # part of the changelog topic names declared in topics.yaml
        broker=[f"{_handoff.SCHEME}://{server}" for server in settings.kafka.bootstrap_servers],
        broker_credentials=_credentials(settings),
        datadir=str(settings.data_dir),
        store="memory://",  # the table is rebuilt from its changelog at start-up
        web_enabled=False,  # metrics and health come from our own endpoint
        key_serializer="raw",
        value_serializer="raw",  # orjson ourselves: bad bytes reach our dead-letter path
        topic_partitions=settings.partitions,
        topic_allow_declare=False,  # topics come from topics.yaml (`streamproc topics apply`)
        topic_disable_leader=False,
        producer_acks=-1,
        producer_linger=0.005,  # default 0: one produce request per record (the changelog's)
        # Decisions go out one aiokafka batch per partition and fetch (_publisher): a batch of
        # 1,000 decisions (~300 bytes each) fits one, instead of splitting at the default 16 KiB.
        producer_max_batch_size=PRODUCER_MAX_BATCH_SIZE,
        broker_max_poll_records=settings.batch_size,
        consumer_group_instance_id=settings.instance_id,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.session_timeout / 10,
        # Offsets are committed by the worker (BatchRunner.commit); Faust has none to commit.
        broker_commit_interval=3600.0,
        table_standby_replicas=0,  # the table is rebuilt from its changelog, not mirrored
    )


def create_app(
    settings: WorkerSettings,
    engines: EngineHolder,
    metrics: WorkerMetrics,
    watcher: PolicyWatcher | None = None,
    health: Health | None = None,
) -> faust.App:
    app = _faust_app(settings)
    health = health if health is not None else Health()
    health.not_ready("waiting for the first partition assignment")
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
        settings.topology.actions,
        settings.topology.dead_letters,
        settings.topology.reviews,
    )
    # Subscribed through the conductor; the records bypass it (see _handoff).
    inputs = settings.topology.worker_inputs
    app.topics.add(app.topic(*inputs, key_type=bytes, value_type=bytes))
    publisher = BatchPublisher(
        lambda: faust_producer(app), max_request_size=app.conf.producer_max_request_size
    )
    runner = BatchRunner(
        processor,
        publisher,
        frozenset(inputs),
        lambda: _handoff.batch_consumer(app),
        max_in_flight=settings.max_in_flight,
    )
    _handoff.wire(app, runner)
    watchdog = FetchWatchdog(runner, metrics, settings.topics)
    idle = IdleWatchdog(
        runner,
        lambda: _handoff.batch_consumer(app),
        metrics,
        [
            faust_tp(topic, partition)
            for topic in settings.topics
            for partition in range(settings.topology.partitions_of(topic))
        ],
        settings.idle_timeout,
        on_restart=die,
    )

    @app.task
    async def tune_runtime() -> None:
        # faust.Worker sets the root logger to DEBUG for its spinner, which makes aiokafka build
        # a log record for every message it sends; and the Monitor sensor keeps bookkeeping
        # that our own metrics replace.
        logging.getLogger().setLevel(settings.log_level)
        quiet_repeats()  # one line per kind of failure and 30 s, not one per attempt
        with contextlib.suppress(KeyError):
            app.sensors.remove(app.monitor)

    @app.timer(interval=settings.commit_interval)
    async def commit() -> None:
        health.beat()
        await runner.commit()

    settled: list[int] = []

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode types receivers narrowly
    async def on_assigned(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        # Recovery of the strikes table is done and the policy was loaded before the app
        # started: the worker decides comments from here on.
        if not settled:
            settled.append(_heap.settle())  # the engine and start-up heap leave the GC's way
        health.ready()

    @app.timer(interval=2.0)
    async def report_lag() -> None:
        await watchdog.check(app)
        await idle.check(app)

    if watcher is not None:

        @app.task
        async def watch_policy() -> None:
            await watcher.watch()

    return app
