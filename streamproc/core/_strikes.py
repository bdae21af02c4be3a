"""Per-author strikes behind a small interface: a dict for the CLI, a Faust table when streaming.

A strike is ``[comment_id, epoch_seconds, ladder]``: plain JSON, so a Faust table or any
key-value store can hold an author's list as it is. Strikes are keyed by comment id, so
replaying a comment (a restart, a backtest run twice) never adds a second strike.

A strike also keeps the number it got (``[comment_id, epoch_seconds, ladder, number]``), so
that a replay is decided exactly as the first time, whatever happened to the list since (a
strike overturned meanwhile, the oldest ones dropped past :data:`MAX_STRIKES_KEPT`). Lists
written before the number was kept (three items) are read as they were.

A person can overturn a decision (the review console): its strike then stays in the list
marked ``[comment_id, epoch_seconds, ladder, number, "overturned"]``, so that a replay of that
comment does not count it again, and no later violation counts it at all.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final, Protocol

__all__ = [
    "OVERTURNED",
    "MemoryStrikeStore",
    "StrikeStore",
    "overturn_strike",
    "record_strike",
    "strike_key",
]

MAX_STRIKES_KEPT: Final = 64
OVERTURNED: Final = "overturned"
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


def strike_key(channel: str, author_id: str) -> str:
    """Strikes are counted per author and channel."""
    return f"{channel}:{author_id}"


def _counts(strike: list[Any]) -> bool:
    return not (len(strike) > 4 and strike[4] == OVERTURNED)


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
    Overturned strikes count for nothing in a new strike's number.
    """
    existing = list(strikes or [])
    window = window_days * _DAY
    for index, strike in enumerate(existing):
        if strike[0] == comment_id and strike[2] == ladder:
            if len(strike) > 3:
                return int(strike[3]), None
            when = strike[1]  # a list from before the number was kept
            earlier = sum(
                1 for s in existing[:index] if s[2] == ladder and when - window <= s[1] <= when
            )
            return earlier + 1, None
    prior = sum(1 for s in existing if s[2] == ladder and at - window <= s[1] <= at and _counts(s))
    existing.append([comment_id, at, ladder, prior + 1])
    horizon = max(s[1] for s in existing) - longest_window_days * _DAY
    kept = [s for s in existing if s[1] >= horizon][-MAX_STRIKES_KEPT:]
    return prior + 1, kept


def overturn_strike(strikes: StrikeList | None, comment_id: str) -> StrikeList | None:
    """The list with the strikes of ``comment_id`` marked overturned, or None if it has none
    that still count (already overturned, expired, or never struck)."""
    if not strikes or not any(s[0] == comment_id and _counts(s) for s in strikes):
        return None
    marked: StrikeList = []
    for s in strikes:
        if s[0] == comment_id and _counts(s):
            number = s[3] if len(s) > 3 else 0  # 0: not known (an old list)
            marked.append([s[0], s[1], s[2], number, OVERTURNED])
        else:
            marked.append(list(s))
    return marked
