"""The author's strikes on a case page: which earlier decisions count, on which ladder, until
when; an overturned one is lifted, an old one expired, a borderline or a removal of personal
data no strike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streamproc.core import load_pack
from streamproc.review._strikes import StrikeWindows

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def row(actions: list[str], categories: list[str], decided_at: str, status: str = "open"
        ) -> dict[str, Any]:  # fmt: skip
    decision = {"actions": actions, "categories": categories, "decided_at": decided_at}
    return {"decision": decision, "decided_at": decided_at, "status": status}


def test_strikes_follow_the_packs_ladders_and_windows() -> None:
    windows = StrikeWindows(load_pack())
    assert windows.by_category["insult"] == ("conduct", 90)
    rows = windows.annotate(
        [
            row(["remove", "warn"], ["insult"], "2026-11-30T10:00:00.000+00:00"),
            row(["remove", "block"], ["insult"], "2026-11-01T10:00:00Z", status="overturned"),
            row(["remove", "warn"], ["profanity"], "2026-08-01T10:00:00Z"),
            row(["remove"], ["spam"], "2026-12-01T08:00:00Z"),
            row(["escalate"], ["insult"], "2026-12-01T08:00:00Z"),  # borderline: no strike
            row(["remove", "escalate"], ["pii"], "2026-12-01T08:00:00Z"),  # no ladder
            row(["remove", "warn"], ["insult"], "not a time"),
        ],
        NOW,
    )
    strikes = [r["strike"] for r in rows]
    assert strikes[0] == {"ladder": "conduct", "until": "2027-02-28", "state": "active"}
    assert strikes[1] == {"ladder": "conduct", "until": "2027-01-30", "state": "lifted"}
    assert strikes[2] == {"ladder": "conduct", "until": "2026-10-30", "state": "expired"}
    assert strikes[3] == {"ladder": "spam", "until": "2027-03-01", "state": "active"}
    assert strikes[4:] == [None, None, None]
