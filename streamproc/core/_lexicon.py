"""The lexicon line grammar: ``pattern | option=value ...  # comment``, one entry a line.

A pattern is words (matched whole, after normalization) with ``*`` at its start or end for a
suffix, prefix or infix match; options set ``severity``, ``confidence`` and ``rule``.
"""

from __future__ import annotations

import re

from streamproc.core._normalize import normalize
from streamproc.core._policy import CONFIDENCES, SEVERITIES, LexiconEntry, MatchKind, PackIssue

__all__ = ["parse_lexicon"]

_RULE_ID = re.compile(r"^[a-z0-9_.:*-]+$")


def _split_entry(line: str) -> tuple[str, str]:
    """``pattern | options  # comment`` -> (pattern, options)."""
    hash_at = line.find(" #")
    if hash_at >= 0:
        line = line[:hash_at]
    pattern, _, options = line.partition("|")
    return pattern.strip(), options.strip()


def _parse_pattern(pattern: str) -> tuple[MatchKind, str] | str:
    """(kind, normalized words), or an error message."""
    prefix = pattern.endswith("*")
    suffix = pattern.startswith("*")
    core = pattern.strip("*")
    if "*" in core:
        return "'*' is allowed only at the start or the end of a pattern"
    if not core.strip():
        return "empty pattern"
    words = normalize(core).strip(" ")
    if not any(c.isalpha() for c in core):
        return f"pattern {pattern!r} has no letter after normalization (numbers are too ambiguous)"
    if "\x7f" in words:
        return f"pattern {pattern!r} has letters of a script the normalizer does not fold"
    if (prefix and core.endswith(" ")) or (suffix and core.startswith(" ")):
        return "'*' must touch a word"
    kind: MatchKind = (
        "infix" if prefix and suffix else "prefix" if prefix else "suffix" if suffix else "word"
    )
    return kind, words


def _default_rule(category: str, lang: str, kind: MatchKind, words: str) -> str:
    """``insult.it.stronz*``: category, language and the pattern as normalized."""
    core = words.replace(" ", "_")
    prefix = "*" if kind in ("suffix", "infix") else ""
    suffix = "*" if kind in ("prefix", "infix") else ""
    return f"{category}.{lang}.{prefix}{core}{suffix}"


def parse_lexicon(
    name: str, text: str, category: str, lang: str, issues: list[PackIssue]
) -> list[LexiconEntry]:
    entries: list[LexiconEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pattern, options_text = _split_entry(stripped)
        parsed = _parse_pattern(pattern)
        if isinstance(parsed, str):
            issues.append(PackIssue(name, number, parsed))
            continue
        kind, words = parsed[0], parsed[1]
        options: dict[str, str] = {}
        for option in options_text.split():
            key, eq, value = option.partition("=")
            if not eq or not value:
                issues.append(PackIssue(name, number, f"option {option!r} is not key=value"))
                continue
            options[key] = value
        severity = options.pop("severity", "medium")
        confidence = options.pop("confidence", "high")
        rule = options.pop("rule", _default_rule(category, lang, kind, words))
        if category == "allow" and (options_text and options_text.strip()):
            issues.append(PackIssue(name, number, "allowlist entries take no options"))
        for unknown in options:
            issues.append(PackIssue(name, number, f"unknown option {unknown!r}"))
        if severity not in SEVERITIES:
            issues.append(PackIssue(name, number, f"severity must be one of {SEVERITIES}"))
            continue
        if confidence not in CONFIDENCES:
            issues.append(PackIssue(name, number, f"confidence must be one of {CONFIDENCES}"))
            continue
        if not _RULE_ID.match(rule):
            issues.append(PackIssue(name, number, f"rule id {rule!r} must match [a-z0-9_.:*-]+"))
            continue
        seen_key = (kind, words)
        if seen_key in seen:
            issues.append(
                PackIssue(
                    name,
                    number,
                    f"duplicate of line {seen[seen_key]} (same words after normalization)",
                    "warning",
                )
            )
            continue
        seen[seen_key] = number
        entries.append(
            LexiconEntry(
                pattern=pattern,
                category=category,
                lang=lang,
                severity=severity,
                confidence=confidence,
                rule=rule,
                kind=kind,
                words=words,
                file=name,
                line=number,
            )
        )
    return entries
