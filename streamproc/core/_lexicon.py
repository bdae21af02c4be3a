"""The lexicon line grammar: ``pattern | option=value ...  # comment``, one entry a line.

A pattern is words (matched whole, after normalization) with ``*`` at its start or end for a
suffix, prefix or infix match; options set ``severity``, ``confidence`` and ``rule``.

Two notations stand for several spellings of one entry, all citing the entry's rule:
``jail+bait`` is an English compound, matched closed, open and hyphenated (``jailbait``,
``jail bait``, ``jail-bait``); ``forms=it`` on a one-word Italian entry adds its inflections and
productive suffixes (:data:`ITALIAN_SUFFIXES`: *stronzissimo*, *cretinetto*, *cretinate*).
"""

from __future__ import annotations

import re
from typing import Final

from streamproc.core._normalize import NAMED_EMOJI, normalize
from streamproc.core._pace import paced
from streamproc.core._policy import CONFIDENCES, SEVERITIES, LexiconEntry, MatchKind, PackIssue

__all__ = ["ITALIAN_SUFFIXES", "derived_forms", "parse_lexicon"]

_RULE_ID = re.compile(r"^[a-z0-9_.:*-]+$")

ITALIAN_SUFFIXES: Final = (
    # gender and number, then the productive suffixes each with its four endings
    "o",
    "a",
    "i",
    "e",
    *(stem + ending for stem in ("issim", "ett", "on", "ott", "acc") for ending in "oaie"),
    "ata",
    "ate",
)
"""Endings added to the stem (the word less its final vowel) of a ``forms=it`` entry. Bounded:
the elatives (-issimo), diminutives (-etto), augmentatives (-one), -otto and the pejorative
-accio, and -ata/-ate for the deed (*cretinata*); nothing recursive."""


def derived_forms(word: str) -> list[str]:
    """The forms of an Italian insult stem a ``forms=it`` entry adds (``word`` included)."""
    stem = word[:-1] if word[-1:] in "aeio" else word
    forms = [word]
    for ending in ITALIAN_SUFFIXES:
        form = stem + ending
        if form not in forms:
            forms.append(form)
    return forms


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
    if not any(c.isalpha() or c in NAMED_EMOJI for c in core):
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
    listed = _listed(text)  # a line of its own wins over another line's derived form
    for number, raw in paced(enumerate(text.splitlines(), start=1)):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pattern, options_text = _split_entry(stripped)
        spellings = _compound_spellings(pattern)
        parsed = _parse_pattern(spellings[0])
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
        forms = options.pop("forms", None)
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
        variants = [words]
        for spelling in spellings[1:]:
            other = _parse_pattern(spelling)
            if not isinstance(other, str):
                variants.append(other[1])
        if forms is not None:
            if forms != "it" or kind != "word" or " " in words or category == "allow":
                issues.append(PackIssue(name, number, "forms=it applies to one-word entries"))
                continue
            variants = derived_forms(words)
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
        for variant in variants:
            if variant != words and ((kind, variant) in seen or (kind, variant) in listed):
                continue  # a spelling the file also lists on a line of its own
            seen[(kind, variant)] = number
            entries.append(
                LexiconEntry(
                    pattern=pattern,
                    category=category,
                    lang=lang,
                    severity=severity,
                    confidence=confidence,
                    rule=rule,
                    kind=kind,
                    words=variant,
                    file=name,
                    line=number,
                    derived=variant != words,
                )
            )
    return entries


def _listed(text: str) -> set[tuple[str, str]]:
    """(kind, words) of every line of a lexicon as written."""
    out: set[tuple[str, str]] = set()
    for raw in paced(text.splitlines()):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            parsed = _parse_pattern(_compound_spellings(_split_entry(stripped)[0])[0])
            if not isinstance(parsed, str):
                out.add((parsed[0], parsed[1]))
    return out


def _compound_spellings(pattern: str) -> list[str]:
    """``jail+bait`` -> the closed and the open spelling (hyphens normalize to spaces)."""
    if "+" not in pattern:
        return [pattern]
    return [pattern.replace("+", ""), pattern.replace("+", " ")]
