"""Facebook Page and Instagram actions through the Graph API.

Facebook: hide ``POST /{comment}`` ``is_hidden=true``; delete ``DELETE /{comment}``; ban
``POST /{page}/blocked`` ``user=<id>`` (``DELETE`` to lift it); public reply
``POST /{comment}/comments`` ``message=``; private reply ``POST /{page}/messages`` with
``recipient.comment_id`` (one per comment: a second is refused with error 10900, so it is safe
to send again after a crash); an answer to a private message ``POST /{page}/messages`` with
``recipient.id``. Instagram: hide ``POST /{comment}`` ``hide=true``; delete; public reply
``POST /{comment}/replies``; private reply as Facebook's through the linked Page. Instagram
has no ban. Errors are Graph error objects (``error.code``, ``error_subcode``); usage headers
(``X-App-Usage``, ``X-Business-Use-Case-Usage``) close the gate before the limit is hit.
"""

from __future__ import annotations

from typing import Any

from streamproc._http import Response, Transport, retry_after
from streamproc._platforms import FacebookConfig, InstagramConfig
from streamproc.sink._client import Capabilities, PlatformClient, Target, default_error
from streamproc.sink._errors import AlreadyDone, Permanent, Transient
from streamproc.sink._metrics import SinkMetrics
from streamproc.sink._ratelimit import meta_usage_wait

__all__ = ["FacebookClient", "InstagramClient", "graph_error"]

_RATE_CODES = {4, 17, 32, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008}


def graph_error(response: Response) -> Exception:
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return default_error(response)
    code, subcode = error.get("code"), error.get("error_subcode")
    label = f"Graph error {code}" + (f"/{subcode}" if subcode else "")
    if code == 10900:
        return AlreadyDone(f"{label}: already replied to")
    if code in _RATE_CODES or response.status == 429:
        wait = retry_after(response) or meta_usage_wait(response.headers, 0.0) or 60.0
        return Transient(f"{label}: rate limited", wait)
    if code in (1, 2) or response.status >= 500:
        return Transient(f"{label}: temporary", None, maybe_sent=True)
    if code == 190 or code == 102:
        return Permanent(f"{label}: the token was refused (revoked or expired)")
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return Permanent(f"{label}: permission denied")
    if code == 100 and subcode in (33, None) and response.status in (400, 404):
        return Permanent(f"{label}: the comment or account does not exist", gone=True)
    if code == 368:
        return Permanent(f"{label}: blocked by the platform's policy")
    return Permanent(f"{label}: refused")


class _Graph(PlatformClient):
    page: str
    reply_edge: str  # where a public reply to a comment is posted

    def __init__(self, api_url: str, token: str, transport: Transport, metrics: SinkMetrics):
        super().__init__(transport, metrics)
        self.api = api_url
        self.token = token

    def _params(self, **extra: str) -> dict[str, str]:
        return {**extra, "access_token": self.token}

    def observe(self, response: Response) -> None:
        wait = meta_usage_wait(response.headers)
        if wait:
            self.gate.close_for(wait, "usage")

    def classify(self, response: Response) -> Exception:
        return graph_error(response)

    async def reply(self, target: Target, text: str, private: bool) -> str:
        """A message to the author of a private message, a private reply to a comment (both
        through the Page), or a public reply on the comment's ``reply_edge``."""
        if target.message_id:
            return await self._send_message(self.page, {"id": target.need("user_id")}, text)
        comment = target.need("comment_id")
        if private:
            return await self._send_message(self.page, {"comment_id": comment}, text)
        response = await self.call(
            "reply_public",
            "POST",
            f"{self.api}/{comment}/{self.reply_edge}",
            params=self._params(),
            data={"message": text},
        )
        return str((response.json() or {}).get("id") or "")

    async def _send_message(self, page: str, recipient: dict[str, str], text: str) -> str:
        response = await self.call(
            "reply_private",
            "POST",
            f"{self.api}/{page}/messages",
            params=self._params(),
            json={"recipient": recipient, "messaging_type": "RESPONSE", "message": {"text": text}},
        )
        body = response.json() or {}
        return str(body.get("message_id") or body.get("id") or "")

    async def _list(self, url: str, fields: str) -> list[dict[str, Any]]:
        response = await self.call("list", "GET", url, params=self._params(fields=fields))
        body = response.json() or {}
        data = body.get("data") if isinstance(body, dict) else None
        return [d for d in data or [] if isinstance(d, dict)]


class FacebookClient(_Graph):
    channel = "facebook"
    operations = (
        "hide",
        "unhide",
        "delete",
        "ban",
        "unban",
        "reply_public",
        "reply_private",
        "list",
    )
    wait_causes = ("rate_limit", "usage")
    reply_edge = "comments"
    capabilities = Capabilities(
        hide=True,
        delete=True,
        ban=True,
        unban=True,
        reply_public=True,
        reply_private=True,
        list_public=True,
        private_deduplicated=True,
    )

    def __init__(self, config: FacebookConfig, transport: Transport, metrics: SinkMetrics):
        assert config.page_token and config.page_id
        super().__init__(config.api_url, config.page_token, transport, metrics)
        self.page = config.page_id

    async def hide(self, target: Target, hidden: bool) -> None:
        comment = target.need("comment_id")
        op = "hide" if hidden else "unhide"
        data = {"is_hidden": "true" if hidden else "false"}
        await self.call(op, "POST", f"{self.api}/{comment}", params=self._params(), data=data)

    async def delete(self, target: Target) -> None:
        comment = target.need("comment_id")
        await self.call("delete", "DELETE", f"{self.api}/{comment}", params=self._params())

    async def ban(self, target: Target, banned: bool) -> None:
        user = target.need("user_id")
        url = f"{self.api}/{self.page}/blocked"
        if banned:
            await self.call("ban", "POST", url, params=self._params(), data={"user": user})
        else:
            await self.call("unban", "DELETE", url, params=self._params(user=user))

    async def find_reply(
        self, target: Target, text: str, private: bool, exclude: set[str]
    ) -> str | None:
        if private or target.message_id:
            return await super().find_reply(target, text, private, exclude)
        comment = target.need("comment_id")
        for item in await self._list(f"{self.api}/{comment}/comments", "id,from,message"):
            author = item.get("from") or {}
            if (
                isinstance(author, dict)
                and str(author.get("id")) == self.page
                and (item.get("message") or "").strip() == text.strip()
                and str(item.get("id")) not in exclude
            ):
                return str(item.get("id"))
        return None


class InstagramClient(_Graph):
    channel = "instagram"
    operations = ("hide", "unhide", "delete", "reply_public", "reply_private", "list")
    wait_causes = ("rate_limit", "usage")
    reply_edge = "replies"
    capabilities = Capabilities(
        hide=True, delete=True, reply_public=True, reply_private=True, list_public=True
    )

    def __init__(self, config: InstagramConfig, transport: Transport, metrics: SinkMetrics):
        assert config.token and config.account_id
        super().__init__(config.api_url, config.token, transport, metrics)
        self.account = config.account_id
        # Private replies go through the linked Page (Instagram API with Facebook Login).
        self.page = config.page_id or config.account_id

    async def hide(self, target: Target, hidden: bool) -> None:
        comment = target.need("comment_id")
        op = "hide" if hidden else "unhide"
        data = {"hide": "true" if hidden else "false"}
        await self.call(op, "POST", f"{self.api}/{comment}", params=self._params(), data=data)

    async def delete(self, target: Target) -> None:
        comment = target.need("comment_id")
        await self.call("delete", "DELETE", f"{self.api}/{comment}", params=self._params())

    async def find_reply(
        self, target: Target, text: str, private: bool, exclude: set[str]
    ) -> str | None:
        if private or target.message_id:
            return await super().find_reply(target, text, private, exclude)
        comment = target.need("comment_id")
        items = await self._list(f"{self.api}/{comment}/replies", "id,text,username,from")
        for item in items:
            author = item.get("from") or {}
            if (
                isinstance(author, dict)
                and str(author.get("id")) == self.account
                and (item.get("text") or "").strip() == text.strip()
                and str(item.get("id")) not in exclude
            ):
                return str(item.get("id"))
        return None
