"""The sink's one exception tree: what a platform call can end in, besides success."""

from __future__ import annotations

__all__ = ["AlreadyDone", "CannotList", "Permanent", "PlatformError", "Transient"]


class PlatformError(Exception):
    """Base class. ``reason`` is for the outcome record and the logs: never personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transient(PlatformError):
    """Worth trying again: a rate limit, a 5xx, no answer. ``retry_after`` is what the platform
    asked for (seconds), if anything; ``maybe_sent`` whether the call may have taken effect
    (a 5xx or a lost answer: yes; a 429 or a refused connection: no)."""

    def __init__(self, reason: str, retry_after: float | None = None, maybe_sent: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class Permanent(PlatformError):
    """Trying again cannot help: a revoked token, a missing permission, the comment gone."""

    def __init__(self, reason: str, gone: bool = False) -> None:
        super().__init__(reason)
        self.gone = gone


class AlreadyDone(PlatformError):
    """The platform says this was done before (Meta's 10900 "Activity already replied to")."""


class CannotList(PlatformError):
    """The platform cannot list what was sent, so a lost answer cannot be reconciled."""
