"""What every connector produces: canonical Comment records (see topics/schemas/), keyed by
their author's platform id as the worker expects, and the one error a payload can raise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

__all__ = ["Incoming", "Parsed", "PayloadError", "comment_record", "from_epoch", "shape_error"]

#: Longest id the Comment contract takes (streamproc.core.MAX_ID_CHARS).
_MAX_ID = 512


class PayloadError(ValueError):
    """A body that is not what the platform sends. The reason names fields and types, never
    values (it is logged and counted; the body may hold personal data)."""

    def __init__(self, reason: str, kind: str = "invalid_shape") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # invalid_json or invalid_shape: a metrics label


def shape_error(exc: msgspec.ValidationError) -> PayloadError:
    # msgspec's messages say what was expected where ("Expected `str`, got `int` - at
    # `$.entry[0].id`"), not the value itself.
    return PayloadError(str(exc))


@dataclass
class Incoming:
    """One comment for ``comments.<channel>``."""

    channel: str
    record: dict[str, Any]

    @property
    def key(self) -> bytes:
        author: dict[str, Any] = self.record["author"]
        return str(author["id"]).encode()

    @property
    def user_id(self) -> str:
        return str(self.record["author"]["id"])


@dataclass
class Parsed:
    comments: list[Incoming]
    ignored: int = 0  # events of kinds that are not comments (likes, our own posts...)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _bounded(value: str, what: str) -> str:
    if not value or len(value) > _MAX_ID:
        raise PayloadError(f"{what}: empty or longer than {_MAX_ID} characters")
    return value


def comment_record(
    *,
    channel: str,
    comment_id: str,
    author_id: str,
    author_name: str | None,
    text: str,
    created_at: datetime,
    kind: str,
    account_id: str | None,
    post_id: str | None = None,
    parent_id: str | None = None,
    version: int = 1,
    deleted: bool = False,
) -> Incoming:
    """The canonical comment: ``id`` is ``<channel>:<platform comment id>``, stable across
    edits; ``platform`` keeps what acting on it later needs."""
    comment_id = _bounded(comment_id, "comment id")
    author_id = _bounded(author_id, "author id")
    message = kind == "private_message"
    platform = {
        "account_id": account_id,
        "post_id": post_id,
        "message_id" if message else "comment_id": comment_id,
        "parent_id": parent_id,
        "user_id": author_id,
    }
    record: dict[str, Any] = {
        "id": _bounded(f"{channel}:{comment_id}", "comment id"),
        "channel": channel,
        "author": {"id": author_id, "name": author_name, "role": "public"},
        "text": text,
        "created_at": created_at.isoformat(),
        "post_id": post_id,
        "kind": kind,
        "platform": {k: v for k, v in platform.items() if v},
        "version": max(1, version),
    }
    if deleted:
        record["deleted"] = True
    return Incoming(channel, record)
