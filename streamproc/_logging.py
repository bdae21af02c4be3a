"""Logging shared by every service: one line per repeated failure and back-off period.

During a broker outage aiokafka logs each failed attempt (``Unable connect to node``, ``Failed
fetch messages``...), thousands of lines a second. :class:`RepeatFilter` lets the first record of
each kind through, then at most one per ``period`` seconds, saying how many it held back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

__all__ = ["RepeatFilter", "quiet_repeats"]


class RepeatFilter(logging.Filter):
    """Pass a record whose (logger, message template) was not seen for ``period`` seconds."""

    def __init__(self, period: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.period = period
        self.clock = clock
        self._last: dict[tuple[str, object], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.msg)
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last[0] < self.period:
                self._last[key] = (last[0], last[1] + 1)
                return False
            held = last[1] if last is not None else 0
            self._last[key] = (now, 0)
            if len(self._last) > 10_000:  # bounded: templates, not values, are the keys
                self._last.clear()
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {self.period:.0f} s)"
        return True


def quiet_repeats(handlers: Iterable[logging.Handler] | None = None, period: float = 30.0) -> None:
    """Add one :class:`RepeatFilter` to ``handlers`` (default: the root logger's)."""
    targets = list(handlers) if handlers is not None else list(logging.getLogger().handlers)
    shared = RepeatFilter(period)
    for handler in targets:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(shared)
