"""Replay NDJSON comments into the channel topics: backfills, tests and the demo.

Each comment goes to ``comments.<channel>`` keyed by its author's id (so one author's comments
stay on one partition, in order), unless a channel is forced. The line's bytes are sent as they
are: the worker, not the connector, validates comments, so a broken line still reaches the
dead-letter topic with its reason.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaProducer

from streamproc.kafka import KafkaSettings

__all__ = ["PublishSummary", "channel_topic", "publish_lines"]

TOPIC_PREFIX = "comments."


def channel_topic(channel: str) -> str:
    return TOPIC_PREFIX + channel


@dataclass
class PublishSummary:
    sent: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)
    unroutable: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def _route(line: bytes, forced: str | None, known: set[str] | None) -> tuple[str, bytes | None]:
    """(topic, key) for a line, or raise ValueError saying why it cannot be routed."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        doc = None
    author = doc.get("author") if isinstance(doc, dict) else None
    key = author.get("id") if isinstance(author, dict) else None
    key_bytes = key.encode() if isinstance(key, str) else None
    if forced is not None:
        return channel_topic(forced), key_bytes
    channel = doc.get("channel") if isinstance(doc, dict) else None
    if not isinstance(channel, str) or not channel:
        raise ValueError("no channel to route it by (use --channel to force one)")
    topic = channel_topic(channel)
    if known is not None and topic not in known:
        raise ValueError(f"channel {channel!r} has no topic {topic!r}")
    return topic, key_bytes


async def publish_lines(
    settings: KafkaSettings,
    lines: Iterable[bytes],
    *,
    channel: str | None = None,
    rate: float | None = None,
    known_topics: set[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> PublishSummary:
    """Send ``lines`` to their channel topics; ``rate`` caps comments per second."""
    producer = AIOKafkaProducer(
        **settings.client_kwargs(),
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        compression_type=None,
    )
    await producer.start()
    summary = PublishSummary()
    started = time.perf_counter()
    pending: list[asyncio.Future[object]] = []
    try:
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                topic, key = _route(line, channel, known_topics)
            except ValueError as exc:
                summary.unroutable.append((number, str(exc)))
                continue
            pending.append(await producer.send(topic, line, key=key))
            summary.sent += 1
            summary.by_topic[topic] += 1
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
                if progress is not None:
                    progress(summary.sent)
            if rate:
                ahead = summary.sent / rate - (time.perf_counter() - started)
                if ahead > 0.002:
                    await asyncio.sleep(ahead)
        await asyncio.gather(*pending)
        await producer.flush()
    finally:
        await producer.stop()
    summary.seconds = time.perf_counter() - started
    if progress is not None:
        progress(summary.sent)
    return summary
