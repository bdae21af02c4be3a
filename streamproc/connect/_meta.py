"""Facebook Page and Instagram webhook deliveries (the Graph API webhook family) as comments.

Facebook: ``object: page``; ``entry[].changes[]`` with ``field: feed`` whose value has
``item: comment`` and ``verb`` ``add`` / ``edited`` / ``remove`` (``hide``/``unhide`` are state
changes, possibly our own, and are ignored); the author as ``from{id,name}`` or, in older
deliveries, ``sender_id``/``sender_name``. Messenger ``entry[].messaging[]`` are private
messages. Instagram: ``object: instagram``; ``comments``/``live_comments`` values
(``id``, or ``comment_id`` in some documented examples; ``from{id,username}``, ``media{id}``,
``parent_id``, ``text``) either under ``changes[]`` or flat on the entry, and the same
``messaging[]``; a body may be wrapped in an array. Comments by the institution's own page or
account are ignored (they include the sink's own replies). Fields not listed are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from streamproc.connect._records import (
    Incoming,
    Parsed,
    PayloadError,
    comment_record,
    from_epoch,
    shape_error,
)

__all__ = ["dumps_for_meta", "parse_facebook", "parse_instagram"]

Id = int | str
Time = int | float | str


class _Person(msgspec.Struct):
    id: Id
    name: str | None = None
    username: str | None = None


class _FeedValue(msgspec.Struct):
    item: str | None = None
    verb: str | None = None
    comment_id: Id | None = None
    post_id: Id | None = None
    parent_id: Id | None = None
    sender: _Person | None = msgspec.field(default=None, name="from")
    sender_id: Id | None = None
    sender_name: str | None = None
    message: str | None = None
    created_time: Time | None = None


class _Media(msgspec.Struct):
    id: Id | None = None


class _InstagramComment(msgspec.Struct):
    id: Id | None = None
    comment_id: Id | None = None
    sender: _Person | None = msgspec.field(default=None, name="from")
    media: _Media | None = None
    media_id: Id | None = None
    parent_id: Id | None = None
    text: str | None = None


class _Change(msgspec.Struct):
    field: str
    value: Any = None


class _Message(msgspec.Struct):
    mid: str | None = None
    text: str | None = None
    is_echo: bool = False
    is_deleted: bool = False
    is_self: bool = False


class _Messaging(msgspec.Struct):
    sender: _Person | None = None
    recipient: _Person | None = None
    timestamp: Time | None = None
    message: _Message | None = None


class _Entry(msgspec.Struct):
    id: Id
    time: Time | None = None
    changes: list[_Change] = []
    messaging: list[_Messaging] = []
    field: str | None = None  # Instagram Login's flat form
    value: Any = None


class _Envelope(msgspec.Struct):
    object: str
    entry: list[_Entry]


_DECODER = msgspec.json.Decoder(_Envelope | list[_Envelope])


def _envelopes(body: bytes, expected: str) -> list[_Envelope]:
    try:
        decoded = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise shape_error(exc) from None
    except msgspec.DecodeError:
        raise PayloadError("not JSON", "invalid_json") from None
    envelopes = decoded if isinstance(decoded, list) else [decoded]
    if not envelopes:
        raise PayloadError("an empty array, not a delivery")
    for envelope in envelopes:
        if envelope.object != expected:
            raise PayloadError(f"object is not {expected!r}")
    return envelopes


def _seconds(value: Time | None) -> float | None:
    """A Graph API time: UNIX seconds, milliseconds (Messenger), or an ISO 8601 string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("+0000", "+00:00")).timestamp()
        except ValueError:
            raise PayloadError("a time field is neither a number nor ISO 8601") from None
    return value / 1000.0 if value > 1e11 else float(value)


def _convert(value: Any, kind: type[Any], where: str) -> Any:
    try:
        return msgspec.convert(value, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"{where}: {exc}") from None


def _messages(channel: str, entry: _Entry, account: str, parsed: Parsed) -> None:
    for event in entry.messaging:
        message = event.message
        if message is None or event.sender is None:
            parsed.ignored += 1  # reads, reactions, postbacks: not messages
            continue
        sender = str(event.sender.id)
        if message.is_echo or message.is_self or sender == account or not message.mid:
            parsed.ignored += 1
            continue
        at = _seconds(event.timestamp) or _seconds(entry.time) or 0.0
        parsed.comments.append(
            comment_record(
                channel=channel,
                comment_id=message.mid,
                author_id=sender,
                author_name=None,
                text="" if message.is_deleted else (message.text or ""),
                created_at=from_epoch(at),
                kind="private_message",
                account_id=account,
                deleted=message.is_deleted,
            )
        )


def _feed_comment(value: _FeedValue, entry: _Entry, page: str) -> Incoming | None:
    if value.item != "comment" or value.verb not in ("add", "edited", "remove"):
        return None
    if value.comment_id is None:
        raise PayloadError("a feed comment change has no comment_id")
    if value.sender is not None:
        author, name = str(value.sender.id), value.sender.name
    elif value.sender_id is not None:
        author, name = str(value.sender_id), value.sender_name
    else:
        raise PayloadError("a feed comment change has neither from nor sender_id")
    if author == page:
        return None  # the page's own comment: our replies among them
    post = str(value.post_id) if value.post_id is not None else None
    parent = str(value.parent_id) if value.parent_id is not None else post
    at = _seconds(value.created_time) or _seconds(entry.time) or 0.0
    # An edit is a new version; its number is the edit time, so a redelivery repeats it.
    version = int(at) if value.verb == "edited" else 1
    return comment_record(
        channel="facebook",
        comment_id=str(value.comment_id),
        author_id=author,
        author_name=name,
        text="" if value.verb == "remove" else (value.message or ""),
        created_at=from_epoch(at),
        kind="comment" if parent == post else "reply",
        account_id=page,
        post_id=post,
        parent_id=parent,
        version=version,
        deleted=value.verb == "remove",
    )


def parse_facebook(body: bytes, page_id: str) -> Parsed:
    """Comments (new, edited, removed) and private messages in a Page webhook delivery."""
    parsed = Parsed([])
    for envelope in _envelopes(body, "page"):
        for entry in envelope.entry:
            page = str(entry.id) or page_id
            for change in entry.changes:
                if change.field != "feed" or not isinstance(change.value, dict):
                    parsed.ignored += 1
                    continue
                value = _convert(change.value, _FeedValue, "feed value")
                incoming = _feed_comment(value, entry, page)
                if incoming is None:
                    parsed.ignored += 1
                else:
                    parsed.comments.append(incoming)
            _messages("facebook", entry, page, parsed)
    return parsed


def _instagram_comment(value: _InstagramComment, entry: _Entry, account: str) -> Incoming | None:
    comment_id = value.id if value.id is not None else value.comment_id
    if comment_id is None:
        raise PayloadError("an Instagram comment has neither id nor comment_id")
    if value.sender is None:
        return None  # a mention: ids only, no text to moderate
    author = str(value.sender.id)
    if author == account:
        return None
    media = value.media.id if value.media is not None else value.media_id
    post = str(media) if media is not None else None
    parent = str(value.parent_id) if value.parent_id is not None else None
    return comment_record(
        channel="instagram",
        comment_id=str(comment_id),
        author_id=author,
        author_name=value.sender.username or value.sender.name,
        text=value.text or "",
        created_at=from_epoch(_seconds(entry.time) or 0.0),
        kind="reply" if parent else "comment",
        account_id=account,
        post_id=post,
        parent_id=parent,
    )


def parse_instagram(body: bytes, account_id: str) -> Parsed:
    """Comments, live comments and private messages in an Instagram webhook delivery."""
    parsed = Parsed([])
    for envelope in _envelopes(body, "instagram"):
        for entry in envelope.entry:
            account = str(entry.id) or account_id
            changes = list(entry.changes)
            if entry.field is not None:
                changes.append(_Change(entry.field, entry.value))
            for change in changes:
                if change.field not in ("comments", "live_comments", "mentions") or not (
                    isinstance(change.value, dict)
                ):
                    parsed.ignored += 1
                    continue
                value = _convert(change.value, _InstagramComment, f"{change.field} value")
                incoming = _instagram_comment(value, entry, account)
                if incoming is None:
                    parsed.ignored += 1
                else:
                    parsed.comments.append(incoming)
            _messages("instagram", entry, account, parsed)
    return parsed


def dumps_for_meta(payload: Any) -> bytes:
    """A body as Meta sends it: ASCII only, non-ASCII as lowercase ``\\uXXXX`` escapes (what the
    signature is computed over). Used by the local stand-ins and the tests."""
    import json

    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()
