"""From a decision (or a review) to the steps the sink takes, in order, each with its
deterministic action id: ``<comment id>:<version>:<action>`` (the comment id of a connector's
comment is ``<channel>:<platform comment id>``), ``review:<review id>:<action>`` for a review.

Order: remove, block, one reply (``redirect`` or ``warn``: the decision has one reply text),
then the cases for people (``report_platform``, ``report_authorities``, ``notify_compliance``,
``escalate``), which need no platform call.

The reply of a decision that warned, removed or blocked carries its signed appeal link (on a
line of its own) when the sink has one for it (``streamproc._appeal``); a redirect alone
restricts nothing and gets none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from streamproc.sink._client import Capabilities

__all__ = [
    "FOR_PEOPLE",
    "IDEMPOTENT",
    "X_LIMIT",
    "Step",
    "plan_decision",
    "plan_review",
    "with_appeal_link",
]

# The review actions the sink carries out on a platform (plan_review).
REVIEW_ACTIONS = ("reinstate", "unblock", "reply", "remove", "block")
FOR_PEOPLE = ("report_platform", "report_authorities", "notify_compliance", "escalate")
IDEMPOTENT = frozenset({"hide", "unhide", "delete", "ban", "unban"})
Kind = Literal["call", "people", "skip", "marker"]
APPEALABLE = frozenset({"warn", "remove", "block"})
X_LIMIT = 280  # characters of a post on X
X_LINK = 23  # X counts every link as 23 characters (t.co), however long


def _x_length(text: str) -> int:
    """A post's length as X counts it: Latin, Greek, Cyrillic... and common punctuation weigh
    1, other characters (CJK, emoji) 2; links are counted by the caller."""
    light = ((0, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
    return sum(1 if any(a <= ord(c) <= b for a, b in light) else 2 for c in text)


def with_appeal_link(text: str, link: str | None, channel: str) -> str:
    """``text`` with the appeal link on its own line; on X only if the post stays within
    280 characters (the reply itself matters more than the link)."""
    if not link:
        return text
    if channel == "twitter" and _x_length(text) + 1 + X_LINK > X_LIMIT:
        return text
    return f"{text}\n{link}"


@dataclass
class Step:
    action_id: str
    action: str
    operation: str  # hide, unhide, delete, ban, unban, reply_public, reply_private, none
    kind: Kind
    comment_id: str
    channel: str
    version: int | None
    platform: dict[str, Any] | None
    text: str | None = None
    reason: str | None = None
    decided_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def plan_decision(
    decision: dict[str, Any],
    capabilities: Capabilities | None,
    remove_mode: str,
    reply_mode: str,
    appeal_link: str | None = None,
) -> list[Step]:
    """``capabilities`` is None when the channel is not configured in this sink;
    ``appeal_link`` the decision's signed appeal address, if the sink makes them."""
    comment_id = str(decision["comment_id"])
    channel = str(decision["channel"])
    version = decision.get("version")
    platform = decision.get("platform")
    base = f"{comment_id}:{version or 1}"
    reply = decision.get("reply")
    if isinstance(reply, str) and reply and APPEALABLE & set(decision.get("actions") or []):
        reply = with_appeal_link(reply, appeal_link, channel)

    def step(action: str, operation: str, kind: Kind, reason: str | None = None) -> Step:
        return Step(
            f"{base}:{action}",
            action,
            operation,
            kind,
            comment_id,
            channel,
            version,
            platform if isinstance(platform, dict) else None,
            reply,
            reason,
            decision.get("decided_at"),
        )

    if decision.get("deleted"):
        marker = step("comment_deleted", "none", "marker")
        marker.action_id = f"{comment_id}:deleted"
        return [marker]
    actions = [a for a in decision.get("actions") or [] if a != "allow"]
    has_ref = isinstance(platform, dict) and bool(
        platform.get("comment_id") or platform.get("message_id")
    )
    message = isinstance(platform, dict) and bool(platform.get("message_id"))
    steps: list[Step] = []

    def platform_step(action: str, operation: str, able: bool, why_not: str) -> Step:
        if not has_ref:
            return step(action, operation, "skip", "no platform reference in the decision")
        if capabilities is None:
            return step(action, operation, "skip", f"{channel} is not configured in this sink")
        if not able:
            return step(action, "none", "people", why_not)
        return step(action, operation, "call")

    caps = capabilities or Capabilities()
    if "remove" in actions:
        if message:
            steps.append(step("remove", "none", "people", "a private message cannot be hidden"))
        elif remove_mode == "delete":
            steps.append(platform_step("remove", "delete", caps.delete, f"{channel}: no delete"))
        else:
            able = caps.hide or caps.delete
            operation = "hide" if caps.hide or capabilities is None else "delete"
            steps.append(platform_step("remove", operation, able, f"{channel} cannot remove"))
    if "block" in actions:
        steps.append(platform_step("block", "ban", caps.ban, f"{channel} has no block API"))
    replies = [a for a in ("redirect", "warn") if a in actions]
    for index, action in enumerate(replies):
        if index:
            steps.append(
                step(action, "none", "skip", f"one reply per decision (sent for {replies[0]})")
            )
            continue
        if not decision.get("reply"):
            steps.append(step(action, "none", "skip", "the decision has no reply text"))
            continue
        private = message or (reply_mode == "private" and caps.reply_private)
        if not private and not caps.reply_public and caps.reply_private:
            private = True
        operation = "reply_private" if private else "reply_public"
        able = caps.reply_private if private else caps.reply_public
        steps.append(platform_step(action, operation, able, f"{channel} cannot reply"))
    for action in FOR_PEOPLE:
        if action in actions:
            steps.append(step(action, "none", "people", "a case for people (review console)"))
    return steps


def plan_review(
    review: dict[str, Any], capabilities: Capabilities | None, remove_mode: str
) -> list[Step]:
    """A review record (moderation.reviews): ``reinstate`` (unhide), ``unblock`` (lift the
    ban), ``reply`` (a reasoned answer, ``text``), or a person's escalation: ``remove`` (hide,
    or delete where that is the mode) and ``block`` (ban the author), on the comment it names."""
    review_id = str(review["review_id"])
    action = str(review["action"])
    platform = review.get("platform") if isinstance(review.get("platform"), dict) else None
    caps = capabilities or Capabilities()

    def step(operation: str, kind: Kind, reason: str | None = None) -> Step:
        return Step(
            f"review:{review_id}:{action}",
            action,
            operation,
            kind,
            str(review["comment_id"]),
            str(review["channel"]),
            review.get("version"),
            platform,
            review.get("text"),
            reason,
            review.get("reviewed_at"),
        )

    if platform is None or not platform.get("comment_id"):
        return [step("none", "skip", "no platform reference in the review")]
    if capabilities is None:
        return [step("none", "skip", f"{review['channel']} is not configured in this sink")]
    if action == "reinstate":
        if remove_mode == "delete" or not caps.hide or review.get("channel") == "youtube":
            return [step("none", "people", "the comment was deleted or cannot be made public")]
        return [step("unhide", "call")]
    if action == "unblock":
        return [step("unban", "call") if caps.unban else step("none", "people", "no unban API")]
    if action == "reply" and review.get("text") and caps.reply_public:
        return [step("reply_public", "call")]
    if action == "remove":
        if remove_mode != "delete" and caps.hide:
            return [step("hide", "call")]
        if caps.delete:
            return [step("delete", "call")]
        return [step("none", "people", f"{review['channel']} cannot remove")]
    if action == "block":
        return [step("ban", "call") if caps.ban else step("none", "people", "no block API")]
    return [step("none", "skip", "not a review action the sink carries out")]
