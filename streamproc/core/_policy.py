"""The policy a pack declares, as the engine uses it: plain frozen data, validated elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Final, Literal

from streamproc.core._errors import StreamprocError

__all__ = [
    "CONFIDENCES",
    "SEVERITIES",
    "CategoryPolicy",
    "Hours",
    "Ladder",
    "LexiconEntry",
    "LinkRules",
    "MatchKind",
    "PackError",
    "PackIssue",
    "PolicyPack",
    "StructRule",
    "TopicTerm",
]

SEVERITIES: Final = ("low", "medium", "high")
CONFIDENCES: Final = ("high", "low")


@dataclass(frozen=True)
class PackIssue:
    file: str
    line: int
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.level}: {self.message}"


class PackError(StreamprocError, ValueError):
    """A pack that cannot be used; ``issues`` lists every error with its file and line."""

    def __init__(self, issues: list[PackIssue]) -> None:
        self.issues = issues
        errors = [i for i in issues if i.level == "error"]
        summary = "; ".join(str(i) for i in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"invalid policy pack: {summary}{more}")


MatchKind = Literal["word", "prefix", "suffix", "infix"]


@dataclass(frozen=True)
class LexiconEntry:
    """One lexicon or allowlist line, compiled."""

    pattern: str
    category: str  # "allow" for allowlist entries
    lang: str
    severity: str
    confidence: str
    rule: str
    kind: MatchKind
    words: str  # normalized words, single-spaced, no padding
    file: str
    line: int
    derived: bool = False  # a form or spelling the line stands for besides its own
    structural: bool = False  # a structural rule's match: two word classes, two signals

    @property
    def is_allow(self) -> bool:
        return self.category == "allow"


@dataclass(frozen=True)
class StructRule:
    """One line of ``rules/<lang>.txt``: two word classes near each other (see ``_rules``)."""

    rule: str
    category: str
    lang: str
    severity: str
    confidence: str
    first: str  # class names qualified by language ("it:@address"), built-ins bare ("@mention")
    second: str
    ordered: bool  # the first class before the second (a predicate), else either order
    within: int  # at most this many words between the two
    between: str | None  # the class every word in between must belong to (ordered only)
    anchor: str  # the class whose terms are automaton triggers
    text: str
    file: str
    line: int


@dataclass(frozen=True)
class TopicTerm:
    """One line of ``topics/<lang>.txt``: a word, a ``prefix*`` or a phrase, as the stems of
    its content words (see ``_topics``)."""

    stems: tuple[str, ...]
    prefix: str | None  # a one-word ``prefix*`` entry: any token starting with it
    lang: str
    file: str
    line: int


@dataclass(frozen=True)
class CategoryPolicy:
    name: str
    clause: str
    actions: tuple[str, ...]
    ladder: str | None
    urgent: bool
    roles: tuple[str, ...]
    on_borderline: Literal["escalate", "ignore"]


@dataclass(frozen=True)
class Ladder:
    name: str
    window_days: int
    steps: tuple[tuple[str, ...], ...]

    def actions_for(self, strike_number: int) -> tuple[str, ...]:
        """Actions for the ``strike_number``-th strike (1-based); past the end, the last step."""
        return self.steps[min(strike_number, len(self.steps)) - 1]


@dataclass(frozen=True)
class Hours:
    timezone: str
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    holidays_country: str | None
    holidays_subdivision: str | None


@dataclass(frozen=True)
class LinkRules:
    allowed_domains: tuple[str, ...]
    shorteners: tuple[str, ...]
    other_domains: Literal["spam", "escalate", "allow"]


@dataclass(frozen=True)
class PolicyPack:
    name: str
    version: str
    digest: str
    default_language: str
    categories: Mapping[str, CategoryPolicy]
    ladders: Mapping[str, Ladder]
    employee_actions: tuple[str, ...]
    hours: Hours
    replies: Mapping[str, Mapping[str, str]]
    links: LinkRules
    max_text_chars: int
    corroborating_rules: int
    phone_region: str
    pii_escalate_third_party: bool
    pii_keep_in_private_messages: bool
    entries: tuple[LexiconEntry, ...]
    files: Mapping[str, str] = field(repr=False)
    rules: tuple[StructRule, ...] = ()
    rule_classes: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # Off-topic relevance (``topics/``, ``stopwords/``): judged only if the pack has topics.
    topics: tuple[TopicTerm, ...] = field(default=(), repr=False)
    stopwords: frozenset[str] = field(default=frozenset(), repr=False)
    relevance_min_words: int = 8
    relevance_min_words_without_post: int = 12

    @property
    def policy_version(self) -> str:
        """The version decisions cite: the declared version plus the content fingerprint."""
        return f"{self.version}+{self.digest[:12]}"
