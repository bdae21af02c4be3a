"""The X, YouTube and LinkedIn stand-ins, after each one's documented shapes.

X: v2 ``{"data": ...}`` bodies, 201 for new posts and messages, ``x-rate-limit-*`` headers on
every answer. YouTube: ``youtube#...`` resources, 204 for ``setModerationStatus`` (400
``banWithoutReject``), Google error envelopes, and a quota counter (1 unit a list, 50 a write,
charged even for errors; 403 ``quotaExceeded`` at zero). LinkedIn: Rest.li collections
(``elements``, ``paging``), 201 with ``x-restli-id``, 204 for deletes, ``{message,
serviceErrorCode, status}`` errors; the ``LinkedIn-Version`` and ``X-Restli-Protocol-Version``
headers are required.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from typing import Any

from aiohttp import web

from streamproc.local.platforms._accounts import Accounts
from streamproc.local.platforms._state import Call, PlatformState

__all__ = ["linkedin_api", "x_api", "youtube_api"]


# --- X --------------------------------------------------------------------------------------


def x_api(call: Call, state: PlatformState, accounts: Accounts, headers: Any) -> web.Response:
    window = {
        "x-rate-limit-limit": "50",
        "x-rate-limit-remaining": "49",
        "x-rate-limit-reset": str(int(time.time()) + 900),
    }
    if headers.get("Authorization") != f"Bearer {accounts.twitter_user_token}":
        return web.json_response(
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            status=401,
            headers=window,
        )
    path, body = call.path, call.body if isinstance(call.body, dict) else {}
    me = accounts.twitter_user_id
    with state.lock:
        m = re.fullmatch(r"/2/tweets/(\d+)/hidden", path)
        if m and call.method == "PUT":
            state.hidden[("x", m[1])] = bool(body.get("hidden"))
            return web.json_response({"data": {"hidden": bool(body.get("hidden"))}}, headers=window)
        if path == "/2/tweets" and call.method == "POST":
            reply = body.get("reply") or {}
            new = state.new_id("19")
            state.sent.append(
                {
                    "platform": "x",
                    "parent": str(reply.get("in_reply_to_tweet_id")),
                    "id": new,
                    "author": me,
                    "text": body.get("text"),
                    "private": False,
                }
            )
            data = {"id": new, "text": body.get("text"), "edit_history_tweet_ids": [new]}
            return web.json_response({"data": data}, status=201, headers=window)
        if m := re.fullmatch(r"/2/dm_conversations/with/(\d+)/messages", path):
            new = state.new_id("dm")
            state.sent.append(
                {
                    "platform": "x",
                    "parent": f"user:{m[1]}",
                    "id": new,
                    "author": me,
                    "text": body.get("text"),
                    "private": True,
                }
            )
            data = {"dm_conversation_id": f"{m[1]}-{me}", "dm_event_id": new}
            return web.json_response({"data": data}, status=201, headers=window)
        if m := re.fullmatch(r"/2/dm_conversations/with/(\d+)/dm_events", path):
            events = [
                {
                    "id": s["id"],
                    "text": s["text"],
                    "sender_id": s["author"],
                    "event_type": "MessageCreate",
                }
                for s in state.sent
                if s["platform"] == "x" and s["parent"] == f"user:{m[1]}"
            ]
            return web.json_response({"data": events, "meta": {"result_count": len(events)}})
        if path == "/2/tweets/search/recent":
            query = call.query.get("query", "")
            parent = re.search(r"in_reply_to_tweet_id:(\d+)", query)
            author = re.search(r"from:(\S+)", query)
            found = [
                {"id": s["id"], "text": s["text"], "author_id": s["author"]}
                for s in state.sent
                if s["platform"] == "x"
                and not s["private"]
                and (parent is None or s["parent"] == parent[1])
                and (author is None or s["author"] == author[1])
            ]
            return web.json_response({"data": found, "meta": {"result_count": len(found)}})
        if re.fullmatch(rf"/2/users/{me}/blocking", path) and call.method == "POST":
            state.banned.add(("x", str(body.get("target_user_id"))))
            return web.json_response({"data": {"blocking": True}}, headers=window)
        if m := re.fullmatch(rf"/2/users/{me}/blocking/(\d+)", path):
            state.banned.discard(("x", m[1]))
            return web.json_response({"data": {"blocking": False}}, headers=window)
    problem = {
        "type": "https://api.x.com/2/problems/invalid-request",
        "title": "Invalid Request",
        "detail": "Unsupported request",
        "status": 400,
    }
    return web.json_response(problem, status=400, headers=window)


# --- YouTube ----------------------------------------------------------------------------------


def _google_error(
    status: int, reason: str, message: str, domain: str = "youtube.comment"
) -> web.Response:
    error = {
        "code": status,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
    }
    return web.json_response({"error": error}, status=status)


def youtube_api(call: Call, state: PlatformState, accounts: Accounts, headers: Any) -> web.Response:
    if headers.get("Authorization") != f"Bearer {accounts.youtube_token}":
        return _google_error(401, "authError", "Invalid Credentials", "global")
    path = call.path.removeprefix("/v3")
    cost = 1 if call.method == "GET" else 50
    with state.lock:
        if state.youtube_quota < cost:
            return _google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
                "youtube.quota",
            )
        state.youtube_quota -= cost
        if path == "/commentThreads" and call.method == "GET":
            return _threads(call, state)
        if path == "/comments/setModerationStatus" and call.method == "POST":
            ids = [i for i in call.query.get("id", "").split(",") if i]
            status = call.query.get("moderationStatus")
            if not ids or status not in ("heldForReview", "published", "rejected"):
                return _google_error(400, "missingRequiredParameter", "id and moderationStatus")
            if call.query.get("banAuthor") == "true" and status != "rejected":
                return _google_error(400, "banWithoutReject", "banAuthor needs rejected")
            if any(("yt", i) in state.deleted for i in ids):
                return _google_error(
                    404, "commentNotFound", "One or more of the comments cannot be found."
                )
            for i in ids:
                state.hidden[("yt", i)] = status == "rejected"
                if call.query.get("banAuthor") == "true":
                    state.banned.add(("yt", i))
            return web.Response(status=204)
        if path == "/comments" and call.method == "POST":
            snippet = (call.body or {}).get("snippet") or {}
            parent, text = snippet.get("parentId"), snippet.get("textOriginal")
            if not parent:
                return _google_error(400, "parentIdMissing", "snippet.parentId is required")
            if not text:
                return _google_error(400, "commentTextRequired", "textOriginal is required")
            new = f"{parent}.{state.new_id('r')}"
            state.sent.append(
                {
                    "platform": "yt",
                    "parent": parent,
                    "id": new,
                    "author": accounts.youtube_channel_id,
                    "text": text,
                    "private": False,
                }
            )
            return web.json_response(_yt_comment(new, parent, text, accounts.youtube_channel_id))
        if path == "/comments" and call.method == "GET":
            parent = call.query.get("parentId")
            items = [
                _yt_comment(s["id"], s["parent"], s["text"], s["author"])
                for s in state.sent
                if s["platform"] == "yt" and s["parent"] == parent
            ]
            return web.json_response(
                {
                    "kind": "youtube#commentListResponse",
                    "items": items,
                    "pageInfo": {"totalResults": len(items), "resultsPerPage": 100},
                }
            )
    return _google_error(400, "unexpectedParameter", "Unsupported request", "global")


def _yt_comment(cid: str, parent: str | None, text: str, author: str) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    snippet = {
        "textOriginal": text,
        "textDisplay": text,
        "authorDisplayName": "@channel",
        "authorChannelId": {"value": author},
        "publishedAt": now,
        "updatedAt": now,
    }
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": "e", "id": cid, "snippet": snippet}


def _threads(call: Call, state: PlatformState) -> web.Response:
    if "part" not in call.query:
        return _google_error(400, "missingRequiredParameter", "part is required", "global")
    tops = [c for c in state.youtube_comments if not c["snippet"].get("parentId")]
    tops.sort(key=lambda c: c["snippet"]["publishedAt"], reverse=True)
    size = int(call.query.get("maxResults", "20"))
    start = int(call.query.get("pageToken") or 0)
    page = tops[start : start + size]
    items = []
    for top in page:
        replies = [c for c in state.youtube_comments if c["snippet"].get("parentId") == top["id"]]
        thread: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "etag": "e",
            "id": top["id"],
            "snippet": {
                "videoId": top["snippet"].get("videoId"),
                "topLevelComment": top,
                "totalReplyCount": len(replies),
                "canReply": True,
                "isPublic": True,
            },
        }
        if replies:
            thread["replies"] = {"comments": replies}
        items.append(thread)
    body: dict[str, Any] = {
        "kind": "youtube#commentThreadListResponse",
        "items": items,
        "pageInfo": {"totalResults": len(tops), "resultsPerPage": size},
    }
    if start + size < len(tops):
        body["nextPageToken"] = str(start + size)
    return web.json_response(body)


# --- LinkedIn -------------------------------------------------------------------------------


def _li_error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"message": message, "serviceErrorCode": status, "status": status}, status=status
    )


def linkedin_api(
    call: Call, state: PlatformState, accounts: Accounts, headers: Any
) -> web.Response:
    if headers.get("Authorization") != f"Bearer {accounts.linkedin_token}":
        return _li_error(401, "Empty oauth2_access_token")
    if not headers.get("LinkedIn-Version") or headers.get("X-Restli-Protocol-Version") != "2.0.0":
        return _li_error(400, "A LinkedIn-Version and X-Restli-Protocol-Version 2.0.0 are required")
    path = urllib.parse.unquote(call.path.removeprefix("/rest"))
    org = accounts.linkedin_organization
    with state.lock:
        if path == "/posts" and call.method == "GET":
            posts = [{"id": urn, "author": org} for urn in state.linkedin_posts]
            return web.json_response(
                {
                    "elements": posts,
                    "paging": {"start": 0, "count": len(posts), "total": len(posts)},
                }
            )
        m = re.fullmatch(r"/socialActions/(.+?)/comments(?:/([^/]+))?", path)
        if m is None:
            return _li_error(404, "Resource not found")
        parent, comment = m[1], m[2]
        if call.method == "GET" and comment is None:
            if parent.startswith("urn:li:comment:"):
                elements = [
                    {
                        "id": s["id"],
                        "actor": s["author"],
                        "message": {"text": s["text"]},
                        "parentComment": parent,
                    }
                    for s in state.sent
                    if s["platform"] == "li" and s["parent"] == parent
                ]
            else:
                elements = [
                    c
                    for c in state.linkedin_posts.get(parent, [])
                    if ("li", c["commentUrn"]) not in state.deleted
                ]
            start, count = int(call.query.get("start", "0")), int(call.query.get("count", "10"))
            page = elements[start : start + count]
            return web.json_response(
                {
                    "elements": page,
                    "paging": {"start": start, "count": count, "total": len(elements)},
                }
            )
        if call.method == "DELETE" and comment is not None:
            if call.query.get("actor") != org:
                return _li_error(403, "Not enough permissions to delete this comment")
            for c in state.linkedin_posts.get(parent, []):
                if str(c["id"]) == comment:
                    if ("li", c["commentUrn"]) in state.deleted:
                        return _li_error(404, "Comment not found")
                    state.deleted.add(("li", c["commentUrn"]))
                    return web.Response(status=204)
            return _li_error(404, "Comment not found")
        if call.method == "POST" and comment is None:
            body = call.body if isinstance(call.body, dict) else {}
            text = (body.get("message") or {}).get("text")
            if body.get("actor") != org or not text:
                return _li_error(422, "actor and message.text are required")
            new = state.new_id("71")
            state.sent.append(
                {
                    "platform": "li",
                    "parent": parent,
                    "id": new,
                    "author": org,
                    "text": text,
                    "private": False,
                }
            )
            return web.json_response({"id": new}, status=201, headers={"x-restli-id": new})
    return _li_error(405, "Method not allowed")
