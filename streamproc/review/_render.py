"""What a case page shows: the comment with its matches highlighted, personal data masked."""

from __future__ import annotations

import hashlib
from typing import Any

from markupsafe import Markup, escape

__all__ = ["highlighted", "pseudonym"]


def pseudonym(channel: str, author_id: str) -> str:
    """A stable stand-in for an author: the same person reads the same everywhere."""
    return "author-" + hashlib.sha256(f"{channel}\0{author_id}".encode()).hexdigest()[:8]


def highlighted(text: str, matches: list[dict[str, Any]], reveal: bool) -> Markup:
    """``text`` as HTML with each match in <mark>; personal data (a match with a ``kind``:
    e-mail, phone, IBAN...) replaced by its kind unless ``reveal``."""
    parts: list[str] = []
    at = 0
    for m in sorted(matches, key=lambda m: (int(m.get("start", 0)), int(m.get("end", 0)))):
        start, end = int(m.get("start", 0)), int(m.get("end", 0))
        if start < at or end > len(text) or start >= end:
            continue  # overlapping or out of range: shown as plain text
        parts.append(str(escape(text[at:start])))
        kind = m.get("kind")
        shown = text[start:end] if reveal or not kind else f"[{kind}]"
        title = f"{m.get('category', '')}: {m.get('rule', '')} ({m.get('confidence', '')})"
        parts.append(
            f'<mark class="{escape(str(m.get("category", "")))}" title="{escape(title)}">'
            f"{escape(shown)}</mark>"
        )
        at = end
    parts.append(str(escape(text[at:])))
    return Markup("".join(parts))
