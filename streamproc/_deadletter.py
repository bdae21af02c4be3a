"""The dead-letter format, one for every service: what could not be moderated, where it came
from, why, and a copy of it.

On Kafka (``moderation.deadletter``) a dead letter is the input record's key and value, cut to
:data:`VALUE_LIMIT` / :data:`KEY_LIMIT` bytes so that it always fits, with headers:

``streamproc.error``       the kind, one of :data:`KINDS` (bounded: also a metrics label)
``streamproc.reason``      what is wrong, for people (never quotes the input: no personal data)
``streamproc.source``      where the whole record is: ``topic/partition/offset`` or ``file:line``
``streamproc.value_size``  the original size, only when the copy was cut (``key_size`` too)

In a file (``streamproc moderate --dead-letter``) it is one JSON object per line with the same
fields (``error``, ``reason``, ``source``, ``line``) and the copy as ``raw`` (UTF-8 text) or
``raw_base64``.
"""

from __future__ import annotations

import base64
from typing import Any, Final

__all__ = ["KEY_LIMIT", "KINDS", "VALUE_LIMIT", "cut", "dead_letter_headers", "dead_letter_json"]

KINDS: Final = ("invalid_json", "invalid_comment", "invalid_review", "too_large", "engine_error")
"""invalid_json: not JSON (or not UTF-8, or empty, or nested too deeply); invalid_comment: JSON
that breaks the Comment contract (a field missing, of the wrong type, too long, no channel to
route it by); invalid_review: a moderation.reviews record the worker cannot apply; too_large:
over a size limit (the record, or its decision); engine_error: a bug."""

VALUE_LIMIT: Final = 256 * 1024
KEY_LIMIT: Final = 1024
REASON_LIMIT: Final = 1000


def cut(data: bytes | None, limit: int) -> tuple[bytes | None, int | None]:
    """``data`` cut to ``limit`` bytes, and its original size if it was cut."""
    if data is not None and len(data) > limit:
        return data[:limit], len(data)
    return data, None


def dead_letter_headers(
    kind: str, reason: str, source: str, key: bytes | None, value: bytes | None
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    """(key, value, headers) of the dead letter of a record (see the module docstring)."""
    value, value_size = cut(value, VALUE_LIMIT)
    key, key_size = cut(key, KEY_LIMIT)
    headers = [
        ("streamproc.error", kind.encode()),
        ("streamproc.reason", reason.encode("utf-8", "replace")[:REASON_LIMIT]),
        ("streamproc.source", source.encode("utf-8", "replace")),
    ]
    if value_size is not None:
        headers.append(("streamproc.value_size", str(value_size).encode()))
    if key_size is not None:
        headers.append(("streamproc.key_size", str(key_size).encode()))
    return key, value, headers


def dead_letter_json(
    kind: str, reason: str, source: str, raw: bytes, **extra: Any
) -> dict[str, Any]:
    """The file form of a dead letter (see the module docstring)."""
    record: dict[str, Any] = {**extra, "error": kind, "reason": reason, "source": source}
    copy, size = cut(raw, VALUE_LIMIT)
    assert copy is not None
    if size is not None:
        record["value_size"] = size
    try:
        record["raw"] = copy.decode("utf-8")
    except UnicodeDecodeError:
        record["raw_base64"] = base64.b64encode(copy).decode("ascii")
    return record
