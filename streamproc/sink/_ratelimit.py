"""Rate limits, per platform and token: one :class:`RateGate` per client that every call waits
on, closed by what the platform says (a 429 and its ``Retry-After``; X's ``x-rate-limit-*``
headers; Meta's usage headers; YouTube's daily quota). Waiting is a metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson

__all__ = [
    "DailyQuota",
    "RateGate",
    "meta_usage_wait",
    "x_rate_limit_wait",
]

_PACIFIC = ZoneInfo("America/Los_Angeles")  # YouTube's quota resets at midnight Pacific time


class RateGate:
    """Closed until a time; :meth:`wait` returns when it opens (or when ``cancel`` is set)."""

    def __init__(
        self,
        on_wait: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._until = 0.0
        self._cause = ""
        self._on_wait = on_wait
        self._clock = clock

    def close_for(self, seconds: float, cause: str) -> None:
        until = self._clock() + max(0.0, seconds)
        if until > self._until:
            self._until, self._cause = until, cause

    def remaining(self) -> float:
        return max(0.0, self._until - self._clock())

    async def wait(self, cancel: asyncio.Event | None = None) -> bool:
        """Wait while closed; False if ``cancel`` was set first."""
        while (left := self.remaining()) > 0:
            started = self._clock()
            if cancel is None:
                await asyncio.sleep(left)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cancel.wait(), left)
            if self._on_wait is not None:
                self._on_wait(self._cause, self._clock() - started)
            if cancel is not None and cancel.is_set():
                return False
        return not (cancel is not None and cancel.is_set())


def x_rate_limit_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds until X's window resets when ``x-rate-limit-remaining`` is 0, else None."""
    lowered = {k.lower(): v for k, v in headers.items()}
    remaining, reset = lowered.get("x-rate-limit-remaining"), lowered.get("x-rate-limit-reset")
    if remaining is None or reset is None:
        return None
    try:
        if int(remaining) > 0:
            return None
        return max(0.0, float(reset) - (time.time() if now is None else now))
    except ValueError:
        return None


def _percentages(usage: object) -> list[float]:
    if not isinstance(usage, dict):
        return []
    return [
        float(v)
        for k, v in usage.items()
        if k in ("call_count", "total_time", "total_cputime", "acc_id_util_pct")
        and isinstance(v, int | float)
    ]


def meta_usage_wait(headers: Mapping[str, str], threshold: float = 95.0) -> float | None:
    """Seconds to pause from Meta's usage headers (``X-App-Usage``, ``X-Page-Usage``: percent
    of the limit; ``X-Business-Use-Case-Usage``: the same per business object, with
    ``estimated_time_to_regain_access`` in minutes), or None while under ``threshold``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    wait: float | None = None
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        try:
            usage = orjson.loads(lowered[name]) if name in lowered else None
        except orjson.JSONDecodeError:
            continue
        if any(p >= threshold for p in _percentages(usage)):
            wait = max(wait or 0.0, 60.0)
    raw = lowered.get("x-business-use-case-usage")
    if raw:
        try:
            buc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            buc = None
        entries = (
            [e for v in buc.values() if isinstance(v, list) for e in v]
            if isinstance(buc, dict)
            else []
        )
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and minutes > 0:
                wait = max(wait or 0.0, minutes * 60.0)
            elif any(p >= threshold for p in _percentages(entry)):
                wait = max(wait or 0.0, 60.0)
    return wait


class DailyQuota:
    """YouTube's daily units (10,000 by default), reset at midnight Pacific time. Every call is
    charged before it is made (Google charges even the ones that fail)."""

    def __init__(self, units: int, clock: Callable[[], float] = time.time) -> None:
        self.units = units
        self._clock = clock
        self._day = self._today()
        self.spent = 0

    def _today(self) -> str:
        return datetime.fromtimestamp(self._clock(), _PACIFIC).date().isoformat()

    def seconds_to_reset(self) -> float:
        now = datetime.fromtimestamp(self._clock(), _PACIFIC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(1.0, (midnight - now).total_seconds())

    def take(self, cost: int) -> float:
        """Charge ``cost`` units and return 0, or return the seconds until the quota resets
        (nothing charged) when the rest of today's units do not cover it."""
        if self._today() != self._day:
            self._day, self.spent = self._today(), 0
        if self.spent + cost > self.units:
            return self.seconds_to_reset()
        self.spent += cost
        return 0.0

    def exhaust(self) -> None:
        """The platform said the quota is spent (whatever our count says)."""
        self.spent = self.units
