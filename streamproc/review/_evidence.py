"""Evidence packs for reports, and bulk confirmation.

An evidence pack is what a person attaches to the platform's report form or to a report to the
authorities: the comment as the console stored it (personal data masked unless the role may
reveal it), where and when it was published, its platform ids, what matched and under which
policy clause and version, what automation did and the platform's outcomes, the statement of
reasons, and a SHA-256 of the text so the copy can be checked later. Downloading one is audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Final

from streamproc.review._actions import ActionError, Actions, write_audit
from streamproc.review._records import utcnow
from streamproc.review._render import masked, pseudonym
from streamproc.review._store import can

__all__ = [
    "MAX_BULK",
    "bulk_confirm",
    "evidence_pack",
    "evidence_text",
    "masked_decision",
]

MAX_BULK: Final = 200


def masked_decision(decision: dict[str, Any]) -> dict[str, Any]:
    """``decision`` without the author's ids (its ``author_id`` and the platform's
    ``user_id``): they name the person as surely as the name does, so only a role that may
    reveal sees them."""
    shown = {k: v for k, v in decision.items() if k != "author_id"}
    platform = decision.get("platform")
    if isinstance(platform, dict):
        shown["platform"] = {k: v for k, v in platform.items() if k != "user_id"}
    return shown


def evidence_pack(
    actions: Actions, user: dict[str, Any], case_id: int, statement: dict[str, Any] | None
) -> dict[str, Any]:
    """The evidence of case ``case_id`` (a report to file) with its ``statement`` of reasons,
    audited. Raises ActionError."""
    case = actions.store.case(case_id, user["role"])
    if case is None:
        raise ActionError(f"no case {case_id}", 404)
    if not can(user["role"], "act"):
        raise ActionError("this role cannot act on cases", 403)
    decision = case["decision"]
    matches = [m for m in decision.get("matches") or [] if isinstance(m, dict)]
    reveal = can(user["role"], "reveal")
    comment = case["comment"]
    text = comment["text"] if comment is not None else None
    shown = text if reveal or text is None else masked(text, matches)
    pack: dict[str, Any] = {
        "case_id": case["id"],
        "prepared_at": utcnow().isoformat() + "Z",
        "prepared_by": user["name"],
        "reports_due": [a for a in decision.get("actions", []) if a.startswith("report_")],
        "channel": case["channel"],
        "comment_id": case["comment_id"],
        "platform": (decision if reveal else masked_decision(decision)).get("platform") or {},
        "published_at": comment["created_at"] if comment is not None else None,
        "author": pseudonym(case["channel"], case["author_id"]),
        "text": shown,
        "personal_data_masked": not reveal,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest() if text is not None else None,
        "matches": matches,
        "categories": decision.get("categories", []),
        "policy_version": case["policy_version"],
        "policy_reasons": decision.get("reasons", []),
        "decided_at": case["decided_at"],
        "actions": decision.get("actions", []),
        "outcomes": [
            {k: o[k] for k in ("action", "operation", "status", "at")} for o in case["outcomes"]
        ],
        "statement_of_reasons": statement,
    }
    if reveal:
        pack["author_id"] = case["author_id"]
    with actions.engine.begin() as connection:
        detail = "with personal data" if reveal else "(personal data masked)"
        write_audit(
            connection, user["name"], "evidence", case_id, f"evidence pack prepared {detail}"
        )
    return pack


def evidence_text(pack: dict[str, Any]) -> str:
    """The pack as plain text, to paste into a form that takes no file."""
    lines = [
        f"Case {pack['case_id']} — evidence prepared {pack['prepared_at']} by "
        f"{pack['prepared_by']}",
        f"Channel: {pack['channel']}   comment: {pack['comment_id']}   "
        f"platform ids: {', '.join(f'{k}={v}' for k, v in sorted(pack['platform'].items()))}",
        f"Published: {pack['published_at']}   author: {pack['author']}",
        f"Text (SHA-256 {pack['text_sha256']}"
        + (", personal data masked" if pack["personal_data_masked"] else "")
        + "):",
        f"  {pack['text']}",
        f"Categories: {', '.join(pack['categories'])}",
        "Matched:",
        *(
            f"  [{m.get('start')}, {m.get('end')}) {m.get('category')} by rule {m.get('rule')} "
            f"({m.get('confidence')} confidence)"
            for m in pack["matches"]
        ),
        f"Policy {pack['policy_version']}:",
        *(f"  {r}" for r in pack["policy_reasons"]),
        f"Decided {pack['decided_at']}: {', '.join(pack['actions'])}",
        "Done on the platform:",
        *(
            f"  {o['action']}: {o['operation']} {o['status']} at {o['at']}"
            for o in pack["outcomes"]
        ),
    ]
    return "\n".join(lines) + "\n"


def bulk_confirm(
    actions: Actions,
    user: dict[str, Any],
    case_ids: list[int],
    reason: str = "",
    on_confirmed: Callable[[dict[str, Any]], None] | None = None,
) -> dict[int, str]:
    """Confirm each case; per id ``confirmed`` or why not. A case someone else claimed is left
    to them (bulk work must not take over another person's case unknowingly). ``on_confirmed``
    gets each confirmed case as it was read (for the metrics: no second read)."""
    if len(case_ids) > MAX_BULK:
        raise ActionError(f"at most {MAX_BULK} cases at once", 400)
    results: dict[int, str] = {}
    for case_id in dict.fromkeys(case_ids):
        case = actions.store.case(case_id, user["role"])
        if case is None:
            results[case_id] = "no such case"
        elif case["claimed_by"] not in (None, user["name"]):
            results[case_id] = f"claimed by {case['claimed_by']}"
        elif case["status"] != "open":
            results[case_id] = f"already {case['status']}"
        else:
            try:
                actions.confirm(user, case_id, reason)
                results[case_id] = "confirmed"
                if on_confirmed is not None:
                    on_confirmed(case)
            except ActionError as exc:
                results[case_id] = str(exc)
    return results
