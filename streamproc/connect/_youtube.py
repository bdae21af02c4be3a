"""YouTube: no comment webhooks, so a poller over ``commentThreads.list`` for the channel.

``GET {api}/commentThreads?part=snippet,replies&allThreadsRelatedToChannelId=<channel>&order=time``
returns the newest threads first, a page at a time (``nextPageToken``). A thread's top-level
comment and the replies it carries become comments; the channel's own comments are ignored.
The cursor is the newest ``publishedAt`` read and the ids published at that instant (so a poll
neither repeats them nor misses a comment published in the same second). An edited comment
(``updatedAt`` after ``publishedAt``, and after the cursor) is a new version numbered by its
edit time. Each list call costs one unit of the daily quota.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from streamproc.connect._records import (
    Incoming,
    PayloadError,
    comment_record,
    from_epoch,
    shape_error,
)

__all__ = ["YouTubeCursor", "parse_thread_page", "select_new"]


class _ChannelId(msgspec.Struct):
    value: str | None = None


class _Snippet(msgspec.Struct):
    videoId: str | None = None
    textOriginal: str | None = None
    textDisplay: str | None = None
    parentId: str | None = None
    authorDisplayName: str | None = None
    authorChannelId: _ChannelId | None = None
    publishedAt: str | None = None
    updatedAt: str | None = None


class _Comment(msgspec.Struct):
    id: str
    snippet: _Snippet


class _ThreadSnippet(msgspec.Struct):
    videoId: str | None = None
    topLevelComment: _Comment | None = None


class _Replies(msgspec.Struct):
    comments: list[_Comment] = []


class _Thread(msgspec.Struct):
    id: str
    snippet: _ThreadSnippet
    replies: _Replies | None = None


class _Page(msgspec.Struct):
    items: list[_Thread] = []
    nextPageToken: str | None = None


_DECODER = msgspec.json.Decoder(_Page)


class YouTubeCursor(msgspec.Struct):
    since: float = 0.0  # epoch seconds of the newest publishedAt or updatedAt read
    seen: list[str] = []  # "<id>@<version>" read at exactly ``since``


def _time(text: str | None) -> float:
    if not text:
        raise PayloadError("a comment has no publishedAt")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise PayloadError("a comment's publishedAt is not RFC 3339") from None


def parse_thread_page(body: bytes) -> tuple[list[tuple[float, Incoming]], str | None, bool]:
    """(comments with the time they became what they are, the next page token, whether the
    page held any thread), the channel's own comments included (the caller filters)."""
    try:
        page = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise shape_error(exc) from None
    except msgspec.DecodeError:
        raise PayloadError("not JSON", "invalid_json") from None
    out: list[tuple[float, Incoming]] = []
    for thread in page.items:
        top = thread.snippet.topLevelComment
        comments = ([top] if top is not None else []) + (
            thread.replies.comments if thread.replies else []
        )
        for comment in comments:
            out.append(_comment(comment, thread.snippet.videoId))
    return out, page.nextPageToken, bool(page.items)


def _comment(comment: _Comment, video: str | None) -> tuple[float, Incoming]:
    s = comment.snippet
    published = _time(s.publishedAt)
    updated = _time(s.updatedAt) if s.updatedAt else published
    edited = updated > published
    author = s.authorChannelId.value if s.authorChannelId and s.authorChannelId.value else None
    if author is None:
        raise PayloadError("a comment has no authorChannelId")
    incoming = comment_record(
        channel="youtube",
        comment_id=comment.id,
        author_id=author,
        author_name=s.authorDisplayName,
        text=s.textOriginal if s.textOriginal is not None else (s.textDisplay or ""),
        created_at=from_epoch(published),
        kind="reply" if s.parentId else "comment",
        account_id=None,
        post_id=s.videoId or video,
        parent_id=s.parentId,
        version=int(updated) if edited else 1,
    )
    return (updated if edited else published), incoming


def select_new(
    found: list[tuple[float, Incoming]], cursor: YouTubeCursor, channel: str
) -> tuple[list[Incoming], YouTubeCursor]:
    """The comments not read before, oldest first, and the cursor after them."""
    fresh: list[tuple[float, Incoming]] = []
    seen_at_since = set(cursor.seen)
    tags: set[str] = set()
    for at, incoming in found:
        record: dict[str, Any] = incoming.record
        record["platform"]["account_id"] = channel
        if incoming.user_id == channel:
            continue  # the channel's own comments, the sink's replies among them
        tag = f"{record['platform'].get('comment_id')}@{record['version']}"
        if at < cursor.since or (at == cursor.since and tag in seen_at_since) or tag in tags:
            continue
        tags.add(tag)
        fresh.append((at, incoming))
    fresh.sort(key=lambda pair: pair[0])
    since = max([cursor.since, *(at for at, _ in fresh)])
    seen = [
        f"{i.record['platform'].get('comment_id')}@{i.record['version']}"
        for at, i in fresh
        if at == since
    ]
    if since == cursor.since:
        seen = sorted(seen_at_since | set(seen))
    return [incoming for _, incoming in fresh], YouTubeCursor(since, seen)
