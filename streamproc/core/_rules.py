"""Structural rules: two classes of words, near each other, rather than one phrase.

A lexicon has to spell out every phrase ("sei una vacca", "sei proprio una vacca", "siete delle
vacche"...). A rule names two word classes instead and how close they must be:

- a **predicate** (``@address @predicative``): a term of the second class follows one of the
  first within ``within`` words, and every word in between belongs to the ``between`` class
  (articles and intensifiers), so "sei davvero una gran vacca" is an insult and "sei andato a
  vedere la vacca" is not;
- a **co-occurrence** (``@group ~ @generalization``): both classes within ``within`` words of
  each other, in either order, anything in between.

Rules are compiled into the same automaton pass as the lexicons: the terms of each rule's anchor
class (by default its second class, the rarer one) are automaton triggers, so a comment without
one stays on the fast path; the other classes ("sei", "you are") are looked for only in the
comments where an anchor fired, with a small automaton of their own over the same normalized
text. A rule match is a lexicon match like any other (category, rule id, span from the first
class to the second), read in context by the engine.

The allowlist applies to each class phrase as it does to a lexicon match: a phrase lying inside
an allowlisted match (and not obfuscated) does not count, so "tu, porca miseria" is no
"tu ... porca" once *porca miseria* is allowed.

Two **built-in classes** name what no word list can: ``@mention`` (any @handle) and
``@name_vocative`` (a capitalized word opening a sentence, then a comma: "Mario, porco"). They
are found on the original text, and only in comments where the rule's word class (always the
anchor) fired, so they cost the fast path nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import ahocorasick

from streamproc.core._matcher import Found
from streamproc.core._models import LEXICON_CATEGORIES
from streamproc.core._normalize import (
    OffsetMap,
    ScanForm,
    fold,
    normalize,
    plain_form,
    prepare,
)
from streamproc.core._policy import (
    CONFIDENCES,
    SEVERITIES,
    LexiconEntry,
    PackIssue,
    StructRule,
)

__all__ = ["BUILTIN_CLASSES", "RuleMatcher", "anchor_keys", "parse_rules"]

_CLASS_NAME: Final = re.compile(r"^@[a-z][a-z0-9_]*$")
_RULE_ID: Final = re.compile(r"^[a-z0-9_.:-]+$")
_MAX_WITHIN: Final = 8
_DEFAULT_WITHIN: Final = 3

BUILTIN_CLASSES: Final = {
    "@mention": "any @handle",
    "@name_vocative": "a capitalized word opening a sentence, then a comma",
}
"""Classes every rule file may use without defining them (never an anchor: they have no terms)."""
# An @ that opens a word (not an e-mail address), then the handle: letters, digits, _ and dots
# inside it ("@mario.rossi", not the full stop after "@mario.").
_MENTION: Final = re.compile(r"(?<![\w@.])@\w+(?:\.\w+)*")
# A word (letters, one inner hyphen) then a comma, tried where the text or a sentence opens
# (matching there only is twice as fast as a search with a look-behind).
_VOCATIVE: Final = re.compile(r"\s*([^\W\d_]+(?:-[^\W\d_]+)?)\s*,")
_SENTENCE_END: Final = re.compile(r"[.!?;\n]")


def _phrase_key(phrase: str) -> str | None:
    """The automaton key of a class phrase (``" sei "``, ``" scem"`` for ``scem*``), or None."""
    prefix = phrase.endswith("*")
    core = phrase.rstrip("*").strip()
    if not core or "*" in core or not any(c.isalpha() for c in core):
        return None
    words = normalize(core).strip(" ")
    if not words or "\x7f" in words:
        return None
    return " " + words + ("" if prefix else " ")


def parse_rules(
    name: str, text: str, lang: str, issues: list[PackIssue]
) -> tuple[dict[str, tuple[str, ...]], list[StructRule]]:
    """The classes (name -> automaton keys, names qualified by language) and rules of one
    ``rules/<lang>.txt`` file; every problem goes to ``issues`` with its line."""
    classes: dict[str, tuple[str, ...]] = {}
    class_lines: dict[str, int] = {}
    pending: list[tuple[int, str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        hash_at = line.find(" #")
        if hash_at >= 0:
            line = line[:hash_at].strip()
        if not line or line.startswith("#"):
            continue
        head, eq, body = line.partition("=")
        head = head.strip()
        if not eq:
            issues.append(PackIssue(name, number, "expected '@class = ...' or 'rule.id = ...'"))
            continue
        if head.startswith("@"):
            if not _CLASS_NAME.match(head):
                issues.append(PackIssue(name, number, f"class name {head!r} must be @[a-z0-9_]+"))
                continue
            if head in BUILTIN_CLASSES:
                issues.append(
                    PackIssue(name, number, f"{head} is a built-in class ({BUILTIN_CLASSES[head]})")
                )
                continue
            if head in class_lines:
                issues.append(
                    PackIssue(
                        name, number, f"class {head} already defined at line {class_lines[head]}"
                    )
                )
                continue
            keys: list[str] = []
            for phrase in body.split("|"):
                key = _phrase_key(phrase.strip())
                if key is None:
                    issues.append(
                        PackIssue(name, number, f"{head}: {phrase.strip()!r} is not a phrase")
                    )
                elif key not in keys:
                    keys.append(key)
            class_lines[head] = number
            classes[f"{lang}:{head}"] = tuple(keys)
        else:
            pending.append((number, head, body))
    rules: list[StructRule] = []
    used: set[str] = set()
    for number, rule_id, body in pending:
        rule = _parse_rule(name, number, lang, rule_id, body, classes, issues)
        if rule is not None:
            rules.append(rule)
            used.update((rule.first, rule.second, rule.between or rule.first))
    for qualified, number in ((f"{lang}:{c}", n) for c, n in class_lines.items()):
        if qualified not in used:
            issues.append(PackIssue(name, number, "class used by no rule", "warning"))
    return classes, rules


def _parse_rule(
    name: str,
    number: int,
    lang: str,
    rule_id: str,
    body: str,
    classes: Mapping[str, tuple[str, ...]],
    issues: list[PackIssue],
) -> StructRule | None:
    def fail(message: str) -> StructRule | None:
        issues.append(PackIssue(name, number, message))
        return None

    if not _RULE_ID.match(rule_id):
        return fail(f"rule id {rule_id!r} must match [a-z0-9_.:-]+")
    category, _, rest = rule_id.partition(".")
    if category not in LEXICON_CATEGORIES or not rest.startswith(f"{lang}."):
        return fail(f"rule id {rule_id!r} must be <category>.{lang}.<name>")
    shape, _, options_text = body.partition("|")
    parts = shape.split()
    ordered = "~" not in parts
    names = [p for p in parts if p != "~"]
    if len(names) != 2 or (not ordered and parts[1] != "~") or len(parts) != 3 - ordered:
        return fail("a rule is '@first @second' (in order) or '@first ~ @second' (either order)")
    for class_name in names:
        if class_name not in BUILTIN_CLASSES and f"{lang}:{class_name}" not in classes:
            return fail(f"unknown class {class_name} (define it above with '{class_name} = ...')")
    words = [n for n in names if n not in BUILTIN_CLASSES]
    if not words:
        return fail("a rule needs a class of words: built-in classes cannot be its anchor")
    options: dict[str, str] = {}
    for option in options_text.split():
        key, eq, value = option.partition("=")
        if not eq or not value:
            return fail(f"option {option!r} is not key=value")
        options[key] = value
    severity = options.pop("severity", "medium")
    confidence = options.pop("confidence", "high")
    within_text = options.pop("within", str(_DEFAULT_WITHIN))
    between = options.pop("between", None)
    anchor = options.pop("anchor", words[-1])  # the second class, unless it is built in
    if options:
        return fail(f"unknown option {next(iter(options))!r}")
    if severity not in SEVERITIES:
        return fail(f"severity must be one of {SEVERITIES}")
    if confidence not in CONFIDENCES:
        return fail(f"confidence must be one of {CONFIDENCES}")
    if not within_text.isdigit() or int(within_text) > _MAX_WITHIN:
        return fail(f"within must be a number of words from 0 to {_MAX_WITHIN}")
    if between is not None:
        if not ordered:
            return fail("between applies to rules in order ('@first @second')")
        if between in BUILTIN_CLASSES:
            return fail(f"the between class must be a class of words, not {between}")
        if f"{lang}:{between}" not in classes:
            return fail(f"unknown class {between}")
        if any(key.count(" ") != 2 for key in classes[f"{lang}:{between}"]):
            return fail(f"the between class {between} must hold single whole words")
    if anchor in BUILTIN_CLASSES and anchor in names:
        return fail(f"anchor must be a class of words: the built-in {anchor} has no terms")
    if anchor not in names:
        return fail(f"anchor must be one of the rule's classes ({' or '.join(names)})")
    return StructRule(
        rule=rule_id,
        category=category,
        lang=lang,
        severity=severity,
        confidence=confidence,
        first=_qualified(lang, names[0]),
        second=_qualified(lang, names[1]),
        ordered=ordered,
        within=int(within_text),
        between=None if between is None else f"{lang}:{between}",
        anchor=f"{lang}:{anchor}",
        text=f"{rule_id} = {shape.strip()}",
        file=name,
        line=number,
    )


def _qualified(lang: str, class_name: str) -> str:
    """A class name as rules store it: by language ("it:@address"), built-ins as they are."""
    return class_name if class_name in BUILTIN_CLASSES else f"{lang}:{class_name}"


def anchor_keys(rules: Iterable[StructRule], classes: Mapping[str, tuple[str, ...]]) -> set[str]:
    """The automaton keys that may start a rule match (the terms of the anchor classes)."""
    return {key for rule in rules for key in classes[rule.anchor]}


class _Span:
    """One class phrase found: normalized character span and word positions."""

    __slots__ = ("first_word", "last_word", "start", "stop")

    def __init__(self, start: int, stop: int, first_word: int, last_word: int) -> None:
        self.start, self.stop = start, stop
        self.first_word, self.last_word = first_word, last_word


class RuleMatcher:
    """The pack's rules, compiled: resolve them on a text where an anchor fired.

    ``not_names`` are normalized words that never stand for a ``@name_vocative`` (the pack's
    stop words: "Sì, porca vacca" and "Well, pig" name nobody).
    """

    def __init__(
        self,
        rules: Sequence[StructRule],
        classes: Mapping[str, tuple[str, ...]],
        not_names: Iterable[str] = (),
    ) -> None:
        self.rules = tuple(rules)
        self._entries = {rule.rule: _entry(rule) for rule in self.rules}
        self._fillers = {
            rule.between: frozenset(key.strip() for key in classes[rule.between])
            for rule in self.rules
            if rule.between is not None
        }
        self._not_names = frozenset(not_names)
        # Per rule, in file order: its entry and its built-in class ("" if none).
        self._plan = tuple(
            (
                rule,
                self._entries[rule.rule],
                next((c for c in (rule.first, rule.second) if c in BUILTIN_CLASSES), ""),
            )
            for rule in self.rules
        )
        needed = {
            c for rule in self.rules for c in (rule.first, rule.second) if c not in BUILTIN_CLASSES
        }
        by_key: dict[str, list[str]] = {}
        for class_name in sorted(needed):
            for key in classes[class_name]:
                by_key.setdefault(key, []).append(class_name)
        self._automaton: ahocorasick.Automaton | None = None
        if by_key:
            automaton = ahocorasick.Automaton()
            for key, names in by_key.items():
                automaton.add_word(key, (len(key), tuple(names)))
            automaton.make_automaton()
            self._automaton = automaton

    def find(self, form: ScanForm, allowed: Sequence[tuple[int, int]] = ()) -> list[Found]:
        """Every rule that matches ``form`` (at most one match per rule and anchor).

        ``allowed`` are the spans of the allowlist's matches on ``form.prepared``
        (:meth:`Matcher.allowed_spans`): a class phrase inside one counts only if obfuscated.
        """
        if self._automaton is None:
            return []
        prepared = form.prepared
        spans: dict[str, list[_Span]] = {}
        offsets: OffsetMap | None = None
        for end, (length, names) in self._automaton.iter(prepared):
            start = end - length + 2  # after the key's leading space
            stop = end if prepared[end] == " " else prepared.find(" ", end)
            if allowed and any(a <= start and stop <= b for a, b in allowed):
                if offsets is None:
                    offsets = form.offsets()
                if not _obfuscated(form.text, prepared, offsets, start, stop):
                    continue  # an allowlisted phrase holds it: "porca miseria", "pig roast"
            first_word = prepared.count(" ", 0, start)
            last_word = first_word + prepared.count(" ", start, stop) + 1  # exclusive
            span = _Span(start, stop, first_word, last_word)
            for class_name in names:
                spans.setdefault(class_name, []).append(span)
        out: list[Found] = []
        builtins: dict[str, list[tuple[int, int]]] = {}
        for rule, entry, builtin in self._plan:
            firsts, seconds = spans.get(rule.first), spans.get(rule.second)
            if builtin:
                # Looked for only now that the rule's word class is in the text.
                builtin_first = builtin == rule.first
                terms = seconds if builtin_first else firsts
                if not terms:
                    continue
                found = builtins.get(builtin)
                if found is None:
                    found = builtins[builtin] = self._builtin_spans(builtin, form.text)
                if not found:
                    continue
                if offsets is None:
                    offsets = form.offsets()
                for start, stop in self._builtin_pairs(
                    rule, form.text, offsets, terms, found, builtin_first
                ):
                    out.append(Found(entry, start, stop, False))
                continue
            if not firsts or not seconds:
                continue
            for a, b in self._pairs(rule, prepared, firsts, seconds):
                if offsets is None:
                    offsets = form.offsets()
                start, stop = min(a.start, b.start), max(a.stop, b.stop)
                out.append(Found(entry, offsets.origin(start), offsets.origin(stop), False))
        return out

    def protects(self, allow: LexiconEntry) -> bool:
        """Whether the allowlist entry ``allow`` holds a phrase of a rule's class (and so can
        cancel a rule match: it has an effect even if no lexicon entry lies inside it)."""
        if self._automaton is None:
            return False
        text = " " + allow.words + " "
        if allow.kind in ("prefix", "infix"):
            text += "x "  # a continuation, so that prefix phrases get their chance
        return next(iter(self._automaton.iter(text)), None) is not None

    def _pairs(
        self, rule: StructRule, prepared: str, firsts: list[_Span], seconds: list[_Span]
    ) -> Iterable[tuple[_Span, _Span]]:
        fillers = self._fillers.get(rule.between) if rule.between is not None else None
        anchors = seconds if rule.anchor == rule.second else firsts
        for anchor in anchors:
            others = firsts if anchors is seconds else seconds
            for other in others:
                a, b = (other, anchor) if anchors is seconds else (anchor, other)
                if b.first_word >= a.last_word:
                    gap = b.first_word - a.last_word
                    words = prepared[a.stop : b.start]
                elif not rule.ordered and a.first_word >= b.last_word:
                    gap = a.first_word - b.last_word
                    words = prepared[b.stop : a.start]
                else:
                    continue
                if gap > rule.within:
                    continue
                if fillers is not None and any(w not in fillers for w in words.split()):
                    continue
                yield a, b
                break  # one match per anchor

    def _builtin_spans(self, name: str, text: str) -> list[tuple[int, int]]:
        """The spans in the original ``text`` of built-in class ``name``."""
        if name == "@mention":
            return [m.span() for m in _MENTION.finditer(text)] if "@" in text else []
        if "," not in text:
            return []
        out: list[tuple[int, int]] = []
        opening = [0]
        opening.extend(m.end() for m in _SENTENCE_END.finditer(text))
        for at in opening:
            m = _VOCATIVE.match(text, at)
            if m is not None and (not out or out[-1] != m.span(1)):  # ".\n" opens it twice
                word = m.group(1)
                if word[0].isupper() and fold(word) not in self._not_names:  # Sì is si
                    out.append(m.span(1))
        return out

    def _builtin_pairs(
        self,
        rule: StructRule,
        text: str,
        offsets: OffsetMap,
        terms: list[_Span],
        found: list[tuple[int, int]],
        builtin_first: bool,
    ) -> Iterable[tuple[int, int]]:
        """Original spans where a term of the rule's word class and a built-in span are close:
        counted on the original text, within one sentence (a vocative addresses its own)."""
        fillers = self._fillers.get(rule.between) if rule.between is not None else None
        for term in terms:
            start, stop = offsets.origin(term.start), offsets.origin(term.stop)
            for b_start, b_stop in found:
                if b_stop <= start and (builtin_first or not rule.ordered):
                    gap = text[b_stop:start]
                elif stop <= b_start and (not builtin_first or not rule.ordered):
                    gap = text[stop:b_start]
                else:
                    continue
                if _SENTENCE_END.search(gap) is not None:
                    continue
                words = prepare(gap).split()
                if len(words) > rule.within:
                    continue
                if fillers is not None and any(w not in fillers for w in words):
                    continue
                yield min(start, b_start), max(stop, b_stop)
                break  # one match per anchor


def _obfuscated(text: str, prepared: str, offsets: OffsetMap, start: int, stop: int) -> bool:
    """Whether the phrase at ``prepared[start:stop]`` is written otherwise than plainly
    (leetspeak, look-alikes): the allowlist never protects it (as in ``Matcher``)."""
    original = text[offsets.origin(start) : offsets.origin(stop)]
    written = prepared[start:stop]
    return original.lower() != written and plain_form(original) != written


def _entry(rule: StructRule) -> LexiconEntry:
    return LexiconEntry(
        pattern=rule.text,
        category=rule.category,
        lang=rule.lang,
        severity=rule.severity,
        confidence=rule.confidence,
        rule=rule.rule,
        kind="word",
        words=rule.text,
        file=rule.file,
        line=rule.line,
        structural=True,
    )
