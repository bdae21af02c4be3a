"""The statement of reasons of a decision, modelled on the Digital Services Act, art. 17, in the
vocabulary of the EU's DSA Transparency Database (``decision_visibility``, ``decision_account``,
``decision_ground``, ``automated_detection``, ``automated_decision``...): what was done, where
and for how long, the facts and rules relied on, whether people took part, the policy clause
and version, and how to appeal. Personal data is masked: a span that matched personal data is
described by its kind, never quoted, and the author is a pseudonym.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from streamproc.review._render import pseudonym

__all__ = ["REVIEWED", "statement_of_reasons"]

#: Case statuses that mean a person looked at the decision.
REVIEWED: Final = frozenset({"confirmed", "overturned"})
_MAX_QUOTE = 80  # characters of a matched span quoted in the facts

REDRESS: Final = (
    "An internal complaint through the appeal link (DSA art. 20), decided by a person; an "
    "out-of-court dispute settlement body (art. 21); the courts."
)


def _visibility(actions: list[str], outcomes: list[dict[str, Any]]) -> list[str]:
    if "remove" not in actions:
        return []
    operations = {o["operation"] for o in outcomes if o.get("action") == "remove"}
    if "delete" in operations:
        return ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    if "hide" in operations:  # hidden from everyone but its author: it can be reinstated
        return ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    return ["DECISION_VISIBILITY_CONTENT_REMOVED"]


def _facts(text: str | None, matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    facts = []
    for m in matches:
        if not isinstance(m, dict):
            continue
        start, end = int(m.get("start", 0)), int(m.get("end", 0))
        fact: dict[str, Any] = {
            "category": m.get("category"),
            "rule": m.get("rule"),
            "confidence": m.get("confidence"),
            "severity": m.get("severity"),
            "span": [start, end],
        }
        if m.get("kind"):
            fact["matched"] = f"[{m['kind']}]"  # personal data: its kind, never the value
        elif text is not None and 0 <= start < end <= len(text):
            fact["matched"] = text[start:end][:_MAX_QUOTE]
        facts.append(fact)
    return facts


def statement_of_reasons(
    case: dict[str, Any],
    reviewers: list[str],
    appeal_url: str | None,
    appeal_until: int | None,
    public: bool,
) -> dict[str, Any]:
    """The statement of ``case`` (as :meth:`Store.case` returns it). ``reviewers``: who acted
    on it, named only to the console (``public`` is the author's appeal page)."""
    decision = case["decision"]
    actions = [str(a) for a in decision.get("actions", [])]
    comment = case.get("comment")
    text = comment["text"] if comment else None
    reviewed = case["status"] in REVIEWED or any(
        a.get("status") in ("upheld", "rejected") for a in case.get("appeals", [])
    )
    measures = []
    if "remove" in actions:
        measures.append("the comment was removed from public view")
    if "block" in actions:
        measures.append(f"the author was blocked on the institution's {case['channel']} account")
    if "warn" in actions:
        measures.append("the author was warned (a strike, counted by the policy's ladder)")
    if case["status"] == "overturned":
        measures.append("a person overturned the decision: the comment was reinstated")
    automation: dict[str, Any] = {
        "automated_detection": True,
        "automated_decision": (
            "AUTOMATED_DECISION_PARTIALLY" if reviewed else "AUTOMATED_DECISION_FULLY"
        ),
        "explanation": (
            "Detected by the policy engine's word and pattern rules (no learned model); "
            + ("then reviewed by a person." if reviewed else "no person has reviewed it yet.")
        ),
    }
    if not public:
        automation["reviewed_by"] = reviewers
    decided = decision.get("decided_at")
    statement: dict[str, Any] = {
        "case_id": case["id"],
        "comment_id": case["comment_id"],
        "channel": case["channel"],
        "author": pseudonym(case["channel"], case["author_id"]),
        "content_type": ["CONTENT_TYPE_TEXT"],
        "content_date": comment["created_at"] if comment else None,
        "application_date": decided,
        "decision_visibility": _visibility(actions, case.get("outcomes", [])),
        "decision_account": ["DECISION_ACCOUNT_SUSPENDED"] if "block" in actions else [],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "measures": measures,
        "actions": actions,
        "status": case["status"],
        "territorial_scope": "the institution's account on this channel only",
        "duration": (
            "indefinite: until an appeal or a review reinstates it"
            if {"remove", "block"} & set(actions)
            else "none (no restriction)"
        ),
        "categories": list(decision.get("categories", [])),
        "facts": _facts(text, decision.get("matches", [])),
        "grounds": list(decision.get("reasons", [])),  # the policy clauses (masked by the engine)
        "policy_version": decision.get("policy_version"),
        "source_type": "SOURCE_VOLUNTARY",  # the institution's own moderation, not a notice
        **automation,
        "redress": REDRESS,
        "appeal_url": appeal_url,
        "appeal_until": (
            datetime.fromtimestamp(appeal_until, UTC).isoformat() if appeal_until else None
        ),
    }
    return statement
