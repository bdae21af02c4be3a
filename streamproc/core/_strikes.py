"""Per-author strikes behind a small interface: a dict for the CLI, a Faust table when streaming.

A strike is ``[comment_id, epoch_seconds, ladder]``: plain JSON, so a Faust table or any
key-value store can hold an author's list as it is. Strikes are keyed by comment id, so
replaying a comment (a restart, a backtest run twice) never adds a second strike.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final, Protocol

__all__ = ["MemoryStrikeStore", "StrikeStore", "record_strike"]

MAX_STRIKES_KEPT: Final = 64
_DAY: Final = 86400.0

StrikeList = list[list[Any]]


class StrikeStore(Protocol):
    """Where the engine keeps each author's strikes."""

    def get_strikes(self, author_key: str) -> StrikeList | None: ...

    def set_strikes(self, author_key: str, strikes: StrikeList) -> None: ...


class MemoryStrikeStore:
    """Strikes in a mapping (a dict by default)."""

    def __init__(self, data: MutableMapping[str, StrikeList] | None = None) -> None:
        self.data: MutableMapping[str, StrikeList] = data if data is not None else {}

    def get_strikes(self, author_key: str) -> StrikeList | None:
        return self.data.get(author_key)

    def set_strikes(self, author_key: str, strikes: StrikeList) -> None:
        self.data[author_key] = strikes


def record_strike(
    strikes: StrikeList | None,
    comment_id: str,
    at: float,
    ladder: str,
    window_days: int,
    longest_window_days: int,
) -> tuple[int, StrikeList | None]:
    """Add a strike and say which one it is (1 = first within the window).

    Returns the strike number and the new list to store, or None when nothing changed (the
    comment had already been counted: the number is then the one it got the first time).
    """
    existing = list(strikes or [])
    window = window_days * _DAY
    for index, (cid, when, lad) in enumerate(existing):
        if cid == comment_id and lad == ladder:
            earlier = sum(
                1
                for c, w, lad2 in existing[:index]
                if lad2 == ladder and when - window <= w <= when
            )
            return earlier + 1, None
    prior = sum(1 for _, w, lad in existing if lad == ladder and at - window <= w <= at)
    existing.append([comment_id, at, ladder])
    horizon = max(w for _, w, _ in existing) - longest_window_days * _DAY
    kept = [s for s in existing if s[1] >= horizon][-MAX_STRIKES_KEPT:]
    return prior + 1, kept
