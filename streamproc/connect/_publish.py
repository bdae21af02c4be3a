"""Replay NDJSON comments into the channel topics: backfills, tests and the demo.

Each comment goes to ``comments.<channel>`` keyed by its author's id (so one author's comments
stay on one partition, in order), unless a channel is forced. A line is sent as it is: the
worker, not the connector, validates comments. A line that cannot be routed to a channel (not
JSON, no channel, a channel without a topic) or is too large for a record goes to the
dead-letter topic instead, with its reason and ``file:line``, as the worker's dead letters do.

Through a broker outage it keeps trying, in order, for ``retry_for`` seconds, logging one line
per back-off; what it could not send after that is reported (the first line not sent, to resume
from) rather than dropped. A line may then have been sent twice: the worker decides a comment
sent twice the same way, and counts its strike once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from streamproc._deadletter import dead_letter_headers
from streamproc.kafka import KafkaAuthenticationError, KafkaSettings, check_credentials

__all__ = ["DEAD_LETTER_TOPIC", "PublishSummary", "channel_topic", "describe", "publish_lines"]

TOPIC_PREFIX = "comments."
DEAD_LETTER_TOPIC = "moderation.deadletter"
#: Records larger than this go to the dead-letter topic (cut): the topics' max.message.bytes.
MAX_RECORD_BYTES = 1_000_000
_CHUNK = 2000
log = logging.getLogger("streamproc.publish")


def channel_topic(channel: str) -> str:
    return TOPIC_PREFIX + channel


@dataclass
class PublishSummary:
    sent: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)
    blank: int = 0
    dead_letters: list[tuple[int, str, str]] = field(default_factory=list)  # line, kind, reason
    #: The first line not sent, and why, when the broker stayed unreachable.
    unsent_from: int | None = None
    unsent_reason: str | None = None
    lines: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


class _Unroutable(ValueError):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _route(line: bytes, forced: str | None, known: set[str] | None) -> tuple[str, bytes | None]:
    """(topic, key) for a line, or raise _Unroutable saying why it cannot be routed."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        doc = None
        if forced is None:
            raise _Unroutable("invalid_json", "not JSON, so no channel to route it by") from None
    author = doc.get("author") if isinstance(doc, dict) else None
    key = author.get("id") if isinstance(author, dict) else None
    key_bytes = key.encode() if isinstance(key, str) else None
    if forced is not None:
        return channel_topic(forced), key_bytes
    channel = doc.get("channel") if isinstance(doc, dict) else None
    if not isinstance(channel, str) or not channel:
        raise _Unroutable("invalid_comment", "no channel to route it by (--channel forces one)")
    topic = channel_topic(channel)
    if known is not None and topic not in known:
        raise _Unroutable("invalid_comment", "its channel has no declared topic")
    return topic, key_bytes


@dataclass
class _Outgoing:
    number: int
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


class _Sender:
    """Sends chunks in order; a chunk that fails is sent again (whole, to keep the order)."""

    def __init__(self, producer: AIOKafkaProducer, retry_for: float) -> None:
        self.producer = producer
        self.retry_for = retry_for

    async def send(self, chunk: list[_Outgoing]) -> str | None:
        """Send ``chunk``; None once all of it is on the broker, else why it gave up."""
        failing_since: float | None = None
        delay = 0.5
        while True:
            try:
                futures = [
                    await self.producer.send(o.topic, o.value, key=o.key, headers=o.headers)
                    for o in chunk
                ]
                await asyncio.gather(*futures)
                return None
            except MessageSizeTooLargeError:
                raise
            except KafkaError as exc:
                now = time.monotonic()
                failing_since = failing_since if failing_since is not None else now
                if now - failing_since >= self.retry_for:
                    return f"the broker did not take records for {self.retry_for:.0f} s ({exc!r})"
                log.warning("the broker is not taking records (%r); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


async def publish_lines(
    settings: KafkaSettings,
    lines: Iterable[bytes],
    *,
    channel: str | None = None,
    rate: float | None = None,
    known_topics: set[str] | None = None,
    progress: Callable[[int], None] | None = None,
    source: str = "stdin",
    retry_for: float = 120.0,
    first_line: int = 1,
) -> PublishSummary:
    """Send ``lines`` to their channel topics; ``rate`` caps comments per second."""
    producer = AIOKafkaProducer(
        **settings.client_kwargs(),
        acks="all",
        enable_idempotence=True,  # retries within a connection neither duplicate nor reorder
        linger_ms=5,
        max_batch_size=256 * 1024,
        max_request_size=MAX_RECORD_BYTES + 64 * 1024,
        request_timeout_ms=30_000,
    )
    summary = PublishSummary()
    started = time.perf_counter()
    sender = _Sender(producer, retry_for)
    # Paced, a chunk is what 20 ms of the rate bring: sent as soon as it is full.
    chunk_size = max(1, min(_CHUNK, int(rate / 50))) if rate else _CHUNK
    try:
        await _start(producer, retry_for, settings)
        chunk: list[_Outgoing] = []
        for number, raw in enumerate(lines, start=first_line):
            summary.lines = number
            outgoing = _outgoing(raw, number, channel, known_topics, source, summary)
            if outgoing is None:
                continue
            chunk.append(outgoing)
            if len(chunk) >= chunk_size:
                if not await _flush(sender, chunk, summary):
                    return summary
                chunk = []
                if progress is not None:
                    progress(summary.sent)
            if rate:
                ahead = (summary.sent + len(chunk)) / rate - (time.perf_counter() - started)
                if ahead > 0.002:
                    await asyncio.sleep(ahead)
        await _flush(sender, chunk, summary)
    except KafkaError as exc:  # could not even connect within retry_for
        summary.unsent_from = summary.unsent_from or 1
        summary.unsent_reason = f"cannot reach Kafka at {settings.describe()}: {exc!r}"
    except KafkaAuthenticationError as exc:
        summary.unsent_from = summary.unsent_from or 1
        summary.unsent_reason = f"Kafka at {settings.describe()}: {exc}"
    finally:
        summary.seconds = time.perf_counter() - started
        await producer.stop()
    if progress is not None:
        progress(summary.sent)
    return summary


async def _start(producer: AIOKafkaProducer, retry_for: float, settings: KafkaSettings) -> None:
    deadline = time.monotonic() + retry_for
    checked = False
    while True:
        try:
            await producer.start()
            return
        except KafkaError:
            if not checked:  # refused credentials: retrying could not help
                checked = True
                await check_credentials(settings)
            if time.monotonic() >= deadline:
                raise
            log.warning("cannot reach Kafka yet; retrying")
            await asyncio.sleep(2.0)


def _outgoing(
    raw: bytes,
    number: int,
    channel: str | None,
    known: set[str] | None,
    source: str,
    summary: PublishSummary,
) -> _Outgoing | None:
    line = raw.rstrip(b"\r\n")
    if not line.strip():
        summary.blank += 1
        return None
    where = f"{source}:{number}"
    if len(line) > MAX_RECORD_BYTES:
        kind, reason = "too_large", f"{len(line)} bytes, over the limit of {MAX_RECORD_BYTES}"
        return _dead(number, kind, reason, where, None, line, summary)
    try:
        topic, key = _route(line, channel, known)
    except _Unroutable as exc:
        return _dead(number, exc.kind, exc.reason, where, None, line, summary)
    return _Outgoing(number, topic, key, line)


def _dead(
    number: int,
    kind: str,
    reason: str,
    where: str,
    key: bytes | None,
    line: bytes,
    summary: PublishSummary,
) -> _Outgoing:
    summary.dead_letters.append((number, kind, reason))
    key, value, headers = dead_letter_headers(kind, reason, where, key, line)
    assert value is not None
    return _Outgoing(number, DEAD_LETTER_TOPIC, key, value, headers)


async def _flush(sender: _Sender, chunk: list[_Outgoing], summary: PublishSummary) -> bool:
    """Send a chunk; False (and the summary says where it stopped) if the broker stayed away."""
    if not chunk:
        return True
    failure = await sender.send(chunk)
    if failure is not None:
        summary.unsent_from, summary.unsent_reason = chunk[0].number, failure
        return False
    for outgoing in chunk:
        if outgoing.topic != DEAD_LETTER_TOPIC:
            summary.sent += 1
            summary.by_topic[outgoing.topic] += 1
    return True


def describe(summary: PublishSummary) -> list[str]:
    """The lines ``streamproc publish`` prints about a run."""
    topics = ", ".join(f"{t}={n}" for t, n in sorted(summary.by_topic.items()))
    out = [
        f"published {summary.sent} comments from {summary.lines} lines in "
        f"{summary.seconds:.2f}s ({summary.rate:,.0f}/s): {topics or 'nothing'}"
    ]
    if summary.blank:
        out.append(f"{summary.blank} blank lines skipped")
    if summary.dead_letters:
        kinds = Counter(kind for _, kind, _ in summary.dead_letters)
        out.append(
            f"{len(summary.dead_letters)} lines sent to {DEAD_LETTER_TOPIC} instead: "
            + ", ".join(f"{k}={n}" for k, n in kinds.most_common())
        )
        out.extend(f"line {n}: {kind}: {reason}" for n, kind, reason in summary.dead_letters[:20])
    if summary.unsent_from is not None:
        out.append(
            f"NOT SENT from line {summary.unsent_from} on: {summary.unsent_reason}. "
            f"Resume with --from-line {summary.unsent_from}."
        )
    return out
