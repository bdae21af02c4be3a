"""The records the console reads (decisions, outcomes, comments) checked field by field, and
the review records it writes on moderation.reviews (the format the worker and the sink read)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "PEOPLE_ACTIONS",
    "comment_problem",
    "decision_problem",
    "outcome_problem",
    "parse_time",
    "review_record",
    "utcnow",
]

#: Decisions with one of these actions wait for a person.
PEOPLE_ACTIONS: Final = frozenset(
    {"escalate", "report_platform", "report_authorities", "notify_compliance"}
)
REPORT_ACTIONS: Final = frozenset({"report_platform", "report_authorities"})


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the tables store."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_time(text: Any) -> datetime | None:
    """An ISO 8601 time as naive UTC, or None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


def _strings(doc: Any, names: tuple[str, ...]) -> str | None:
    if not isinstance(doc, dict):
        return "not a JSON object"
    for name in names:
        if not isinstance(doc.get(name), str) or not doc[name]:
            return f"field {name!r} missing or not a string"
    return None


def decision_problem(doc: Any) -> str | None:
    """Why ``doc`` is not a usable decision (never quoting it), or None."""
    problem = _strings(doc, ("comment_id", "channel", "author_id", "policy_version"))
    if problem:
        return problem
    if not isinstance(doc.get("actions"), list) or not doc["actions"]:
        return "field 'actions' missing or not a list"
    if not isinstance(doc.get("matches", []), list):
        return "field 'matches' not a list"
    escalation = doc.get("escalation")
    if escalation is not None and not isinstance(escalation, dict):
        return "field 'escalation' not an object"
    return None


def outcome_problem(doc: Any) -> str | None:
    return _strings(doc, ("action_id", "comment_id", "action", "operation", "status", "at"))


def comment_problem(doc: Any) -> str | None:
    problem = _strings(doc, ("id", "channel", "text"))
    if problem:
        return problem
    author = doc.get("author")
    if not isinstance(author, dict) or not isinstance(author.get("id"), str):
        return "field 'author.id' missing or not a string"
    return None


def review_record(
    case: dict[str, Any], action: str, overturned: bool, text: str | None = None
) -> tuple[str, bytes, dict[str, Any]]:
    """(review id, key, record) of one effect of a person's action on ``case``.

    The worker reads ``comment_id``, ``channel``, ``author_id`` and ``overturned`` (and removes
    the strike); the sink reads ``review_id``, ``action`` (reinstate, unblock, reply, remove,
    block), ``platform`` and ``text``. Key = the author's id, like the comment topics.
    """
    decision = case["decision"]
    review_id = uuid.uuid4().hex
    record: dict[str, Any] = {
        "review_id": review_id,
        "comment_id": case["comment_id"],
        "channel": case["channel"],
        "author_id": case["author_id"],
        "action": action,
        "overturned": overturned,
        "policy_version": decision.get("policy_version"),
        "version": decision.get("version"),
        "reviewed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    if isinstance(decision.get("platform"), dict):
        record["platform"] = decision["platform"]
    if text is not None:
        record["text"] = text
    return review_id, str(case["author_id"]).encode(), record
