"""X Account Activity webhook deliveries as comments.

``for_user_id`` is the subscribed account (the institution's). ``tweet_create_events`` hold
v1.1 Tweet objects: replies and mentions become comments (ids from ``id_str``: the numeric ids
exceed 2^53; the text from ``extended_tweet.full_text``, else ``full_text``, else ``text``);
the account's own posts and retweets are ignored. ``direct_message_events`` of type
``message_create`` from others are private messages. ``tweet_delete_events`` delete comments.
Every other event type is ignored.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from streamproc.connect._records import (
    Incoming,
    Parsed,
    PayloadError,
    comment_record,
    from_epoch,
    shape_error,
)

__all__ = ["parse_twitter"]

Id = int | str


class _User(msgspec.Struct):
    id_str: str | None = None
    id: Id | None = None
    name: str | None = None
    screen_name: str | None = None


class _Extended(msgspec.Struct):
    full_text: str | None = None


class _Tweet(msgspec.Struct):
    id_str: str | None = None
    id: Id | None = None
    created_at: str | None = None
    text: str | None = None
    full_text: str | None = None
    extended_tweet: _Extended | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    user: _User | None = None
    retweeted_status: dict[str, object] | None = None


class _MessageData(msgspec.Struct):
    text: str | None = None


class _MessageCreate(msgspec.Struct):
    sender_id: str
    message_data: _MessageData | None = None


class _DirectMessage(msgspec.Struct):
    id: str
    type: str = "message_create"
    created_timestamp: str | None = None
    message_create: _MessageCreate | None = None


class _DeletedStatus(msgspec.Struct):
    id: Id
    user_id: Id | None = None


class _Delete(msgspec.Struct):
    status: _DeletedStatus
    timestamp_ms: str | int | None = None


class _Delivery(msgspec.Struct):
    for_user_id: str | None = None
    tweet_create_events: list[_Tweet] = []
    direct_message_events: list[_DirectMessage] = []
    tweet_delete_events: list[_Delete] = []


_DECODER = msgspec.json.Decoder(_Delivery)
_TWEET_TIME = "%a %b %d %H:%M:%S %z %Y"  # "Wed Oct 10 20:19:24 +0000 2018"


def _tweet_time(text: str | None) -> datetime:
    if text is None:
        raise PayloadError("a tweet has no created_at")
    try:
        return datetime.strptime(text, _TWEET_TIME)
    except ValueError:
        raise PayloadError("a tweet's created_at is not in X's format") from None


def _millis(value: str | int | None) -> float:
    try:
        return int(value or 0) / 1000.0
    except ValueError:
        raise PayloadError("a timestamp is not a number of milliseconds") from None


def _id(id_str: str | None, value: Id | None, what: str) -> str:
    if id_str:
        return id_str
    if value is None:
        raise PayloadError(f"{what} has no id_str")
    return str(value)


def _tweet(tweet: _Tweet, account: str) -> Incoming | None:
    if tweet.user is None:
        raise PayloadError("a tweet has no user")
    author = _id(tweet.user.id_str, tweet.user.id, "a tweet's user")
    if author == account or tweet.retweeted_status is not None:
        return None
    extended = tweet.extended_tweet.full_text if tweet.extended_tweet is not None else None
    parent = tweet.in_reply_to_status_id_str
    return comment_record(
        channel="twitter",
        comment_id=_id(tweet.id_str, tweet.id, "a tweet"),
        author_id=author,
        author_name=tweet.user.name or tweet.user.screen_name,
        text=extended or tweet.full_text or tweet.text or "",
        created_at=_tweet_time(tweet.created_at),
        # A reply to one of the account's posts is a comment under it; deeper, a reply.
        kind="comment" if tweet.in_reply_to_user_id_str in (None, account) else "reply",
        account_id=account,
        post_id=parent,
        parent_id=parent,
    )


def parse_twitter(body: bytes, user_id: str) -> Parsed:
    """Replies, mentions, direct messages and deletions in one Account Activity delivery."""
    try:
        delivery = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise shape_error(exc) from None
    except msgspec.DecodeError:
        raise PayloadError("not JSON", "invalid_json") from None
    account = delivery.for_user_id or user_id
    parsed = Parsed([])
    for tweet in delivery.tweet_create_events:
        incoming = _tweet(tweet, account)
        if incoming is None:
            parsed.ignored += 1
        else:
            parsed.comments.append(incoming)
    for dm in delivery.direct_message_events:
        create = dm.message_create
        if dm.type != "message_create" or create is None or create.sender_id == account:
            parsed.ignored += 1  # our own messages (the sink's among them) come back too
            continue
        parsed.comments.append(
            comment_record(
                channel="twitter",
                comment_id=dm.id,
                author_id=create.sender_id,
                author_name=None,
                text=(create.message_data.text if create.message_data else None) or "",
                created_at=from_epoch(_millis(dm.created_timestamp)),
                kind="private_message",
                account_id=account,
            )
        )
    for deletion in delivery.tweet_delete_events:
        status = deletion.status
        author = str(status.user_id) if status.user_id is not None else None
        if author is None or author == account:
            parsed.ignored += 1
            continue
        parsed.comments.append(
            comment_record(
                channel="twitter",
                comment_id=str(status.id),
                author_id=author,
                author_name=None,
                text="",
                created_at=from_epoch(_millis(deletion.timestamp_ms)),
                kind="comment",
                account_id=account,
                deleted=True,
            )
        )
    if not (
        delivery.tweet_create_events
        or delivery.direct_message_events
        or delivery.tweet_delete_events
    ):
        parsed.ignored += 1  # likes, follows, blocks...: one event of another kind
    return parsed
