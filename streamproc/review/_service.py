"""``streamproc review serve``: the consumer, the outbox publisher and the console."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from streamproc._health import Health, serve_http
from streamproc._logging import quiet_repeats
from streamproc.review._accounts import Accounts
from streamproc.review._actions import Actions
from streamproc.review._ingest import Ingestion
from streamproc.review._metrics import ReviewMetrics
from streamproc.review._migrate import open_database
from streamproc.review._settings import ReviewSettings
from streamproc.review._store import Store
from streamproc.review._web import make_app

__all__ = ["run_review"]


async def _main(settings: ReviewSettings) -> None:
    metrics = ReviewMetrics()
    health = Health()
    health.not_ready("migrating the database")
    if settings.metrics_port:
        serve_http(settings.metrics_port, settings.metrics_address, metrics.registry, health)
    engine = await asyncio.to_thread(open_database, settings.database_url)
    health.not_ready("connecting to Kafka")
    store = Store(engine)
    actions = Actions(engine, store)
    accounts = Accounts(engine, settings.login_attempts, settings.session_hours)
    app = make_app(settings, store, accounts, actions, metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.address, settings.port).start()
    print(
        f"review: console on http://{settings.address}:{settings.port}/ "
        f"(database {engine.url.render_as_string(hide_password=True)}); "
        f"metrics on port {settings.metrics_port}",
        file=sys.stderr,
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Ingestion(settings, store, actions, metrics, health).run(stop)
    finally:
        await runner.cleanup()
        engine.dispose()


def run_review(settings: ReviewSettings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_repeats()
    asyncio.run(_main(settings))
