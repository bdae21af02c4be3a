"""What a case page shows: the comment with its matches highlighted, personal data masked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from markupsafe import Markup, escape

__all__ = ["highlighted", "masked", "pseudonym"]


def pseudonym(channel: str, author_id: str) -> str:
    """A stable stand-in for an author: the same person reads the same everywhere."""
    return "author-" + hashlib.sha256(f"{channel}\0{author_id}".encode()).hexdigest()[:8]


def _segments(
    text: str, matches: Iterable[dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """``text`` cut at ``matches``: (the plain text before a match, the match), in order, then
    (the rest, None). An overlapping or out-of-range match stays plain text."""
    at = 0
    for m in sorted(matches, key=lambda m: (int(m.get("start", 0)), int(m.get("end", 0)))):
        start, end = int(m.get("start", 0)), int(m.get("end", 0))
        if start < at or end > len(text) or start >= end:
            continue
        yield text[at:start], m
        at = end
    yield text[at:], None


def highlighted(text: str, matches: list[dict[str, Any]], reveal: bool) -> Markup:
    """``text`` as HTML with each match in <mark>; personal data (a match with a ``kind``:
    e-mail, phone, IBAN...) replaced by its kind unless ``reveal``."""
    parts: list[str] = []
    for plain, m in _segments(text, matches):
        parts.append(str(escape(plain)))
        if m is None:
            continue
        kind = m.get("kind")
        shown = text[int(m["start"]) : int(m["end"])] if reveal or not kind else f"[{kind}]"
        title = f"{m.get('category', '')}: {m.get('rule', '')} ({m.get('confidence', '')})"
        parts.append(
            f'<mark class="{escape(str(m.get("category", "")))}" title="{escape(title)}">'
            f"{escape(shown)}</mark>"
        )
    return Markup("".join(parts))


def masked(text: str, matches: list[dict[str, Any]]) -> str:
    """``text`` with each personal-data span replaced by its kind, e.g. ``[email]``."""
    personal = [m for m in matches if isinstance(m, dict) and m.get("kind")]
    return "".join(
        plain + (f"[{m['kind']}]" if m is not None else "")
        for plain, m in _segments(text, personal)
    )
