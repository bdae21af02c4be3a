"""What every platform client shares: one seam for HTTP, the rate gate, and the metrics.

A client exposes the operations the sink needs, each one platform call (or a few): ``hide``,
``delete``, ``ban``, ``reply`` and, to reconcile a reply whose answer was lost in a crash,
``find_reply`` (raises :class:`CannotList` where the platform cannot list what was sent).
Capabilities say what a platform can do at all; the rest is for people.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streamproc._http import Response, Transport, TransportError
from streamproc.sink._errors import CannotList, Permanent, Transient
from streamproc.sink._metrics import SinkMetrics
from streamproc.sink._ratelimit import RateGate

__all__ = ["Capabilities", "PlatformClient", "Target"]


@dataclass(frozen=True)
class Capabilities:
    hide: bool = False
    delete: bool = False
    ban: bool = False
    unban: bool = False
    reply_public: bool = False
    reply_private: bool = False
    list_public: bool = False  # can list its public replies (to reconcile)
    list_private: bool = False
    #: A repeated private reply to one comment is refused by the platform itself (Meta's 10900)
    #: so it is safe to send again after a crash.
    private_deduplicated: bool = False


@dataclass(frozen=True)
class Target:
    """The platform references of one comment (from its decision)."""

    account_id: str | None
    post_id: str | None
    comment_id: str | None
    message_id: str | None
    parent_id: str | None
    user_id: str | None

    @classmethod
    def of(cls, platform: Mapping[str, Any]) -> Target:
        def get(name: str) -> str | None:
            value = platform.get(name)
            return str(value) if value else None

        return cls(
            get("account_id"),
            get("post_id"),
            get("comment_id"),
            get("message_id"),
            get("parent_id"),
            get("user_id"),
        )

    def need(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            raise Permanent(f"the decision has no platform {name}")
        return str(value)


class PlatformClient:
    channel = ""
    capabilities = Capabilities()
    # The label values of its metrics (started at zero: SinkMetrics.start_channel).
    operations: tuple[str, ...] = ()
    wait_causes: tuple[str, ...] = ("rate_limit",)

    def __init__(self, transport: Transport, metrics: SinkMetrics) -> None:
        self.transport = transport
        self.metrics = metrics
        self.gate = RateGate(lambda cause, s: metrics.waited(self.channel, cause, s))

    # --- the operations (overridden per platform) ----------------------------------------

    async def hide(self, target: Target, hidden: bool) -> None:
        raise Permanent(f"{self.channel} cannot hide comments")

    async def delete(self, target: Target) -> None:
        raise Permanent(f"{self.channel} cannot delete comments")

    async def ban(self, target: Target, banned: bool) -> None:
        raise Permanent(f"{self.channel} cannot ban authors")

    async def reply(self, target: Target, text: str, private: bool) -> str:
        raise Permanent(f"{self.channel} cannot reply")

    async def find_reply(
        self, target: Target, text: str, private: bool, exclude: set[str]
    ) -> str | None:
        raise CannotList(f"{self.channel} cannot list what was sent")

    async def close(self) -> None:
        await self.transport.close()

    # --- plumbing --------------------------------------------------------------------------

    def observe(self, response: Response) -> None:
        """Read rate-limit headers (per platform) and close the gate if needed."""

    def classify(self, response: Response) -> Exception:
        """The exception for an unsuccessful response (per platform)."""
        return default_error(response)

    async def call(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        started = time.perf_counter()
        try:
            response = await self.transport.request(
                method, url, params=params, json=json, data=data, headers=headers
            )
        except TransportError as exc:
            self.metrics.calls.labels(self.channel, operation, "transient").inc()
            raise Transient(exc.reason, maybe_sent=exc.sent) from None
        finally:
            self.metrics.call_seconds.labels(self.channel).observe(time.perf_counter() - started)
        self.observe(response)
        if 200 <= response.status < 300:
            self.metrics.calls.labels(self.channel, operation, "ok").inc()
            return response
        error = self.classify(response)
        result = "transient" if isinstance(error, Transient) else "permanent"
        self.metrics.calls.labels(self.channel, operation, result).inc()
        if isinstance(error, Transient) and error.retry_after:
            self.gate.close_for(error.retry_after, "rate_limit")
        raise error


def default_error(response: Response) -> Exception:
    from streamproc._http import retry_after

    status = response.status
    if status == 429:
        return Transient("rate limited (429)", retry_after(response) or 60.0)
    if status >= 500:
        return Transient(f"platform error (HTTP {status})", retry_after(response), True)
    if status == 401:
        return Permanent("the token was refused (revoked or expired)")
    if status == 403:
        return Permanent("permission denied")
    if status in (404, 410):
        return Permanent("the comment or account is gone", gone=True)
    return Permanent(f"refused (HTTP {status})")
