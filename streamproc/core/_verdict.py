"""Assembling a decision: what one comment's matches amount to, and the actions and reasons the
policy attaches to them (the engine's slow path, for the comments where something matched)."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from streamproc.core._matcher import Found
from streamproc.core._models import ACTIONS, CATEGORIES, Escalation, Match
from streamproc.core._pii import PiiFound
from streamproc.core._topics import RELEVANCE_RULE

__all__ = [
    "ACTION_ORDER",
    "AIMED",
    "CATEGORY_ORDER",
    "CONTEXTUAL",
    "SEVERE_ACTIONS",
    "Findings",
    "Verdict",
    "category_reason",
    "escalate_borderline",
    "escalation_reason",
    "held_reason",
    "lexicon_match",
    "link_match",
    "off_topic_match",
    "pii_match",
]

ACTION_ORDER: Final = {a: i for i, a in enumerate(ACTIONS)}
CATEGORY_ORDER: Final = {c: i for i, c in enumerate(CATEGORIES)}
CONTEXTUAL: Final = frozenset({"insult", "threat", "hate", "illegal"})
"""Categories whose matches are read in context: aimed at someone, or used generally."""
AIMED: Final = frozenset({"insult", "hate"})
"""Categories whose severe actions need a match said to someone (the second person, an
@mention). A threat's phrase names its own target ("ti ammazzo", "so dove abita", "qualcuno si
fa male"), and illegal activity is offered, not aimed: corroboration alone backs those."""
SEVERE_ACTIONS: Final = frozenset({"block", "report_platform", "report_authorities"})
"""Actions against a citizen that need a sure match; otherwise a person decides."""


class Findings:
    """What the matches of one comment amount to, before the policy's actions."""

    __slots__ = (
        "aimed",
        "borderline",
        "confirmed",
        "general",
        "ladders",
        "langs",
        "matches",
        "rules",
        "sure",
    )

    def __init__(self) -> None:
        self.matches: list[Match] = []
        self.confirmed: set[str] = set()
        # Categories sure enough for severe actions: meant, aimed where the category has a
        # target, and corroborated (see Engine._weigh).
        self.sure: set[str] = set()
        self.aimed: list[str] = []  # weak insult rules confirmed by being said of someone
        self.general: dict[str, list[str]] = {}  # category -> "rule (cue)" read as general use
        self.borderline: set[str] = set()
        self.rules: dict[str, list[str]] = {}
        self.langs: list[str] = []
        self.ladders: dict[str, list[str]] = {}  # ladder -> the categories that climb it


class Verdict:
    """The actions and reasons being assembled for one comment."""

    __slots__ = ("actions", "causes", "reasons", "urgent")

    def __init__(self) -> None:
        self.actions: set[str] = set()
        self.reasons: list[str] = []
        self.causes: list[str] = []  # why it is escalated, in order
        self.urgent = False

    def escalate(self, cause: str, urgent: bool) -> None:
        self.actions.add("escalate")
        self.causes.append(cause)
        self.urgent = self.urgent or urgent

    def settled_actions(self) -> set[str]:
        actions = self.actions
        if "block" in actions:
            actions.discard("warn")  # a block supersedes the warning
        if "remove" in actions or "block" in actions:
            actions.discard("allow")
        if not actions:
            actions.add("allow")
        return actions


def escalate_borderline(found: Findings, verdict: Verdict) -> None:
    """Borderline categories go to people, with the rules that made them so."""
    if not found.borderline:
        return
    verdict.actions.add("escalate")
    for category in sorted(found.borderline, key=CATEGORY_ORDER.__getitem__):
        verdict.causes.append(f"borderline {category}")
        verdict.reasons.append(
            f"{category} (borderline, for human review): "
            f"{', '.join(sorted(set(found.rules[category])))}"
        )
        general = found.general.get(category)
        if general:
            verdict.reasons.append(
                f"{category}: used generally, not aimed at anyone: {', '.join(general)}"
            )


def held_reason(category: str, held: list[str]) -> str:
    return (
        f"{category}: {', '.join(held)} held for a person"
        " (not a match both aimed at someone and corroborated by another rule)"
    )


def lexicon_match(f: Found) -> Match:
    return {
        "category": f.entry.category,
        "start": f.start,
        "end": f.end,
        "rule": f.entry.rule,
        "confidence": "high" if f.obfuscated else f.entry.confidence,
        "severity": f.entry.severity,
    }


def off_topic_match(length: int) -> Match:
    """The whole comment, judged off topic by relevance (``_topics``)."""
    return {
        "category": "off_topic",
        "start": 0,
        "end": length,
        "rule": RELEVANCE_RULE,
        "confidence": "low",
        "severity": "low",
    }


def pii_match(p: PiiFound) -> Match:
    return {
        "category": "pii",
        "start": p.start,
        "end": p.end,
        "rule": f"pii.{p.kind}",
        "kind": p.kind,
        "confidence": "high",
        "severity": "high",
    }


def link_match(start: int, end: int, rule: str, confidence: str) -> Match:
    return {
        "category": "spam",
        "start": start,
        "end": end,
        "rule": rule,
        "confidence": confidence,
        "severity": "medium",
    }


def category_reason(category: str, clause: str, rules: list[str]) -> str:
    return _category_reason_text(category, clause, tuple(rules))


@lru_cache(maxsize=4096)
def _category_reason_text(category: str, clause: str, rules: tuple[str, ...]) -> str:
    # Cached: the same few rule combinations come up again and again.
    return f"{category}: {clause} (rules: {', '.join(sorted(set(rules)))})"


def escalation_reason(escalation: Escalation, causes: list[str]) -> str:
    why = ", ".join(causes)
    if escalation["queue"] == "review":
        return f"escalated to the review queue ({why})"
    if escalation["queue"] == "urgent":
        return f"escalated as urgent outside moderation hours ({why})"
    return (
        f"escalation deferred to the next moderation window, {escalation['review_after']} ({why})"
    )
