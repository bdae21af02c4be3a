"""What the stand-ins remember: every call they received, the state of the comments they were
asked to change, and the faults a test or the demo asked them to answer with."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "Fault", "PlatformState"]


@dataclass(frozen=True)
class Call:
    platform: str
    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON, a form as a dict, or None
    at: float

    def describe(self) -> str:
        return f"{self.platform}: {self.method} {self.path}"


@dataclass
class Fault:
    """Answer matching requests with ``status`` (and ``headers``, ``body``), ``count`` times;
    or, with ``hold`` seconds, do what was asked and then wait that long before answering."""

    platform: str
    method: str
    path: re.Pattern[str]
    count: int
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    hold: float = 0.0


class PlatformState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.hidden: dict[tuple[str, str], bool] = {}
        self.deleted: set[tuple[str, str]] = set()
        self.banned: set[tuple[str, str]] = set()
        #: Replies and messages the account sent: dicts with platform, parent, id, author,
        #: text, private.
        self.sent: list[dict[str, Any]] = []
        self.youtube_comments: list[dict[str, Any]] = []  # Comment resources, for polling
        self.linkedin_posts: dict[str, list[dict[str, Any]]] = {}
        self.youtube_quota = 10_000
        self._ids = 0

    def new_id(self, prefix: str = "") -> str:
        with self.lock:
            self._ids += 1
            return f"{prefix}{int(time.time())}{self._ids:06d}"

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def fault_for(self, platform: str, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.platform == platform
                    and fault.method == method
                    and fault.count > 0
                    and fault.path.search(path)
                ):
                    fault.count -= 1
                    return fault
        return None

    def calls_of(self, platform: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if platform is None or c.platform == platform]
