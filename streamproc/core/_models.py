"""The wire contract: Comment in, Decision out, as JSON objects.

Comments are msgspec structs, decoded and validated in one step (see ``_decode``). Decisions are
TypedDicts: plain dicts that ``orjson.dumps`` writes as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal, NotRequired, TypedDict

import msgspec

from streamproc.core._errors import StreamprocError

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "COMMENT_KINDS",
    "LEXICON_CATEGORIES",
    "MAX_ID_CHARS",
    "PII_KINDS",
    "ROLES",
    "Author",
    "Comment",
    "CommentError",
    "Decision",
    "Escalation",
    "Match",
    "Platform",
    "PlatformIds",
]

CATEGORIES: Final = (
    "profanity",
    "insult",
    "threat",
    "hate",
    "spam",
    "illegal",
    "copyright",
    "pii",
    "assistance",
    "off_topic",
    "confidential",
)
LEXICON_CATEGORIES: Final = tuple(c for c in CATEGORIES if c != "pii")
ACTIONS: Final = (
    "allow",
    "remove",
    "warn",
    "block",
    "report_platform",
    "report_authorities",
    "redirect",
    "escalate",
    "notify_compliance",
)
ROLES: Final = ("public", "employee")
COMMENT_KINDS: Final = ("comment", "reply", "private_message")
PII_KINDS: Final = ("email", "phone", "iban", "fiscal_code", "vat_number", "payment_card")
MAX_ID_CHARS: Final = 512


# Identifiers are copied into every decision and used as Kafka keys: bounded, so that a decision
# always fits in a record (platform ids are far shorter).
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_CHARS)]


class Author(msgspec.Struct, gc=False):
    id: Identifier
    name: str | None = None
    role: Literal["public", "employee"] | None = None  # None: public


class Platform(msgspec.Struct, gc=False, omit_defaults=True):
    """Where a comment lives on its platform: what the sink needs to act on it there.

    ``account_id`` is the institution's own page, account, channel or organization the comment
    was made on; ``comment_id`` the platform's id of the comment, or ``message_id`` that of a
    private message (which can be answered but not hidden); ``user_id`` the author's platform
    id (to ban them or to write to them).
    """

    account_id: Identifier | None = None
    post_id: Identifier | None = None
    comment_id: Identifier | None = None
    message_id: Identifier | None = None
    parent_id: Identifier | None = None
    user_id: Identifier | None = None


class Comment(msgspec.Struct, gc=False):
    """One comment as the connectors publish it (JSON). Unknown fields are ignored.

    ``version`` is 1 for a comment as first published; an edit is the same ``id`` with a
    greater version (so strikes, keyed by comment id, never count an edit twice). ``deleted``
    says the author (or the platform) deleted the comment: it is decided ``allow`` without a
    strike, and the sink cancels whatever it had not yet done to it.
    """

    id: Identifier
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    author: Author
    text: str
    created_at: Annotated[datetime, msgspec.Meta(tz=True)]
    post_id: str | None = None
    post_text: str | None = None
    lang: str | None = None
    kind: Literal["comment", "reply", "private_message"] | None = None  # None: comment
    platform: Platform | None = None
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    deleted: bool = False

    @property
    def role(self) -> str:
        return self.author.role or "public"


class Match(TypedDict):
    category: str
    start: int
    end: int
    rule: str
    kind: NotRequired[str]
    confidence: str
    severity: str


class Escalation(TypedDict):
    queue: Literal["review", "urgent", "deferred"]
    urgent: bool
    in_hours: bool
    review_after: str


class PlatformIds(TypedDict, total=False):
    """A :class:`Platform` as it is copied into a decision (only the ids it has)."""

    account_id: str
    post_id: str
    comment_id: str
    message_id: str
    parent_id: str
    user_id: str


class Decision(TypedDict):
    comment_id: str
    channel: str
    author_id: str
    categories: list[str]
    actions: list[str]
    matches: list[Match]
    policy_version: str
    reasons: list[str]
    decided_at: str
    escalation: Escalation | None
    reply: str | None
    # Copied from the comment when it has them (never present otherwise, so that decisions of
    # comments without them are the same bytes as before these fields existed).
    platform: NotRequired[PlatformIds]
    version: NotRequired[int]
    deleted: NotRequired[bool]


class CommentError(StreamprocError, ValueError):
    """A comment that cannot be moderated: the reason is meant for the dead-letter record.

    ``kind`` is a bounded label for metrics: ``invalid_json`` or ``invalid_comment``.
    """

    def __init__(self, reason: str, kind: str = "invalid_comment") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
