"""The engine's strike store backed by the worker's Faust table.

Writes are collected per batch and sent to the table's changelog once per author, to the
partition the author's comments came from (so the table stays co-partitioned with the comment
topics). ``table[key] = value`` cannot be used here: inside ``take_events`` there is no current
event for Faust to take the partition from.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["TableStrikeStore"]


class TableStrikeStore:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._pending: dict[str, tuple[bytes, int]] = {}
        self.partition = 0  # the partition of the comment being decided

    def get_strikes(self, author_key: str) -> list[list[Any]] | None:
        pending = self._pending.get(author_key)
        raw = pending[0] if pending is not None else self._table.data.get(author_key)
        return orjson.loads(raw) if raw else None

    def set_strikes(self, author_key: str, strikes: list[list[Any]]) -> None:
        raw = orjson.dumps(strikes)
        self._table.data[author_key] = raw
        self._pending[author_key] = (raw, self.partition)

    def flush(self) -> list[Any]:
        """Send this batch's changes to the changelog; returns the delivery futures."""
        futures = [
            self._table.send_changelog(partition, key, raw)
            for key, (raw, partition) in self._pending.items()
        ]
        self._pending.clear()
        return futures
