"""The engine's strike store backed by the worker's Faust table (a seam on faust-streaming).

Writes are collected per batch and sent to the table's changelog once per author, to the
partition the author's comments came from (so the table stays co-partitioned with the comment
topics). ``table[key] = value`` cannot be used here: outside a Faust stream there is no current
event for Faust to take the partition from. So this relies on two things of faust-streaming
0.15.3's tables (checked by tests/unit/test_faust_seams.py): ``table.data`` is the store's
mapping (a dict for the memory store), and ``table.send_changelog(partition, key, value)``
sends one change to the changelog and returns its delivery future.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from streamproc.core import StrikeStore

__all__ = ["ChangeloggedStrikes", "TableStrikeStore"]


class ChangeloggedStrikes(Protocol):
    """Strikes whose changes go to a log partitioned like the comments (the pipeline's view)."""

    def at(self, partition: int) -> StrikeStore:
        """The store for the comments of one partition."""

    def flush(self) -> list[Any]:
        """Send the changes made since the last flush; their delivery futures."""


class _PartitionStrikes:
    __slots__ = ("_partition", "_store")

    def __init__(self, store: TableStrikeStore, partition: int) -> None:
        self._store = store
        self._partition = partition

    def get_strikes(self, author_key: str) -> list[list[Any]] | None:
        return self._store.get(author_key)

    def set_strikes(self, author_key: str, strikes: list[list[Any]]) -> None:
        self._store.set(author_key, strikes, self._partition)


class TableStrikeStore:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._pending: dict[str, tuple[bytes, int]] = {}
        self._views: dict[int, _PartitionStrikes] = {}

    def at(self, partition: int) -> StrikeStore:
        view = self._views.get(partition)
        if view is None:
            view = self._views[partition] = _PartitionStrikes(self, partition)
        return view

    def get(self, author_key: str) -> list[list[Any]] | None:
        pending = self._pending.get(author_key)
        raw = pending[0] if pending is not None else self._table.data.get(author_key)
        return orjson.loads(raw) if raw else None

    def set(self, author_key: str, strikes: list[list[Any]], partition: int) -> None:
        raw = orjson.dumps(strikes)
        self._table.data[author_key] = raw
        self._pending[author_key] = (raw, partition)

    def flush(self) -> list[Any]:
        futures = [
            self._table.send_changelog(partition, key, raw)
            for key, (raw, partition) in self._pending.items()
        ]
        self._pending.clear()
        return futures
