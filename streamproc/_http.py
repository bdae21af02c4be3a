"""HTTP behind one small seam, as httpx does: the platform clients and pollers build requests
and read :class:`Response` objects; a :class:`Transport` sends them. :class:`AiohttpTransport`
is the one used for real (aiohttp's client, already a dependency through Faust)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import orjson
import yarl

__all__ = ["AiohttpTransport", "Response", "Transport", "TransportError", "retry_after"]


class TransportError(Exception):
    """No HTTP answer (connection refused, reset, timeout). ``sent`` says whether the request
    may have reached the server (False only when the connection was never made)."""

    def __init__(self, reason: str, sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


@dataclass
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        if value is None:  # plain dicts (tests) are case-sensitive
            lowered = name.lower()
            value = next((v for k, v in self.headers.items() if k.lower() == lowered), None)
        return value


class Transport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    def __init__(self, timeout: float = 30.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        body = orjson.dumps(json) if json is not None else None
        all_headers = dict(headers or {})
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        try:
            # encoded=True: paths hold URL-encoded URNs (LinkedIn) that must stay as they are.
            async with self._session.request(
                method,
                yarl.URL(url, encoded=True),
                params=dict(params) if params else None,
                data=body if body is not None else (dict(data) if data else None),
                headers=all_headers,
            ) as response:
                return Response(response.status, dict(response.headers), await response.read())
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(f"cannot connect ({type(exc).__name__})", sent=False) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(f"no answer ({type(exc).__name__})", sent=True) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def retry_after(response: Response, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if any."""
    value = response.header("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))
