"""YouTube actions (Data API v3, OAuth 2.0 ``youtube.force-ssl``), paced by the daily quota.

Hide: ``POST /comments/setModerationStatus?id=a,b&moderationStatus=rejected`` (204; a
rejected comment cannot be published again, so ``remove`` here is final); ban: the same with
``banAuthor=true``. Calls that arrive together are batched, up to 50 ids a call (each call
costs 50 units, whatever it holds). Reply: ``POST /comments?part=snippet`` with
``snippet.parentId`` (the top-level comment: replies are one level deep) and
``textOriginal``; found again with ``GET /comments?part=snippet&parentId=`` by our channel's
author id. ``quotaExceeded`` closes the gate until midnight Pacific time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from streamproc._http import Response, Transport
from streamproc._platforms import YouTubeConfig
from streamproc.sink._client import Capabilities, PlatformClient, Target, default_error
from streamproc.sink._errors import Permanent, Transient
from streamproc.sink._metrics import SinkMetrics
from streamproc.sink._ratelimit import DailyQuota

__all__ = ["YouTubeClient"]

_BATCH = 50  # ids per setModerationStatus call, the API's maximum


@dataclass
class _Pending:
    ids: list[str] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)


class YouTubeClient(PlatformClient):
    channel = "youtube"
    operations = ("hide", "ban", "reply_public", "list")
    capabilities = Capabilities(hide=True, ban=True, reply_public=True, list_public=True)

    def __init__(
        self,
        config: YouTubeConfig,
        transport: Transport,
        metrics: SinkMetrics,
        batch_window: float = 0.2,
    ) -> None:
        assert config.token and config.channel_id
        super().__init__(transport, metrics)
        self.api = config.api_url
        self.own_channel = config.channel_id
        self.headers = {"Authorization": f"Bearer {config.token}"}
        # The sink's share of the project's daily units (the poller spends the rest).
        self.quota = DailyQuota(int(config.daily_quota * (1.0 - config.poll_share)))
        self.batch_window = batch_window
        self._pending: dict[tuple[str, bool], _Pending] = {}

    def classify(self, response: Response) -> Exception:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        reasons = [
            e.get("reason")
            for e in (error.get("errors") or [] if isinstance(error, dict) else [])
            if isinstance(e, dict)
        ]
        if "quotaExceeded" in reasons or "dailyLimitExceeded" in reasons:
            self.quota.exhaust()
            return Transient("daily quota exceeded", self.quota.seconds_to_reset())
        if "rateLimitExceeded" in reasons or "userRateLimitExceeded" in reasons:
            return Transient("rate limited", 60.0)
        if "commentNotFound" in reasons:
            return Permanent("the comment does not exist", gone=True)
        if reasons and response.status < 500 and response.status != 429:
            status = response.status
            return Permanent(f"refused: {reasons[0]} (HTTP {status})", gone=status == 404)
        return default_error(response)

    async def _charged(self, cost: int, operation: str, method: str, url: str, **kw: Any) -> Any:
        wait = self.quota.take(cost)
        if wait:
            raise Transient("daily quota spent", wait)
        self.metrics.quota_spent.set(self.quota.spent)
        return await self.call(operation, method, url, headers=self.headers, **kw)

    # --- moderation, batched -----------------------------------------------------------------

    async def _moderate(self, comment: str, ban: bool) -> None:
        key = ("rejected", ban)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending()
            asyncio.get_running_loop().call_later(
                self.batch_window, lambda: asyncio.ensure_future(self._flush(key))
            )
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending.ids.append(comment)
        pending.waiters.append(future)
        if len(pending.ids) >= _BATCH:
            await self._flush(key)
        await future

    async def _flush(self, key: tuple[str, bool]) -> None:
        pending = self._pending.pop(key, None)
        if pending is None or not pending.ids:
            return
        try:
            await self._set_status(pending.ids, key[1])
        except Permanent as exc:
            if exc.gone and len(pending.ids) > 1:
                # "One or more" of the batch is gone: find out which, one call each.
                for comment, waiter in zip(pending.ids, pending.waiters, strict=True):
                    await self._settle_one(comment, key[1], waiter)
                return
            _fail_all(pending.waiters, exc)
        except Exception as exc:
            _fail_all(pending.waiters, exc)
        else:
            for waiter in pending.waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _settle_one(self, comment: str, ban: bool, waiter: asyncio.Future[None]) -> None:
        try:
            await self._set_status([comment], ban)
        except Exception as exc:
            if not waiter.done():
                waiter.set_exception(exc)
        else:
            if not waiter.done():
                waiter.set_result(None)

    async def _set_status(self, ids: list[str], ban: bool) -> None:
        params = {"id": ",".join(ids), "moderationStatus": "rejected"}
        if ban:
            params["banAuthor"] = "true"
        url = f"{self.api}/comments/setModerationStatus"
        await self._charged(50, "ban" if ban else "hide", "POST", url, params=params)

    async def hide(self, target: Target, hidden: bool) -> None:
        if not hidden:
            raise Permanent("YouTube cannot publish a rejected comment again")
        await self._moderate(target.need("comment_id"), ban=False)

    async def ban(self, target: Target, banned: bool) -> None:
        if not banned:
            raise Permanent("YouTube has no call to lift a ban")
        await self._moderate(target.need("comment_id"), ban=True)

    # --- replies ---------------------------------------------------------------------------

    def _thread(self, target: Target) -> str:
        return target.parent_id or target.need("comment_id")

    async def reply(self, target: Target, text: str, private: bool) -> str:
        if private or target.message_id:
            raise Permanent("YouTube has no private replies")
        response = await self._charged(
            50,
            "reply_public",
            "POST",
            f"{self.api}/comments",
            params={"part": "snippet"},
            json={"snippet": {"parentId": self._thread(target), "textOriginal": text}},
        )
        return str((response.json() or {}).get("id") or "")

    async def find_reply(
        self, target: Target, text: str, private: bool, exclude: set[str]
    ) -> str | None:
        if private:
            return await super().find_reply(target, text, private, exclude)
        response = await self._charged(
            1,
            "list",
            "GET",
            f"{self.api}/comments",
            params={
                "part": "snippet",
                "parentId": self._thread(target),
                "maxResults": "100",
                "textFormat": "plainText",
            },
        )
        body = response.json()
        for item in body.get("items") or [] if isinstance(body, dict) else []:
            snippet = item.get("snippet") or {} if isinstance(item, dict) else {}
            author = (snippet.get("authorChannelId") or {}).get("value")
            if (
                author == self.own_channel
                and (snippet.get("textOriginal") or "").strip() == text.strip()
                and str(item.get("id")) not in exclude
            ):
                return str(item.get("id"))
        return None


def _fail_all(waiters: list[asyncio.Future[None]], exc: BaseException) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(exc)
