"""LinkedIn: a poller over the organization's latest posts and their comments.

``GET {api}/posts?q=author&author=<org urn>&sortBy=LAST_MODIFIED&count=N`` lists the posts;
``GET {api}/socialActions/<post urn>/comments`` their comments (``{elements, paging}``; each
with ``id``, ``commentUrn``, ``actor``, ``object``, ``message.text``, ``created.time`` and
``lastModified.time`` in epoch milliseconds, and ``parentComment`` for a reply). URNs in paths
are URL-encoded (Rest.li 2.0.0). Every comment of the posts read is seen on every poll, so the
cursor is a time mark: comments created after it are new (version 1), comments modified after
it and after their creation are edits (a version numbered by the edit time, in seconds). The
organization's own comments are ignored.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from streamproc.connect._records import (
    Incoming,
    PayloadError,
    comment_record,
    from_epoch,
    shape_error,
)

__all__ = ["LinkedInCursor", "comment_urn", "parse_comments", "parse_posts", "select_new"]


class _Stamp(msgspec.Struct):
    time: int | float | None = None


class _Message(msgspec.Struct):
    text: str | None = None


class _Comment(msgspec.Struct):
    id: str | int
    actor: str | None = None
    object: str | None = None
    commentUrn: str | None = None
    parentComment: str | None = None
    message: _Message | None = None
    created: _Stamp | None = None
    lastModified: _Stamp | None = None


class _Paging(msgspec.Struct):
    start: int = 0
    count: int = 0
    total: int | None = None


class _Comments(msgspec.Struct):
    elements: list[_Comment] = []
    paging: _Paging | None = None


class _Post(msgspec.Struct):
    id: str


class _Posts(msgspec.Struct):
    elements: list[_Post] = []


class LinkedInCursor(msgspec.Struct):
    since: float = 0.0  # epoch milliseconds of the newest creation or edit read
    seen: list[str] = []  # "<comment urn>@<version>" read at exactly ``since``


_POSTS = msgspec.json.Decoder(_Posts)
_COMMENTS = msgspec.json.Decoder(_Comments)


T = TypeVar("T")


def _decode(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise shape_error(exc) from None
    except msgspec.DecodeError:
        raise PayloadError("not JSON", "invalid_json") from None


def parse_posts(body: bytes) -> list[str]:
    posts = _decode(_POSTS, body)
    return [post.id for post in posts.elements]


def comment_urn(activity: str, comment_id: str) -> str:
    return f"urn:li:comment:({activity},{comment_id})"


def parse_comments(body: bytes, post: str) -> tuple[list[tuple[float, Incoming]], int | None]:
    """(comments with the millisecond time they became what they are, the collection's total)."""
    page = _decode(_COMMENTS, body)
    out: list[tuple[float, Incoming]] = []
    for c in page.elements:
        if not c.actor or c.created is None or c.created.time is None:
            raise PayloadError("a comment has no actor or created.time")
        created = float(c.created.time)
        modified = float(c.lastModified.time) if c.lastModified and c.lastModified.time else 0.0
        edited = modified > created
        urn = c.commentUrn or comment_urn(c.object or post, str(c.id))
        incoming = comment_record(
            channel="linkedin",
            comment_id=urn,
            author_id=c.actor,
            author_name=None,
            text=c.message.text or "" if c.message else "",
            created_at=from_epoch(created / 1000.0),
            kind="reply" if c.parentComment else "comment",
            account_id=None,
            post_id=post,
            parent_id=c.parentComment,
            version=int(modified / 1000) if edited else 1,
        )
        out.append((modified if edited else created, incoming))
    return out, page.paging.total if page.paging else None


def select_new(
    found: list[tuple[float, Incoming]], cursor: LinkedInCursor, organization: str
) -> tuple[list[Incoming], LinkedInCursor]:
    """The comments not read before, oldest first, and the cursor after them."""
    seen_at_since = set(cursor.seen)
    fresh: list[tuple[float, Incoming]] = []
    tags: set[str] = set()
    for at, incoming in found:
        incoming.record["platform"]["account_id"] = organization
        if incoming.user_id == organization:
            continue
        tag = f"{incoming.record['platform'].get('comment_id')}@{incoming.record['version']}"
        if at < cursor.since or (at == cursor.since and tag in seen_at_since) or tag in tags:
            continue
        tags.add(tag)
        fresh.append((at, incoming))
    fresh.sort(key=lambda pair: pair[0])
    since = max([cursor.since, *(at for at, _ in fresh)])
    seen = {
        f"{i.record['platform'].get('comment_id')}@{i.record['version']}"
        for at, i in fresh
        if at == since
    }
    if since == cursor.since:
        seen |= seen_at_since
    return [incoming for _, incoming in fresh], LinkedInCursor(since, sorted(seen))
