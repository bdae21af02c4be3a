"""X actions (API v2, OAuth 2.0 user context).

Hide a reply ``PUT /2/tweets/{id}/hidden`` ``{"hidden": true}`` (only in conversations the
account started); block ``POST /2/users/{me}/blocking`` ``{"target_user_id"}`` (``DELETE
/2/users/{me}/blocking/{id}`` lifts it; an Enterprise-plan endpoint); reply ``POST /2/tweets``
``{"text", "reply": {"in_reply_to_tweet_id"}}`` (201); direct message ``POST
/2/dm_conversations/with/{id}/messages`` (201). Replies are found again with
``GET /2/tweets/search/recent?query=in_reply_to_tweet_id:<id> from:<me>``, messages with
``GET /2/dm_conversations/with/{id}/dm_events``. ``x-rate-limit-remaining: 0`` closes the gate
until ``x-rate-limit-reset``.
"""

from __future__ import annotations

from typing import Any

from streamproc._http import Response, Transport
from streamproc._platforms import TwitterConfig
from streamproc.sink._client import Capabilities, PlatformClient, Target, default_error
from streamproc.sink._errors import Transient
from streamproc.sink._metrics import SinkMetrics
from streamproc.sink._ratelimit import x_rate_limit_wait

__all__ = ["TwitterClient"]


class TwitterClient(PlatformClient):
    channel = "twitter"
    operations = ("hide", "unhide", "ban", "unban", "reply_public", "reply_private", "list")
    wait_causes = ("rate_limit", "window")
    capabilities = Capabilities(
        hide=True,
        ban=True,
        unban=True,
        reply_public=True,
        reply_private=True,
        list_public=True,
        list_private=True,
    )

    def __init__(self, config: TwitterConfig, transport: Transport, metrics: SinkMetrics):
        assert config.user_token and config.user_id
        super().__init__(transport, metrics)
        self.api = config.api_url
        self.me = config.user_id
        self.headers = {"Authorization": f"Bearer {config.user_token}"}

    def observe(self, response: Response) -> None:
        wait = x_rate_limit_wait(response.headers)
        if wait is not None and response.status != 429:
            self.gate.close_for(wait, "window")

    def classify(self, response: Response) -> Exception:
        if response.status == 429:
            wait = x_rate_limit_wait(response.headers)
            return Transient("rate limited (429)", wait if wait is not None else 60.0)
        return default_error(response)

    async def hide(self, target: Target, hidden: bool) -> None:
        tweet = target.need("comment_id")
        await self.call(
            "hide" if hidden else "unhide",
            "PUT",
            f"{self.api}/2/tweets/{tweet}/hidden",
            json={"hidden": hidden},
            headers=self.headers,
        )

    async def ban(self, target: Target, banned: bool) -> None:
        user = target.need("user_id")
        if banned:
            await self.call(
                "ban",
                "POST",
                f"{self.api}/2/users/{self.me}/blocking",
                json={"target_user_id": user},
                headers=self.headers,
            )
        else:
            url = f"{self.api}/2/users/{self.me}/blocking/{user}"
            await self.call("unban", "DELETE", url, headers=self.headers)

    async def reply(self, target: Target, text: str, private: bool) -> str:
        if private or target.message_id:
            user = target.need("user_id")
            response = await self.call(
                "reply_private",
                "POST",
                f"{self.api}/2/dm_conversations/with/{user}/messages",
                json={"text": text},
                headers=self.headers,
            )
            return str(_data(response).get("dm_event_id") or "")
        response = await self.call(
            "reply_public",
            "POST",
            f"{self.api}/2/tweets",
            json={"text": text, "reply": {"in_reply_to_tweet_id": target.need("comment_id")}},
            headers=self.headers,
        )
        return str(_data(response).get("id") or "")

    async def find_reply(
        self, target: Target, text: str, private: bool, exclude: set[str]
    ) -> str | None:
        if private or target.message_id:
            user = target.need("user_id")
            response = await self.call(
                "list",
                "GET",
                f"{self.api}/2/dm_conversations/with/{user}/dm_events",
                params={"dm_event.fields": "id,text,sender_id,event_type"},
                headers=self.headers,
            )
            mine = "sender_id"
        else:
            response = await self.call(
                "list",
                "GET",
                f"{self.api}/2/tweets/search/recent",
                params={
                    "query": f"in_reply_to_tweet_id:{target.need('comment_id')} from:{self.me}",
                    "tweet.fields": "author_id,text",
                },
                headers=self.headers,
            )
            mine = "author_id"
        body = response.json()
        items: list[Any] = body.get("data") or [] if isinstance(body, dict) else []
        for item in items:
            if (
                isinstance(item, dict)
                and str(item.get(mine)) == self.me
                and (item.get("text") or "").strip() == text.strip()
                and str(item.get("id")) not in exclude
            ):
                return str(item.get("id"))
        return None


def _data(response: Response) -> dict[str, Any]:
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}
