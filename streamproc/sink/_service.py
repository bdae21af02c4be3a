"""``streamproc sink``: carry out decisions on the platforms, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from streamproc._health import Health, serve_http
from streamproc._http import AiohttpTransport
from streamproc._logging import quiet_repeats
from streamproc.core import ACTIONS
from streamproc.kafka import check_credentials
from streamproc.sink._client import PlatformClient
from streamproc.sink._ledger import TERMINAL
from streamproc.sink._linkedin import LinkedInClient
from streamproc.sink._meta import FacebookClient, InstagramClient
from streamproc.sink._metrics import SinkMetrics
from streamproc.sink._plan import REVIEW_ACTIONS
from streamproc.sink._runner import SinkRunner
from streamproc.sink._settings import SinkSettings
from streamproc.sink._twitter import TwitterClient
from streamproc.sink._youtube import YouTubeClient

__all__ = ["build_clients", "run_sink"]


def build_clients(
    settings: SinkSettings, metrics: SinkMetrics
) -> tuple[dict[str, PlatformClient], list[str]]:
    """A client for each channel whose credentials are set, and one line for each one not."""
    p = settings.platforms
    clients: dict[str, PlatformClient] = {}
    skipped: list[str] = []

    def transport() -> AiohttpTransport:
        return AiohttpTransport(settings.http_timeout)

    checks = [
        ("facebook", p.facebook.missing_for_sink()),
        ("instagram", p.instagram.missing_for_sink()),
        ("twitter", p.twitter.missing_for_sink()),
        ("youtube", p.youtube.missing_for_sink()),
        ("linkedin", p.linkedin.missing_for_sink()),
    ]
    for channel, missing in checks:
        if missing:
            skipped.append(f"sink: {channel} skipped ({', '.join(missing)} not set)")
            continue
        if channel == "facebook":
            clients[channel] = FacebookClient(p.facebook, transport(), metrics)
        elif channel == "instagram":
            clients[channel] = InstagramClient(p.instagram, transport(), metrics)
        elif channel == "twitter":
            clients[channel] = TwitterClient(p.twitter, transport(), metrics)
        elif channel == "youtube":
            clients[channel] = YouTubeClient(
                p.youtube, transport(), metrics, settings.youtube_batch_window
            )
        else:
            clients[channel] = LinkedInClient(p.linkedin, transport(), metrics)
    return clients, skipped


async def _main(settings: SinkSettings) -> None:
    metrics = SinkMetrics()
    health = Health()
    health.not_ready("waiting for the first partition assignment")
    clients, skipped = build_clients(settings, metrics)
    actions = list(dict.fromkeys([a for a in ACTIONS if a != "allow"] + list(REVIEW_ACTIONS)))
    for channel, client in clients.items():
        metrics.start_channel(
            channel, actions, sorted(TERMINAL), client.operations, client.wait_causes
        )
    for line in skipped:
        print(line, file=sys.stderr, flush=True)
    if settings.metrics_port:
        serve_http(settings.metrics_port, settings.metrics_address, metrics.registry, health)
    print(
        f"sink: carrying out decisions on {', '.join(clients) or 'no channel'}; metrics on port "
        f"{settings.metrics_port}",
        file=sys.stderr,
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = SinkRunner(settings, clients, metrics, health)
    try:
        await runner.run(stop)
    finally:
        for client in clients.values():
            await client.close()


def run_sink(settings: SinkSettings) -> None:
    """Run until SIGTERM/SIGINT; :class:`~streamproc.kafka.KafkaAuthenticationError` at once if
    Kafka refuses the credentials or the TLS settings (retrying could not help)."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_repeats()
    asyncio.run(check_credentials(settings.kafka))
    asyncio.run(_main(settings))
