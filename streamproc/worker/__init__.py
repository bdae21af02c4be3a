"""The streaming worker: a Faust app around the policy engine, with Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from streamproc.worker._app import create_app
from streamproc.worker._ledger import OffsetLedger
from streamproc.worker._metrics import BatchHistogram, WorkerMetrics
from streamproc.worker._pipeline import BatchProcessor, EngineHolder
from streamproc.worker._policy import PolicyWatcher, engine_from_bundle
from streamproc.worker._runner import BatchRunner
from streamproc.worker._settings import WorkerSettings
from streamproc.worker._strikes import TableStrikeStore

__all__ = [
    "BatchHistogram",
    "BatchProcessor",
    "BatchRunner",
    "EngineHolder",
    "OffsetLedger",
    "PolicyWatcher",
    "TableStrikeStore",
    "WorkerMetrics",
    "WorkerSettings",
    "create_app",
    "engine_from_bundle",
    "run_worker",
]


def run_worker(settings: WorkerSettings) -> None:
    """Run a worker in the foreground until it is stopped (SIGINT/SIGTERM).

    Raises :class:`~streamproc.kafka.KafkaUnavailableError` (or its subclass
    :class:`~streamproc.kafka.KafkaAuthenticationError`) if Kafka refuses it at start-up.
    """
    from streamproc._health import Health
    from streamproc.core import COMPILE_FAILED, CORE_BUILD
    from streamproc.kafka import check_connection
    from streamproc.worker._lifecycle import WorkerProcess

    logging.getLogger("streamproc.worker").log(
        logging.WARNING if COMPILE_FAILED else logging.INFO, "policy core: %s", CORE_BUILD
    )
    metrics = WorkerMetrics(settings.topology.channels)
    health = Health()
    # A wrong password or TLS setting is a clear error here, not a traceback or a retry loop.
    asyncio.run(check_connection(settings.kafka))
    watcher = PolicyWatcher(settings.kafka, settings.topology.policy, metrics, settings.policy_path)
    engines = asyncio.run(watcher.load())  # the policy in force before the first comment
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings, engines, metrics, watcher, health)
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, settings.metrics_address, health)
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker = WorkerProcess(
        app,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        shutdown_timeout=settings.shutdown_timeout,
    )
    worker.execute_from_commandline()
