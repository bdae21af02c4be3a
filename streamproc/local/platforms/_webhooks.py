"""Platform events as the platforms deliver them, built from canonical sample comments, signed
and sent to a connector (the tests and the demo drive ``streamproc connect`` with these); and
comments as the polled platforms list them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from streamproc.connect._signatures import meta_signature, x_signature
from streamproc.local.platforms._accounts import Accounts

__all__ = [
    "deliver",
    "facebook_comment",
    "facebook_message",
    "instagram_comment",
    "linkedin_comment",
    "meta_body",
    "sign",
    "twitter_message",
    "twitter_reply",
    "youtube_comment",
]


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def meta_body(
    obj: str,
    entry_id: str,
    changes: list[dict[str, Any]] | None = None,
    messaging: list[dict[str, Any]] | None = None,
    time: int = 0,
) -> bytes:
    """A Meta webhook body, ASCII with lowercase ``\\uXXXX`` escapes as Meta signs it."""
    entry: dict[str, Any] = {"id": entry_id, "time": time}
    if changes is not None:
        entry["changes"] = changes
    if messaging is not None:
        entry["messaging"] = messaging
    return json.dumps({"object": obj, "entry": [entry]}, ensure_ascii=True).encode()


def facebook_comment(
    accounts: Accounts,
    *,
    comment_id: str,
    post_id: str,
    user_id: str,
    name: str | None,
    text: str,
    created_at: str,
    verb: str = "add",
    parent_id: str | None = None,
) -> bytes:
    page = accounts.facebook_page_id
    value: dict[str, Any] = {
        "item": "comment",
        "verb": verb,
        "comment_id": comment_id,
        "post_id": f"{page}_{post_id}",
        "parent_id": parent_id or f"{page}_{post_id}",
        "from": {"id": user_id, **({"name": name} if name else {})},
        "created_time": _epoch(created_at),
    }
    if verb != "remove":
        value["message"] = text
    return meta_body("page", page, [{"field": "feed", "value": value}], time=_epoch(created_at))


def facebook_message(
    accounts: Accounts, *, obj: str, mid: str, user_id: str, text: str, created_at: str
) -> bytes:
    account = accounts.facebook_page_id if obj == "page" else accounts.instagram_account_id
    ms = _epoch(created_at) * 1000
    event = {
        "sender": {"id": user_id},
        "recipient": {"id": account},
        "timestamp": ms,
        "message": {"mid": mid, "text": text},
    }
    return meta_body(obj, account, messaging=[event], time=ms)


def instagram_comment(
    accounts: Accounts,
    *,
    comment_id: str,
    media_id: str,
    user_id: str,
    username: str | None,
    text: str,
    created_at: str,
    parent_id: str | None = None,
) -> bytes:
    value: dict[str, Any] = {
        "from": {"id": user_id, "username": username or "user"},
        "media": {"id": media_id, "media_product_type": "FEED"},
        "id": comment_id,
        "text": text,
    }
    if parent_id:
        value["parent_id"] = parent_id
    return meta_body(
        "instagram",
        accounts.instagram_account_id,
        [{"field": "comments", "value": value}],
        time=_epoch(created_at),
    )


def twitter_reply(
    accounts: Accounts,
    *,
    tweet_id: str,
    in_reply_to: str,
    user_id: str,
    name: str | None,
    text: str,
    created_at: str,
) -> bytes:
    moment = datetime.fromisoformat(created_at)
    tweet = {
        "created_at": moment.strftime("%a %b %d %H:%M:%S %z %Y"),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text[:140],
        "truncated": len(text) > 140,
        "in_reply_to_status_id_str": in_reply_to,
        "in_reply_to_user_id_str": accounts.twitter_user_id,
        "user": {"id_str": user_id, "name": name or "user", "screen_name": "user"},
    }
    if len(text) > 140:
        tweet["extended_tweet"] = {"full_text": text}
    body = {"for_user_id": accounts.twitter_user_id, "tweet_create_events": [tweet]}
    return json.dumps(body).encode()


def twitter_message(
    accounts: Accounts, *, message_id: str, user_id: str, text: str, created_at: str
) -> bytes:
    """An X Account Activity delivery of a direct message to the institution's account."""
    event = {
        "type": "message_create",
        "id": message_id,
        "created_timestamp": str(int(datetime.fromisoformat(created_at).timestamp() * 1000)),
        "message_create": {"sender_id": user_id, "message_data": {"text": text}},
    }
    body = {"for_user_id": accounts.twitter_user_id, "direct_message_events": [event]}
    return json.dumps(body).encode()


def youtube_comment(
    *,
    comment_id: str,
    video_id: str,
    user_id: str,
    name: str | None,
    text: str,
    published: str,
    parent_id: str | None = None,
) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "videoId": video_id,
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": name or "@user",
        "authorChannelId": {"value": user_id},
        "likeCount": 0,
        "moderationStatus": "published",
        "publishedAt": published,
        "updatedAt": published,
    }
    if parent_id:
        snippet["parentId"] = parent_id
    return {"kind": "youtube#comment", "etag": "e", "id": comment_id, "snippet": snippet}


def linkedin_comment(
    *, activity: str, comment_id: str, actor: str, text: str, created_ms: int
) -> dict[str, Any]:
    return {
        "actor": actor,
        "id": comment_id,
        "object": activity,
        "commentUrn": f"urn:li:comment:({activity},{comment_id})",
        "created": {"actor": actor, "time": created_ms},
        "lastModified": {"actor": actor, "time": created_ms},
        "message": {"attributes": [], "text": text},
    }


def sign(platform: str, accounts: Accounts, body: bytes) -> dict[str, str]:
    if platform == "twitter":
        return {"x-twitter-webhooks-signature": x_signature(accounts.twitter_consumer_secret, body)}
    return {"X-Hub-Signature-256": meta_signature(accounts.facebook_app_secret, body)}


def deliver(url: str, body: bytes, headers: dict[str, str], timeout: float = 15.0) -> int:
    """POST a delivery as a platform does; the HTTP status of the answer."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
