"""Signed public appeal links, shared by the sink (which puts them in replies) and the review
console (which opens them).

A token names a decision: its comment id and version, signed with HMAC (itsdangerous) under
``STREAMPROC_APPEAL_SECRET``. Its timestamp is the decision's ``decided_at``, not the time of
signing, so that a decision read twice (a replay, a restart) yields byte-identical reply texts,
which the sink's reply reconciliation compares. It is open ``STREAMPROC_APPEAL_DAYS`` from the
decision (DSA art. 20 asks for at least six months).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from itsdangerous import BadSignature, TimestampSigner

from streamproc._settings import SettingsError, env_field, from_env, settings_help

__all__ = [
    "MIN_DAYS",
    "MIN_SECRET",
    "AppealSettings",
    "AppealToken",
    "ExpiredToken",
    "ForgedToken",
    "appeal_link",
    "decided_epoch",
    "decision_token",
    "make_token",
    "read_token",
]

MIN_SECRET: Final = 32
MIN_DAYS: Final = 183  # six months: DSA art. 20(1)
_SALT: Final = b"streamproc.appeal.v1"
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,1200}\.[A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class AppealSettings:
    secret: str | None = env_field(
        "STREAMPROC_APPEAL_SECRET",
        None,
        f"signs appeal links (>= {MIN_SECRET} characters; or STREAMPROC_APPEAL_SECRET_FILE)",
        secret=True,
    )
    base_url: str | None = env_field(
        "STREAMPROC_APPEAL_BASE_URL",
        None,
        "the console's public address, e.g. https://review.example.org (links: BASE/appeal/TOKEN)",
    )
    days: int = env_field(
        "STREAMPROC_APPEAL_DAYS", 365, f"days an appeal link is open (>= {MIN_DAYS})"
    )
    attempts: int = env_field(
        "STREAMPROC_APPEAL_ATTEMPTS", 10, "appeal submissions per address per hour"
    )

    def __post_init__(self) -> None:
        if self.secret is not None and len(self.secret) < MIN_SECRET:
            raise SettingsError(f"STREAMPROC_APPEAL_SECRET: at least {MIN_SECRET} characters")
        if self.days < MIN_DAYS:
            raise SettingsError(
                f"STREAMPROC_APPEAL_DAYS={self.days}: at least {MIN_DAYS} "
                "(DSA art. 20: an appeal is open for at least six months)"
            )
        if self.attempts < 1:
            raise SettingsError(f"STREAMPROC_APPEAL_ATTEMPTS={self.attempts}: at least 1")
        if self.base_url is not None and not self.base_url.startswith(("https://", "http://")):
            raise SettingsError(f"STREAMPROC_APPEAL_BASE_URL={self.base_url!r}: not an http(s) URL")

    @property
    def links(self) -> bool:
        """Whether the sink can put links in replies (a secret and the console's address)."""
        return bool(self.secret and self.base_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppealSettings:
        return from_env(cls, os.environ if environ is None else environ)

    @classmethod
    def help(cls) -> str:
        return settings_help(cls)


class ForgedToken(ValueError):
    """Not a token this secret signed (tampered, truncated, another secret's)."""


class ExpiredToken(ValueError):
    """A genuine token whose appeal period is over."""


@dataclass(frozen=True)
class AppealToken:
    comment_id: str
    version: int
    decided_at: int  # epoch seconds

    def expires_at(self, days: int) -> int:
        return self.decided_at + days * 86400


class _SignedAt(TimestampSigner):
    """A signer whose timestamp is given (the decision's time), not the clock's."""

    def __init__(self, secret: str, at: int) -> None:
        super().__init__(secret, salt=_SALT, digest_method=hashlib.sha256)
        self._at = at

    def get_timestamp(self) -> int:
        return self._at


def _signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=_SALT, digest_method=hashlib.sha256)


def decided_epoch(decided_at: Any) -> int | None:
    """A decision's ``decided_at`` (ISO 8601) in epoch seconds, or None if it is not one."""
    if not isinstance(decided_at, str):
        return None
    try:
        stamp = datetime.fromisoformat(decided_at)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return int(stamp.timestamp())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(secret: str, comment_id: str, version: int, decided_at: int) -> str:
    """The URL-safe token of a decision (deterministic: same inputs, same token)."""
    payload = _b64(orjson.dumps([comment_id, version]))
    return _SignedAt(secret, decided_at).sign(payload).decode()


def read_token(secret: str, token: str, days: int, now: float | None = None) -> AppealToken:
    """The decision a token names. Raises :class:`ForgedToken` (also for malformed input) or
    :class:`ExpiredToken` (``days`` after the decision)."""
    # Strictly the alphabet we emit: base64 decoding would skip stray characters, and one
    # decision must have one link.
    if not _TOKEN.fullmatch(token):
        raise ForgedToken("not a valid appeal link")
    try:
        value, stamp = _signer(secret).unsign(token, return_timestamp=True)
        raw = value.decode()
        data = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (BadSignature, UnicodeError, binascii.Error, orjson.JSONDecodeError, ValueError):
        raise ForgedToken("not a valid appeal link") from None
    valid = (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[0], str)
        and isinstance(data[1], int)
    )
    if not valid:
        raise ForgedToken("not a valid appeal link")
    issued = int(stamp.timestamp())
    parsed = AppealToken(data[0], data[1], issued)
    current = datetime.now(UTC).timestamp() if now is None else now
    if current > parsed.expires_at(days):
        raise ExpiredToken("this appeal link has expired")
    return parsed


def decision_token(secret: str, decision: Mapping[str, Any]) -> str | None:
    """The token of ``decision``, or None if it has no usable ``decided_at``."""
    at = decided_epoch(decision.get("decided_at"))
    if at is None:
        return None
    version = decision.get("version")
    number = version if isinstance(version, int) and version > 0 else 1
    return make_token(secret, str(decision["comment_id"]), number, at)


def appeal_link(settings: AppealSettings, decision: Mapping[str, Any]) -> str | None:
    """The public appeal address of ``decision``, or None (no secret or address set, or the
    decision has no usable ``decided_at``)."""
    if settings.secret is None or settings.base_url is None:
        return None
    token = decision_token(settings.secret, decision)
    if token is None:
        return None
    return f"{settings.base_url.rstrip('/')}/appeal/{token}"
