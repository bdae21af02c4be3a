"""The Graph API stand-in (Facebook Pages and Instagram share it), after the documented shapes:
``{"success": true}`` for updates and deletes, ``{"id": ...}`` for new comments,
``{"recipient_id", "message_id"}`` for messages, Graph error objects (``error.code``,
``error_subcode``, ``fbtrace_id``) with HTTP 400, and an ``X-App-Usage`` header."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streamproc.local.platforms._accounts import Accounts
from streamproc.local.platforms._state import Call, PlatformState

__all__ = ["graph_api"]


def _error(code: int, message: str, subcode: int | None = None, status: int = 400) -> web.Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AbCdEfGhIjK"
    return web.json_response({"error": error}, status=status)


def _param(call: Call, name: str) -> str | None:
    body = call.body if isinstance(call.body, dict) else {}
    value = call.query.get(name, body.get(name))
    return None if value is None else str(value)


def graph_api(call: Call, state: PlatformState, accounts: Accounts) -> web.Response:
    token = call.query.get("access_token") or _param(call, "access_token")
    if token not in (accounts.facebook_page_token, accounts.instagram_token):
        return _error(190, "Invalid OAuth access token - Cannot parse access token")
    parts = [p for p in call.path.split("/") if p]
    if not parts:
        return _error(100, "Unsupported request")
    node, edge = parts[0], (parts[1] if len(parts) > 1 else None)
    key = ("graph", node)
    headers = {"X-App-Usage": '{"call_count":1,"total_time":1,"total_cputime":1}'}
    with state.lock:
        if edge is None and key in state.deleted:
            return _error(100, "Unsupported post request. Object does not exist", 33)
        if edge is None and call.method == "POST":
            value = _param(call, "is_hidden") or _param(call, "hide")
            if value not in ("true", "false"):
                return _error(100, "(#100) Missing a parameter to update")
            state.hidden[key] = value == "true"
            return web.json_response({"success": True}, headers=headers)
        if edge is None and call.method == "DELETE":
            state.deleted.add(key)
            return web.json_response({"success": True}, headers=headers)
        if edge is None and call.method == "GET":
            hidden = state.hidden.get(key, False)
            return web.json_response({"id": node, "is_hidden": hidden, "hidden": hidden})
        if edge in ("comments", "replies"):
            return _replies(call, state, accounts, node, edge, headers)
        if edge == "messages" and call.method == "POST":
            return _message(call, state, node, headers)
        if edge == "blocked":
            user = _param(call, "user") or _param(call, "uid") or _param(call, "psid")
            if not user:
                return _error(100, "(#100) The parameter user is required")
            if call.method == "POST":
                state.banned.add(("graph", user))
                return web.json_response({user: True}, headers=headers)
            if call.method == "DELETE":
                state.banned.discard(("graph", user))
                return web.json_response({"success": True}, headers=headers)
            listed = [{"id": u} for p, u in state.banned if p == "graph" and u == user]
            return web.json_response({"data": listed})
    return _error(100, "Unsupported request")


def _replies(
    call: Call,
    state: PlatformState,
    accounts: Accounts,
    node: str,
    edge: str,
    headers: dict[str, str],
) -> web.Response:
    author = accounts.facebook_page_id if edge == "comments" else accounts.instagram_account_id
    if call.method == "GET":
        data = [
            {
                "id": s["id"],
                "from": {"id": s["author"], "name": "Page", "username": "page"},
                "message": s["text"],
                "text": s["text"],
            }
            for s in state.sent
            if s["platform"] == "graph" and s["parent"] == node and not s["private"]
        ]
        return web.json_response({"data": data, "paging": {"cursors": {}}})
    if call.method != "POST":
        return _error(100, "Unsupported request")
    if ("graph", node) in state.deleted:
        return _error(100, "Unsupported post request. Object does not exist", 33)
    text = _param(call, "message")
    if not text:
        return _error(100, "(#100) The parameter message is required")
    new = state.new_id(f"{node.split('_')[0]}_")
    state.sent.append(
        {
            "platform": "graph",
            "parent": node,
            "id": new,
            "author": author,
            "text": text,
            "private": False,
            "edge": edge,
        }
    )
    return web.json_response({"id": new}, headers=headers)


def _message(call: Call, state: PlatformState, page: str, headers: dict[str, str]) -> web.Response:
    body = call.body if isinstance(call.body, dict) else {}
    recipient = body.get("recipient") or {}
    text = (body.get("message") or {}).get("text")
    if not isinstance(recipient, dict) or not text:
        return _error(100, "(#100) recipient and message are required")
    comment = recipient.get("comment_id")
    if comment:
        if any(s["private"] and s["parent"] == comment for s in state.sent):
            return _error(10900, "Activity already replied to")
        parent, user = str(comment), f"psid-of-{comment}"
    elif recipient.get("id"):
        parent, user = f"user:{recipient['id']}", str(recipient["id"])
    else:
        return _error(100, "(#100) recipient needs id or comment_id")
    new = state.new_id("m_")
    state.sent.append(
        {
            "platform": "graph",
            "parent": parent,
            "id": new,
            "author": page,
            "text": text,
            "private": True,
            "edge": "messages",
        }
    )
    return web.json_response({"recipient_id": user, "message_id": new}, headers=headers)
