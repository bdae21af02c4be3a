"""Pollers for the platforms without comment webhooks (YouTube, LinkedIn).

Each round reads what is new since the cursor, publishes it, waits for the broker's
acknowledgement, and only then writes the cursor to the compacted topic ``connect.cursors``:
after a crash a round is at worst read again (same comment ids and versions, absorbed
downstream), never skipped. Rounds are paced by the platform's quota (YouTube: the share of the
daily units the poller may spend); errors and 429s back off exponentially with full jitter
(``Retry-After`` is honoured when given).
"""

from __future__ import annotations

import asyncio
import logging
import random
import urllib.parse
from typing import Any, Protocol

import msgspec
import orjson
from aiokafka.errors import KafkaError

from streamproc._http import Response, Transport, TransportError, retry_after
from streamproc._platforms import LinkedInConfig, YouTubeConfig
from streamproc.connect import _linkedin, _youtube
from streamproc.connect._metrics import ConnectMetrics
from streamproc.connect._publisher import CommentPublisher
from streamproc.connect._records import Incoming, PayloadError

__all__ = ["LinkedInPoller", "PollError", "Poller", "YouTubePoller", "run_poller"]

log = logging.getLogger("streamproc.connect")


class PollError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, quota: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.quota = quota


def _check(response: Response, platform: str) -> bytes:
    if response.status == 200:
        return response.body
    wait = retry_after(response)
    body = response.json()
    reasons = []
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        reasons = [e.get("reason") for e in body["error"].get("errors", []) if isinstance(e, dict)]
    quota = "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons
    rate = response.status == 429 or "rateLimitExceeded" in reasons
    kind = "quota exceeded" if quota else "rate limited" if rate else f"HTTP {response.status}"
    raise PollError(f"{platform}: {kind}", wait, quota or rate)


class Poller(Protocol):
    platform: str
    key: str

    async def poll(self, cursor: Any) -> tuple[list[Incoming], Any]: ...

    def pause(self) -> float: ...


class YouTubePoller:
    platform = "youtube"

    def __init__(self, config: YouTubeConfig, transport: Transport, max_pages: int) -> None:
        assert config.channel_id and config.token
        self.config = config
        self.transport = transport
        self.max_pages = max_pages
        self.key = f"youtube:{config.channel_id}"
        self._units = 0  # spent in the last round

    async def poll(self, cursor: Any) -> tuple[list[Incoming], Any]:
        c = msgspec.convert(cursor or {}, _youtube.YouTubeCursor)
        found: list[tuple[float, Incoming]] = []
        token: str | None = None
        self._units = 0
        for _ in range(self.max_pages):
            params = {
                "part": "snippet,replies",
                "allThreadsRelatedToChannelId": self.config.channel_id or "",
                "maxResults": "100",
                "order": "time",
                "textFormat": "plainText",
            }
            if token:
                params["pageToken"] = token
            response = await self.transport.request(
                "GET",
                f"{self.config.api_url}/commentThreads",
                params=params,
                headers={"Authorization": f"Bearer {self.config.token}"},
            )
            self._units += 1  # commentThreads.list costs one unit, even when it fails
            items, token, _ = _youtube.parse_thread_page(_check(response, "youtube"))
            found.extend(items)
            if not token or (items and min(at for at, _ in items) < c.since):
                break
        fresh, after = _youtube.select_new(found, c, self.config.channel_id or "")
        return fresh, msgspec.to_builtins(after)

    def pause(self) -> float:
        budget = max(1.0, self.config.daily_quota * self.config.poll_share)
        return max(self.config.poll_seconds, self._units * 86400.0 / budget)


class LinkedInPoller:
    platform = "linkedin"

    def __init__(self, config: LinkedInConfig, transport: Transport, max_pages: int) -> None:
        assert config.organization and config.token
        self.config = config
        self.transport = transport
        self.max_pages = max_pages
        self.key = f"linkedin:{config.organization}"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.config.token}",
            "LinkedIn-Version": self.config.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    async def poll(self, cursor: Any) -> tuple[list[Incoming], Any]:
        c = msgspec.convert(cursor or {}, _linkedin.LinkedInCursor)
        api = self.config.api_url
        response = await self.transport.request(
            "GET",
            f"{api}/posts",
            params={
                "q": "author",
                "author": self.config.organization or "",
                "sortBy": "LAST_MODIFIED",
                "count": str(self.config.posts),
            },
            headers=self._headers(),
        )
        posts = _linkedin.parse_posts(_check(response, "linkedin"))
        found: list[tuple[float, Incoming]] = []
        for post in posts:
            start = 0
            for _ in range(self.max_pages):
                response = await self.transport.request(
                    "GET",
                    f"{api}/socialActions/{urllib.parse.quote(post, safe='')}/comments",
                    params={"start": str(start), "count": "100"},
                    headers=self._headers(),
                )
                items, total = _linkedin.parse_comments(_check(response, "linkedin"), post)
                found.extend(items)
                start += 100
                if not items or total is None or start >= total:
                    break
        fresh, after = _linkedin.select_new(found, c, self.config.organization or "")
        return fresh, msgspec.to_builtins(after)

    def pause(self) -> float:
        return self.config.poll_seconds


async def run_poller(
    poller: Poller,
    publisher: CommentPublisher,
    cursors: dict[str, Any],
    cursors_topic: str,
    metrics: ConnectMetrics,
    max_backoff: float = 300.0,
) -> None:
    """Poll until cancelled."""
    cursor = cursors.get(poller.key)
    failures = 0
    while True:
        try:
            fresh, after = await poller.poll(cursor)
            await publisher.publish(fresh)
            await publisher.put(cursors_topic, poller.key, orjson.dumps(after))
        except (PollError, PayloadError, TransportError, KafkaError, TimeoutError) as exc:
            failures += 1
            limited = isinstance(exc, PollError) and exc.quota
            hinted = exc.retry_after if isinstance(exc, PollError) else None
            delay = random.uniform(0, min(max_backoff, 2.0 * 2 ** min(failures, 10)))
            delay = max(delay, hinted or 0.0)
            metrics.polls.labels(poller.platform, "rate_limited" if limited else "error").inc()
            metrics.poll_wait.labels(poller.platform, "rate_limit" if limited else "error").inc(
                delay
            )
            reason = getattr(exc, "reason", type(exc).__name__)
            log.warning("%s poll failed (%s); next try in %.1f s", poller.platform, reason, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        cursor = after
        cursors[poller.key] = after
        metrics.polls.labels(poller.platform, "ok").inc()
        metrics.events.labels(poller.platform, "published").inc(len(fresh))
        pause = poller.pause()
        metrics.poll_wait.labels(poller.platform, "pacing").inc(pause)
        await asyncio.sleep(pause)
