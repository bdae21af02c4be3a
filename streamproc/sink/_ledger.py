"""The outcome ledger: the latest outcome of every action, from the compacted topic
``moderation.outcomes``, and the one way to record a new one (acknowledged by the broker
before the sink moves on).

An outcome goes to the partition number of the record it carries out, so a sink that owns
partition p of ``moderation.actions`` loads partition p of the outcomes, and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from streamproc.kafka import KafkaSettings
from streamproc.kafka._compacted import read_to_end
from streamproc.sink._plan import Step

__all__ = ["TERMINAL", "OutcomeLedger"]

#: Statuses after which an action is never attempted again.
TERMINAL = frozenset({"done", "failed", "skipped", "cancelled", "unknown", "for_people"})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class OutcomeLedger:
    def __init__(self, settings: KafkaSettings, topic: str, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.topic = topic
        self.producer = producer
        self._outcomes: dict[int, dict[str, dict[str, Any]]] = {}
        self._deleted: dict[str, asyncio.Event] = {}

    async def load(self, partitions: list[int]) -> None:
        """Read the outcomes of ``partitions`` back (a sink given them after a restart or a
        rebalance)."""
        for partition in partitions:
            table: dict[str, dict[str, Any]] = {}
            await read_to_end(self.settings, self.topic, self._applier(table), [partition])
            self._outcomes[partition] = table

    def _applier(self, table: dict[str, dict[str, Any]]) -> Callable[[bytes, bytes | None], None]:
        def apply(key: bytes, value: bytes | None) -> None:
            try:
                outcome = orjson.loads(value) if value else None
            except orjson.JSONDecodeError:
                outcome = None
            if not isinstance(outcome, dict):
                return
            table[key.decode("utf-8", "replace")] = outcome
            if outcome.get("action") == "comment_deleted":
                self.mark_deleted(str(outcome.get("comment_id")))

        return apply

    def forget(self, partitions: list[int]) -> None:
        for partition in partitions:
            self._outcomes.pop(partition, None)

    def get(self, partition: int, action_id: str) -> dict[str, Any] | None:
        return self._outcomes.get(partition, {}).get(action_id)

    def claimed_replies(self, partition: int) -> set[str]:
        """Reply ids already credited to an action (never credited to a second one)."""
        return {
            str(o["result"]["reply_id"])
            for o in self._outcomes.get(partition, {}).values()
            if isinstance(o.get("result"), dict) and o["result"].get("reply_id")
        }

    def deleted_event(self, comment_id: str) -> asyncio.Event:
        event = self._deleted.get(comment_id)
        if event is None:
            event = self._deleted[comment_id] = asyncio.Event()
            if len(self._deleted) > 200_000:  # bounded: the oldest marks matter least
                for key in list(self._deleted)[:50_000]:
                    del self._deleted[key]
        return event

    def mark_deleted(self, comment_id: str) -> None:
        self.deleted_event(comment_id).set()

    def is_deleted(self, comment_id: str) -> bool:
        event = self._deleted.get(comment_id)
        return event is not None and event.is_set()

    async def record(
        self,
        partition: int,
        step: Step,
        status: str,
        source: str,
        *,
        reason: str | None = None,
        attempts: int = 0,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        outcome: dict[str, Any] = {
            "action_id": step.action_id,
            "comment_id": step.comment_id,
            "channel": step.channel,
            "version": step.version,
            "action": step.action,
            "operation": step.operation,
            "status": status,
            "reason": reason[:500] if reason else None,
            "attempts": attempts,
            "platform": step.platform,
            "result": result,
            "decided_at": step.decided_at,
            "at": _now(),
            "source": source,
        }
        future = await self.producer.send(
            self.topic, orjson.dumps(outcome), key=step.action_id.encode(), partition=partition
        )
        await future
        self._outcomes.setdefault(partition, {})[step.action_id] = outcome
        return outcome
