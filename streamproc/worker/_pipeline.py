"""One batch of comment records in, one decision (or dead letter) per record out.

Kept apart from the Faust app so that it can be read and tested without a broker: it takes
records with ``topic``, ``partition``, ``offset``, ``timestamp``, ``key`` and ``value`` (Faust's
Message has them) and a ``send`` coroutine with the signature of Faust's producer.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import orjson

from streamproc.core import CommentError, Engine
from streamproc.worker._metrics import WorkerMetrics
from streamproc.worker._strikes import TableStrikeStore

__all__ = ["BatchProcessor", "EngineHolder", "Record"]

Send = Callable[..., Awaitable[Any]]


class Record(Protocol):
    topic: str
    partition: int
    offset: int
    timestamp: float  # seconds since the epoch, as Faust gives it
    key: bytes | None
    value: bytes | None


class EngineHolder:
    """The engine in force; replaced whole when a new policy arrives (an atomic swap)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def version(self) -> str:
        return self.engine.policy_version


def dead_letter_headers(reason: str, kind: str, record: Record) -> list[tuple[str, bytes]]:
    return [
        ("streamproc.error", kind.encode()),
        ("streamproc.reason", reason.encode("utf-8", "replace")[:1000]),
        ("streamproc.source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
    ]


class BatchProcessor:
    def __init__(
        self,
        engines: EngineHolder,
        strikes: TableStrikeStore,
        metrics: WorkerMetrics,
        actions_topic: str,
        dead_letter_topic: str,
    ) -> None:
        self.engines = engines
        self.strikes = strikes
        self.metrics = metrics
        self.actions_topic = actions_topic
        self.dead_letter_topic = dead_letter_topic
        self.positions: dict[tuple[str, int], int] = {}  # last offset decided, for the lag gauge

    async def process(self, records: Sequence[Record], send: Send) -> tuple[list[Any], list[float]]:
        """Decide every record; returns the delivery futures and the records' timestamps.

        The caller awaits the futures before acknowledging the records, so that no offset is
        committed before its decision (or dead letter) is on the broker.
        """
        moderate = self.engines.engine.moderate_json
        strikes = self.strikes
        dumps = orjson.dumps
        clock = time.perf_counter
        actions_topic, dead_topic = self.actions_topic, self.dead_letter_topic
        futures: list[Any] = []
        stamps: list[float] = []
        durations: list[float] = []
        consumed: Counter[str] = Counter()
        actions: Counter[str] = Counter()
        categories: Counter[str] = Counter()
        dead: Counter[str] = Counter()
        positions = self.positions
        for record in records:
            started = clock()
            consumed[record.topic] += 1
            positions[record.topic, record.partition] = record.offset
            strikes.partition = record.partition
            try:
                if not record.value:
                    raise CommentError("empty record", "invalid_json")
                decision = moderate(record.value, strikes)
                payload = dumps(decision)
            except CommentError as exc:
                kind, reason = exc.kind, exc.reason
            except Exception as exc:  # a bug must not stop the stream or lose the record
                kind, reason = "engine_error", f"{type(exc).__name__}: {exc}"
            else:
                durations.append(clock() - started)
                futures.append(
                    await send(
                        actions_topic, decision["comment_id"].encode(), payload, None, None, None
                    )
                )
                stamps.append(record.timestamp)
                actions.update(decision["actions"])
                categories.update(decision["categories"])
                continue
            dead[kind] += 1
            headers = dead_letter_headers(reason, kind, record)
            futures.append(await send(dead_topic, record.key, record.value, None, None, headers))
        futures.extend(strikes.flush())
        self._count(consumed, actions, categories, dead, durations)
        return futures, stamps

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

    def delivered(self, stamps: list[float]) -> None:
        """Record produce-to-decision latency once a batch's decisions are on the broker."""
        now = time.time()
        self.metrics.latency.observe_many(now - s for s in stamps)
