"""One batch of comment records in, one decision (or dead letter) per record out.

Kept apart from the Faust app so that it can be read and tested without a broker: it takes
records with ``topic``, ``partition``, ``offset``, ``timestamp`` (milliseconds, as aiokafka gives
it), ``key`` and ``value``, and an :class:`~streamproc.worker._publisher.Outbox` that queues each
output without an await and sends them a batch at a time (``flush``, returning delivery futures).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final, Protocol

import orjson
from aiokafka.errors import MessageSizeTooLargeError

from streamproc._deadletter import KEY_LIMIT, VALUE_LIMIT, dead_letter_headers
from streamproc.core import CommentError, Engine, overturn_strike, strike_key
from streamproc.worker._metrics import WorkerMetrics
from streamproc.worker._publisher import Outbox
from streamproc.worker._strikes import ChangeloggedStrikes

__all__ = [
    "DEAD_LETTER_KEY_LIMIT",
    "DEAD_LETTER_VALUE_LIMIT",
    "BatchProcessor",
    "EngineHolder",
    "Record",
    "dead_letter",
]

#: A dead letter copies the record, cut to these sizes so that it always fits on the topic.
DEAD_LETTER_VALUE_LIMIT: Final = VALUE_LIMIT
DEAD_LETTER_KEY_LIMIT: Final = KEY_LIMIT


class Record(Protocol):
    topic: str
    partition: int
    offset: int
    timestamp: int  # milliseconds since the epoch
    key: bytes | None
    value: bytes | None


class EngineHolder:
    """The engine in force; replaced whole when a new policy arrives (an atomic swap)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine


def dead_letter(
    record: Record, kind: str, reason: str
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    """(key, value, headers) of the dead letter for ``record`` (see streamproc._deadletter)."""
    source = f"{record.topic}/{record.partition}/{record.offset}"
    return dead_letter_headers(kind, reason, source, record.key, record.value)


def _parse_review(value: bytes | None) -> dict[str, Any] | str:
    """A review record's fields, or why it is unusable."""
    try:
        review = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return "not JSON"
    if not isinstance(review, dict):
        return "not a JSON object"
    for name in ("comment_id", "channel", "author_id"):
        if not isinstance(review.get(name), str) or not review[name]:
            return f"field {name!r} missing or not a string"
    return review


class BatchProcessor:
    def __init__(
        self,
        engines: EngineHolder,
        strikes: ChangeloggedStrikes,
        metrics: WorkerMetrics,
        actions_topic: str,
        dead_letter_topic: str,
        reviews_topic: str = "moderation.reviews",
    ) -> None:
        self.engines = engines
        self.strikes = strikes
        self.metrics = metrics
        self.actions_topic = actions_topic
        self.dead_letter_topic = dead_letter_topic
        self.reviews_topic = reviews_topic

    async def process(
        self, records: Sequence[Record], outbox: Outbox
    ) -> tuple[list[Any], list[int]]:
        """Decide every record; returns the delivery futures and the records' timestamps.

        The caller waits for the futures before it counts the records as done, so that no
        offset is committed before its decision (or dead letter) is on the broker. Outputs are
        flushed at the end, and on the way whenever the oldest has waited ``outbox.due()``.
        """
        engine = self.engines.engine  # one policy for the whole batch, even if a new one lands
        moderate = engine.moderate_json
        strikes = self.strikes
        dumps = orjson.dumps
        clock = time.perf_counter
        actions_topic = self.actions_topic
        futures: list[Any] = []
        stamps: list[int] = []
        durations: list[float] = []
        consumed: Counter[str] = Counter()
        actions: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        dead: Counter[str] = Counter()
        mismatched: Counter[str] = Counter()
        reviews_topic = self.reviews_topic
        add = outbox.add
        due = outbox.due
        for record in records:
            if due():
                futures.extend(await outbox.flush())
            if record.topic == reviews_topic:
                self._review(record, outbox, dead)
                continue
            started = clock()
            consumed[record.topic] += 1
            value = record.value
            try:
                if not value:
                    raise CommentError("empty record", "invalid_json")
                decision = moderate(value, strikes.at(record.partition))
                payload = dumps(decision)
                key = decision["comment_id"].encode()
                add(actions_topic, key, payload)
            except MessageSizeTooLargeError:
                kind, reason = "too_large", "its decision is larger than a Kafka record may be"
            except CommentError as exc:
                kind, reason = exc.kind, exc.reason
            except Exception as exc:  # a bug must not stop the stream or lose the record
                kind, reason = "engine_error", type(exc).__name__
            else:
                durations.append(clock() - started)
                if record.topic.rpartition(".")[2] != decision["channel"]:
                    mismatched[record.topic] += 1
                stamps.append(record.timestamp)
                actions.update(decision["actions"])
                categories.update(decision["categories"])
                continue
            dead[kind] += 1
            self._dead_letter(record, kind, reason, outbox)
        futures.extend(await outbox.flush())
        futures.extend(strikes.flush())
        self._count(consumed, actions, categories, dead, durations)
        for topic, n in mismatched.items():
            self.metrics.channel_mismatches.labels(topic).inc(n)
        return futures, stamps

    def _review(self, record: Record, outbox: Outbox, dead: Counter[str]) -> None:
        """A person's review: an overturned decision no longer counts as a strike."""
        review = _parse_review(record.value)
        if isinstance(review, str):
            dead["invalid_review"] += 1
            self.metrics.reviews.labels("invalid").inc()
            self._dead_letter(record, "invalid_review", review, outbox)
            return
        if not review.get("overturned"):
            self.metrics.reviews.labels("ignored").inc()
            return
        key = strike_key(review["channel"], review["author_id"])
        store = self.strikes.at(record.partition)
        updated = overturn_strike(store.get_strikes(key), review["comment_id"])
        if updated is None:
            self.metrics.reviews.labels("no_strike").inc()
        else:
            store.set_strikes(key, updated)
            self.metrics.reviews.labels("strike_removed").inc()

    def _dead_letter(self, record: Record, kind: str, reason: str, outbox: Outbox) -> None:
        key, value, headers = dead_letter(record, kind, reason)
        outbox.add(self.dead_letter_topic, key, value, headers)

    def _count(
        self,
        consumed: Counter[str],
        actions: Counter[str],
        categories: Counter[str],
        dead: Counter[str],
        durations: list[float],
    ) -> None:
        m = self.metrics
        for topic, n in consumed.items():
            m.comments.labels(topic.rpartition(".")[2]).inc(n)
        for action, n in actions.items():
            m.decisions.labels(action).inc(n)
        for category, n in categories.items():
            m.categories.labels(category).inc(n)
        for kind, n in dead.items():
            m.dead_letters.labels(kind).inc(n)
        m.processing.observe_many(durations)

    def delivered(self, stamps: list[int]) -> None:
        """Record produce-to-decision latency once a batch's decisions are on the broker."""
        now = time.time() * 1000.0
        self.metrics.latency.observe_many((now - s) / 1000.0 for s in stamps)
