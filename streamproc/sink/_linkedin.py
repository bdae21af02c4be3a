"""LinkedIn actions (Community Management API, Rest.li 2.0.0).

LinkedIn cannot hide a comment, so ``remove`` deletes it: ``DELETE
/socialActions/{post urn}/comments/{comment id}?actor={organization}``. There is no ban.
Reply: ``POST /socialActions/{comment urn}/comments`` with ``actor``, ``object``,
``parentComment`` and ``message.text`` (201, the new id in ``x-restli-id``); found again by
listing the same collection and matching our organization as the actor. URNs in paths are
URL-encoded. LinkedIn sends no rate-limit headers: a 429 backs off.
"""

from __future__ import annotations

import re
import urllib.parse

from streamproc._http import Transport
from streamproc._platforms import LinkedInConfig
from streamproc.sink._client import Capabilities, PlatformClient, Target
from streamproc.sink._errors import Permanent
from streamproc.sink._metrics import SinkMetrics

__all__ = ["LinkedInClient"]

_COMMENT_URN = re.compile(r"^urn:li:comment:\((?P<object>urn:li:[a-zA-Z]+:[^,]+),(?P<id>[^)]+)\)$")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class LinkedInClient(PlatformClient):
    channel = "linkedin"
    operations = ("delete", "reply_public", "list")
    capabilities = Capabilities(delete=True, reply_public=True, list_public=True)

    def __init__(self, config: LinkedInConfig, transport: Transport, metrics: SinkMetrics):
        assert config.token and config.organization
        super().__init__(transport, metrics)
        self.api = config.api_url
        self.organization = config.organization
        self.headers = {
            "Authorization": f"Bearer {config.token}",
            "LinkedIn-Version": config.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _parts(self, target: Target) -> tuple[str, str, str]:
        """(comment urn, the activity it is on, the comment's own id)."""
        urn = target.need("comment_id")
        match = _COMMENT_URN.match(urn)
        if match is None:
            raise Permanent("the comment reference is not a LinkedIn comment URN")
        return urn, match["object"], match["id"]

    async def delete(self, target: Target) -> None:
        _, activity, comment = self._parts(target)
        post = target.post_id or activity
        await self.call(
            "delete",
            "DELETE",
            f"{self.api}/socialActions/{_quote(post)}/comments/{_quote(comment)}",
            params={"actor": self.organization},
            headers=self.headers,
        )

    async def reply(self, target: Target, text: str, private: bool) -> str:
        if private or target.message_id:
            raise Permanent("LinkedIn has no private replies to comments")
        urn, activity, _ = self._parts(target)
        response = await self.call(
            "reply_public",
            "POST",
            f"{self.api}/socialActions/{_quote(urn)}/comments",
            json={
                "actor": self.organization,
                "object": activity,
                "parentComment": urn,
                "message": {"text": text},
            },
            headers=self.headers,
        )
        return response.header("x-restli-id") or str((response.json() or {}).get("id") or "")

    async def find_reply(
        self, target: Target, text: str, private: bool, exclude: set[str]
    ) -> str | None:
        urn, _, _ = self._parts(target)
        response = await self.call(
            "list",
            "GET",
            f"{self.api}/socialActions/{_quote(urn)}/comments",
            params={"start": "0", "count": "100"},
            headers=self.headers,
        )
        body = response.json()
        for item in body.get("elements") or [] if isinstance(body, dict) else []:
            message = item.get("message") or {} if isinstance(item, dict) else {}
            if (
                item.get("actor") == self.organization
                and (message.get("text") or "").strip() == text.strip()
                and str(item.get("id")) not in exclude
            ):
                return str(item.get("id"))
        return None
