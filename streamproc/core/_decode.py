"""Decoding and validating comments: the first step of every decision, hence compiled.

msgspec decodes and validates in one step (in C: faster than parsing JSON into dicts and
checking them by hand, and its error messages name the offending field).
"""

from __future__ import annotations

from typing import Final

import msgspec

from streamproc.core._models import Comment, CommentError

__all__ = ["decode_comment", "validate_comment"]

_DECODER: Final = msgspec.json.Decoder(Comment)


def _too_long(comment: Comment, max_text_chars: int) -> CommentError:
    return CommentError(
        f"field 'text' has {len(comment.text)} characters, over the limit of {max_text_chars}"
    )


def decode_comment(raw: bytes | str, max_text_chars: int) -> Comment:
    """Parse and validate one JSON comment; raise :class:`CommentError` saying what is wrong."""
    try:
        comment = _DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        raise CommentError(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise CommentError(f"invalid JSON: {exc}", "invalid_json") from None
    except RecursionError:
        raise CommentError("invalid JSON: nested too deeply", "invalid_json") from None
    if len(comment.text) > max_text_chars:
        raise _too_long(comment, max_text_chars)
    return comment


def validate_comment(obj: object, max_text_chars: int) -> Comment:
    """Validate an already parsed comment (a dict, or a :class:`Comment`)."""
    if isinstance(obj, Comment):
        comment = obj
    else:
        try:
            comment = msgspec.convert(obj, Comment)
        except msgspec.ValidationError as exc:
            raise CommentError(str(exc)) from None
    if len(comment.text) > max_text_chars:
        raise _too_long(comment, max_text_chars)
    return comment
