"""The author's strikes as a case page shows them: each earlier decision that counted against
the author on that channel, on which ladder, until when, and whether it still counts.

The worker keeps the strikes themselves; the console reads the same facts back from the
decisions it stored and the ladders' windows of the policy pack it was started with
(``STREAMPROC_POLICY``, the bundled pack by default), so a window changed by a later policy is
shown as the pack on disk says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from streamproc.core import PolicyPack
from streamproc.review._records import parse_time

__all__ = ["StrikeWindows", "strike_of"]

#: Actions that mean a decision judged the comment a violation (a borderline escalation alone,
#: or personal data removed without a strike, is not one).
_VIOLATION: Final = frozenset({"warn", "block", "remove"})


class StrikeWindows:
    """category -> (ladder, window) from a policy pack."""

    def __init__(self, pack: PolicyPack) -> None:
        self.by_category: Mapping[str, tuple[str, int]] = {
            name: (c.ladder, pack.ladders[c.ladder].window_days)
            for name, c in pack.categories.items()
            if c.ladder is not None and c.ladder in pack.ladders
        }

    def annotate(
        self, cases: Iterable[dict[str, Any]], now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """``cases`` (a case and its history rows), each with ``strike`` set."""
        now = now or datetime.now(UTC)
        return [{**c, "strike": strike_of(c, self.by_category, now)} for c in cases]


def strike_of(
    case: dict[str, Any], windows: Mapping[str, tuple[str, int]], now: datetime
) -> dict[str, Any] | None:
    """``{"ladder", "until", "state"}`` (state: active, expired, lifted) for a decision that
    struck its author, else None."""
    found = case.get("decision")
    decision: dict[str, Any] = found if isinstance(found, dict) else {}
    actions = set(decision.get("actions") or [])
    if not actions & _VIOLATION:
        return None
    ladders = [windows[c] for c in decision.get("categories") or [] if c in windows]
    decided = parse_time(case.get("decided_at") or decision.get("decided_at"))
    if not ladders or decided is None:
        return None
    ladder, days = max(ladders, key=lambda pair: pair[1])
    until = decided + timedelta(days=days)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)  # as parse_time gives: naive UTC
    if case.get("status") == "overturned":
        state = "lifted"
    else:
        state = "active" if until > now else "expired"
    return {"ladder": ladder, "until": until.date().isoformat(), "state": state}
