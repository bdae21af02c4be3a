"""Retention: after N days a case keeps its decision skeleton (what was decided, by which rule
and policy version, what was done on the platform, who reviewed it and when) and loses the
comment's text and the personal data around it. The audit trail is append-only and holds no
comment text, so it is kept whole; the purge itself is an audit row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection, Engine, Select, delete, select, text, update

from streamproc.review._actions import write_audit
from streamproc.review._records import utcnow
from streamproc.review._schema import NOT_PURGED, PURGED, appeals, cases, comments, outbox

__all__ = ["PURGED", "Purged", "purge_expired", "skeleton"]

#: The decision fields a purged case keeps: none of them holds text or who wrote it.
_SKELETON_FIELDS: Final = (
    "comment_id",
    "channel",
    "version",
    "categories",
    "actions",
    "matches",
    "policy_version",
    "reasons",
    "decided_at",
    "escalation",
    "decision_id",
)


@dataclass(frozen=True)
class Purged:
    """How many rows of each kind one purge emptied."""

    cases: int = 0
    comments: int = 0
    appeals: int = 0
    outbox: int = 0

    @property
    def total(self) -> int:
        return self.cases + self.comments + self.appeals + self.outbox


def skeleton(decision: dict[str, Any]) -> dict[str, Any]:
    """A decision without its author, platform ids and reply text. Match spans stay: they are
    offsets into a text that is gone, and say which rule matched how much."""
    kept: dict[str, Any] = {k: decision[k] for k in _SKELETON_FIELDS if k in decision}
    kept["purged"] = True
    return kept


def purge_expired(engine: Engine, older_than: timedelta, batch: int = 500) -> Purged:
    """Empty the cases created more than ``older_than`` ago, in batches of ``batch`` cases per
    transaction (a large backlog never holds one long lock). Idempotent: a purged case is not
    purged again."""
    total = Purged()
    while True:
        with engine.begin() as connection:
            done = _purge_batch(connection, utcnow() - older_than, batch)
            if done.total:
                detail = (
                    f"purged after {older_than.days} days: {done.cases} cases, "
                    f"{done.comments} comments, {done.appeals} appeal statements, "
                    f"{done.outbox} sent review records"
                )
                write_audit(connection, "system", "retention", None, detail)
        total = Purged(
            total.cases + done.cases,
            total.comments + done.comments,
            total.appeals + done.appeals,
            total.outbox + done.outbox,
        )
        if done.cases < batch:
            return total


def expired_cases(cutoff: Any, batch: int) -> Select[Any]:
    """The next ``batch`` cases to purge, oldest first: the condition is the partial index's own
    text (a bound parameter would not prove the index applies), and the index gives the order."""
    return (
        select(cases.c.id, cases.c.comment_id, cases.c.decision)
        .where(cases.c.created_at < cutoff, text(NOT_PURGED))
        .order_by(cases.c.created_at)
        .limit(batch)
    )


def _purge_batch(connection: Connection, cutoff: Any, batch: int) -> Purged:
    rows = connection.execute(expired_cases(cutoff, batch)).all()
    if not rows:
        return Purged()
    ids = [r.id for r in rows]
    comment_ids = [r.comment_id for r in rows]
    for row in rows:
        connection.execute(
            update(cases)
            .where(cases.c.id == row.id)
            .values(author_id=PURGED, decision=skeleton(dict(row.decision)), claimed_by=None)
        )
    purged_comments = connection.execute(
        update(comments)
        .where(comments.c.comment_id.in_(comment_ids), comments.c.text != "")
        .values(text="", author_id=PURGED, author_name=None)
    ).rowcount
    purged_appeals = connection.execute(
        update(appeals)
        .where(appeals.c.case_id.in_(ids), appeals.c.statement != PURGED)
        .values(statement=PURGED)
    ).rowcount
    # Review records already published are the broker's now; unsent ones still have to go.
    sent = connection.execute(
        delete(outbox).where(outbox.c.case_id.in_(ids), outbox.c.sent_at.is_not(None))
    ).rowcount
    return Purged(len(rows), int(purged_comments or 0), int(purged_appeals or 0), int(sent or 0))
