"""``streamproc connect``: the webhook server and the pollers, until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

import orjson
from aiohttp import web
from aiokafka.errors import KafkaError

from streamproc._health import Health
from streamproc._http import AiohttpTransport
from streamproc._logging import quiet_repeats
from streamproc.connect._app import WEBHOOK_PLATFORMS, WebhookHandlers, create_web_app
from streamproc.connect._directory import EmployeeDirectory
from streamproc.connect._metrics import ConnectMetrics
from streamproc.connect._pollers import LinkedInPoller, Poller, YouTubePoller, run_poller
from streamproc.connect._publisher import CommentPublisher
from streamproc.connect._settings import ConnectSettings
from streamproc.kafka import check_credentials
from streamproc.kafka._compacted import follow_topic, read_to_end

__all__ = ["enabled_channels", "run_connect"]

log = logging.getLogger("streamproc.connect")


def enabled_channels(settings: ConnectSettings) -> tuple[set[str], list[str]]:
    """The channels with their credentials, and one line for each one skipped."""
    p = settings.platforms
    missing = {
        "facebook": p.facebook.missing_for_connect(),
        "instagram": p.instagram.missing_for_connect(),
        "twitter": p.twitter.missing_for_connect(),
        "youtube": p.youtube.missing_for_connect(),
        "linkedin": p.linkedin.missing_for_connect(),
    }
    lines = [
        f"connect: {channel} skipped ({', '.join(names)} not set)"
        for channel, names in missing.items()
        if names
    ]
    return {c for c, names in missing.items() if not names}, lines


async def _start_producer(publisher: CommentPublisher, health: Health) -> None:
    while True:
        try:
            await publisher.start()
            return
        except KafkaError as exc:
            health.not_ready(f"cannot reach Kafka ({type(exc).__name__})")
            log.warning("cannot reach Kafka yet (%s); retrying", type(exc).__name__)
            await asyncio.sleep(2.0)


async def _serve(settings: ConnectSettings) -> None:
    metrics = ConnectMetrics()
    health = Health()
    health.not_ready("connecting to Kafka")
    directory = EmployeeDirectory()
    publisher = CommentPublisher(settings.kafka, directory, settings.publish_timeout)
    enabled, skipped = enabled_channels(settings)
    for line in skipped:
        print(line, file=sys.stderr, flush=True)
    handlers = WebhookHandlers(settings, publisher, metrics, health, enabled)
    runner = web.AppRunner(create_web_app(handlers), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.address, settings.port)
    await site.start()
    hooks = ", ".join(c for c in WEBHOOK_PLATFORMS if c in enabled) or "none"
    polled = ", ".join(c for c in ("youtube", "linkedin") if c in enabled) or "none"
    print(
        f"connect: listening on http://{settings.address}:{settings.port} "
        f"(webhooks: {hooks}; pollers: {polled})",
        file=sys.stderr,
        flush=True,
    )
    tasks: list[asyncio.Task[Any]] = []
    transport = AiohttpTransport()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def beat() -> None:
        while True:
            health.beat()
            metrics.directory_entries.set(len(directory))
            await asyncio.sleep(1.0)

    tasks.append(asyncio.create_task(beat()))
    try:
        await _start_producer(publisher, health)
        health.not_ready("loading the employee directory")
        loaded = asyncio.Event()
        tasks.append(
            asyncio.create_task(
                follow_topic(settings.kafka, settings.directory_topic, directory.apply, loaded)
            )
        )
        await asyncio.wait(
            [asyncio.create_task(loaded.wait()), tasks[-1]], return_when=asyncio.FIRST_COMPLETED
        )
        if tasks[-1].done():
            tasks[-1].result()  # raises why the directory could not be read
        cursors: dict[str, Any] = {}

        def keep_cursor(key: bytes, value: bytes | None) -> None:
            if value:
                cursors[key.decode()] = orjson.loads(value)

        await read_to_end(settings.kafka, settings.cursors_topic, keep_cursor)
        pollers: list[Poller] = []
        p = settings.platforms
        if "youtube" in enabled:
            pollers.append(YouTubePoller(p.youtube, transport, settings.poll_max_pages))
        if "linkedin" in enabled:
            pollers.append(LinkedInPoller(p.linkedin, transport, settings.poll_max_pages))
        for poller in pollers:
            tasks.append(
                asyncio.create_task(
                    run_poller(poller, publisher, cursors, settings.cursors_topic, metrics)
                )
            )
        health.ready()
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await runner.cleanup()
        await transport.close()
        if publisher.started:
            await publisher.stop()


def run_connect(settings: ConnectSettings) -> None:
    """Run until SIGTERM/SIGINT; :class:`~streamproc.kafka.KafkaAuthenticationError` at once if
    Kafka refuses the credentials or the TLS settings (retrying could not help)."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_repeats()
    asyncio.run(check_credentials(settings.kafka))
    asyncio.run(_serve(settings))
