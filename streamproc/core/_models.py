"""The wire contract: Comment in, Decision out, as JSON objects.

They are TypedDicts, not classes, because they are JSON on both sides: parsing builds no objects
and ``orjson.dumps`` writes them as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal, NotRequired, TypedDict

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "CHANNELS",
    "COMMENT_KINDS",
    "LEXICON_CATEGORIES",
    "PII_KINDS",
    "ROLES",
    "Author",
    "Comment",
    "CommentError",
    "Decision",
    "Escalation",
    "Match",
    "ValidComment",
    "validate_comment",
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
CHANNELS: Final = ("facebook", "instagram", "twitter", "youtube", "linkedin")
ROLES: Final = ("public", "employee")
COMMENT_KINDS: Final = ("comment", "reply", "private_message")
PII_KINDS: Final = ("email", "phone", "iban", "fiscal_code", "vat_number", "payment_card")


class Author(TypedDict):
    id: str
    name: NotRequired[str | None]
    role: NotRequired[Literal["public", "employee"]]


class Comment(TypedDict):
    id: str
    channel: str
    author: Author
    text: str
    created_at: str
    post_id: NotRequired[str | None]
    post_text: NotRequired[str | None]
    lang: NotRequired[str | None]
    kind: NotRequired[Literal["comment", "reply", "private_message"]]


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


class CommentError(ValueError):
    """A comment that cannot be moderated: the reason is meant for the dead-letter record."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class ValidComment:
    """A comment that passed validation, with the fields the engine needs already extracted."""

    __slots__ = ("author_id", "channel", "created", "id", "kind", "lang", "raw", "role", "text")

    def __init__(
        self,
        raw: Comment,
        created: datetime,
        role: str,
        kind: str,
        lang: str | None,
    ) -> None:
        self.raw = raw
        self.id = raw["id"]
        self.channel = raw["channel"]
        self.author_id = raw["author"]["id"]
        self.text = raw["text"]
        self.created = created
        self.role = role
        self.kind = kind
        self.lang = lang


_OPTIONAL_STRINGS: Final = ("post_id", "post_text", "lang")


def _require_str(obj: dict[str, Any], name: str, where: str = "") -> str:
    value = obj.get(name)
    if value is None:
        raise CommentError(f"missing field '{where}{name}'", where + name)
    if not isinstance(value, str):
        raise CommentError(
            f"field '{where}{name}' must be a string, got {type(value).__name__}", where + name
        )
    if not value:
        raise CommentError(f"field '{where}{name}' must not be empty", where + name)
    return value


_ROLE_SET: Final = frozenset(ROLES)
_KIND_SET: Final = frozenset(COMMENT_KINDS)


def validate_comment(obj: object, max_text_chars: int) -> ValidComment:
    """Check ``obj`` against the Comment contract; raise :class:`CommentError` with the reason.

    The common case (a well-formed comment) is checked in one tight expression; anything off
    goes to :func:`_explain`, which finds the first problem and says what it is.
    """
    try:
        author = obj["author"]  # type: ignore[index]
        text = obj["text"]  # type: ignore[index]
        stamp = obj["created_at"]  # type: ignore[index]
        role = author.get("role") or "public"
        kind = obj.get("kind") or "comment"  # type: ignore[attr-defined]
        lang = obj.get("lang")  # type: ignore[attr-defined]
        well_formed = (
            type(obj) is dict
            and type(obj["id"]) is str
            and obj["id"]
            and type(obj["channel"]) is str
            and obj["channel"]
            and type(author) is dict
            and type(author["id"]) is str
            and author["id"]
            and type(text) is str
            and len(text) <= max_text_chars
            and type(stamp) is str
            and role in _ROLE_SET
            and kind in _KIND_SET
            and (lang is None or type(lang) is str)
            and type(author.get("name", "")) in (str, type(None))
            and type(obj.get("post_id", "")) in (str, type(None))
            and type(obj.get("post_text", "")) in (str, type(None))
        )
    except (KeyError, TypeError, AttributeError):
        well_formed = False
    if not well_formed:
        _explain(obj, max_text_chars)
    try:
        created = datetime.fromisoformat(stamp)
    except ValueError:
        raise CommentError(
            f"field 'created_at' is not an ISO 8601 timestamp: {stamp[:40]!r}", "created_at"
        ) from None
    if created.tzinfo is None:
        raise CommentError(
            "field 'created_at' must carry a UTC offset (e.g. +01:00 or Z)", "created_at"
        )
    return ValidComment(obj, created, role, kind, lang)  # type: ignore[arg-type]


def _explain(obj: object, max_text_chars: int) -> None:
    """Raise the CommentError that says what is wrong with ``obj``."""
    if not isinstance(obj, dict):
        raise CommentError(f"a comment must be a JSON object, got {type(obj).__name__}")
    _require_str(obj, "id")
    _require_str(obj, "channel")
    author = obj.get("author")
    if author is None:
        raise CommentError("missing field 'author'", "author")
    if not isinstance(author, dict):
        raise CommentError("field 'author' must be an object", "author")
    _require_str(author, "id", "author.")
    name = author.get("name")
    if name is not None and not isinstance(name, str):
        raise CommentError("field 'author.name' must be a string", "author.name")
    role = author.get("role") or "public"
    if role not in ROLES:
        raise CommentError(
            f"field 'author.role' must be one of {', '.join(ROLES)}, got {role!r}", "author.role"
        )
    text = obj.get("text")
    if text is None:
        raise CommentError("missing field 'text'", "text")
    if not isinstance(text, str):
        raise CommentError(f"field 'text' must be a string, got {type(text).__name__}", "text")
    if len(text) > max_text_chars:
        raise CommentError(
            f"field 'text' has {len(text)} characters, over the limit of {max_text_chars}", "text"
        )
    _require_str(obj, "created_at")
    for optional in _OPTIONAL_STRINGS:
        value = obj.get(optional)
        if value is not None and not isinstance(value, str):
            raise CommentError(f"field '{optional}' must be a string", optional)
    kind = obj.get("kind") or "comment"
    if kind not in COMMENT_KINDS:
        raise CommentError(
            f"field 'kind' must be one of {', '.join(COMMENT_KINDS)}, got {kind!r}", "kind"
        )
    raise CommentError("malformed comment")  # unreachable unless the two checks disagree
