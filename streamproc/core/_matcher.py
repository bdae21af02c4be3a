"""One Aho-Corasick automaton for every lexicon and allowlist pattern, plus cheap triggers.

Patterns are stored with their word boundaries spelled out as spaces (``" stronzo "`` for a
whole word, ``" stronz"`` for a prefix), so the automaton itself only reports whole-word hits and
no boundary filtering is needed after the scan. Each single-word pattern is also stored with its
letters split (``" s t r o n z o "``), which catches "s t r o n z o", "m.e.r.d.a" and "c-a-z-z-o".

Besides the lexicon the automaton holds triggers: ``"aaa"``..``"zzz"`` say that the text has a
stretched letter (so the squeezed forms are worth matching) and ``" http"``, ``" www"`` and the
link shorteners say that the text has a link worth parsing.

An automaton value is therefore one of two things. A lexicon key's value is an
:data:`EntryCodes` tuple, one code per entry that has this key: ``entry index * 2``, plus 1 for
the split-letter variant (see :func:`entry_code`). A trigger's value is one of the negative
ints :data:`RUN_TRIGGER`, :data:`LINK_TRIGGER` and :data:`RULE_TRIGGER` (a term of a structural
rule's anchor class, see ``_rules``; an anchor that is also a lexicon key keeps the lexicon value,
which is then never inert: :attr:`Matcher.anchored`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Final, NamedTuple

import ahocorasick

from streamproc.core._normalize import (
    MIXED_RUNS,
    OffsetMap,
    ScanForm,
    plain_form,
    prepare,
    squeeze_spans,
)
from streamproc.core._pace import paced
from streamproc.core._policy import LexiconEntry

__all__ = [
    "LINK_TRIGGER",
    "RULE_TRIGGER",
    "RUN_TRIGGER",
    "EntryCodes",
    "Found",
    "Matcher",
    "entry_code",
    "frequent_first",
]

RUN_TRIGGER: Final = -1
LINK_TRIGGER: Final = -2
RULE_TRIGGER: Final = -3
EntryCodes = tuple[int, ...]
"""The value of a lexicon key: the codes of the entries that have it (see :func:`entry_code`)."""
_SPLIT_MIN_LETTERS: Final = 3
_RANK_SAMPLE: Final = 1 << 18  # characters of the keys that rank the letters
_TOKEN = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
# A word spelled out letter by letter is separated by spaces or one kind of filler ("c a z z o",
# "m.e.r.d.a", "c-a-z-z-o"), not by format codes or brackets ("a %s (%s)" is not "ass").
_SPELLED_OUT = re.compile(r"[^\W_]+(?:[\s.\-_*·•|/+~,]+[^\W_]+)*")


class Found(NamedTuple):
    """A lexicon entry found in a comment, with its span in the original text."""

    entry: LexiconEntry
    start: int
    end: int
    obfuscated: bool


def entry_code(index: int, split: bool) -> int:
    """The code of entry ``index`` (or of its split-letter variant) in an automaton value;
    ``code >> 1`` is the index again, ``code & 1`` the split flag."""
    return index * 2 + split


def _keys(entry: LexiconEntry) -> Iterable[tuple[str, bool]]:
    """(automaton key, is the split-letter variant) for an entry."""
    words = entry.words
    left = " " if entry.kind in ("word", "prefix") else ""
    right = " " if entry.kind in ("word", "suffix") else ""
    yield left + words + right, False
    if left and " " not in words and len(words) >= _SPLIT_MIN_LETTERS:
        yield left + " ".join(words) + right, True


def frequent_first(keys: dict[str, object]) -> ahocorasick.Automaton:
    """The automaton of ``keys``, built so that each node tries its most frequent letters first.

    pyahocorasick looks a node's children up one by one, in the order they were added: keys
    added in the order of their letters' ranks (by count in the keys) put the common transitions
    first, which makes a scan several per cent faster. The matches are the same in any order, so
    the ranks come from a sample of the keys, and sort their UTF-8 bytes (cheap for a big pack).
    """
    counts = Counter("".join(keys)[:_RANK_SAMPLE])
    letters = sorted(counts, key=lambda c: (-counts[c], c))
    table = bytearray(range(256))
    for rank, letter in enumerate(letters):
        if ord(letter) < 0x80:  # one byte in UTF-8
            table[ord(letter)] = rank
    ranks = bytes(table)
    automaton = ahocorasick.Automaton()
    order = sorted(keys, key=lambda k: k.encode("utf-8", "surrogatepass").translate(ranks))
    for key in paced(order):
        automaton.add_word(key, keys[key])
    automaton.make_automaton()
    return automaton


class Matcher:
    """Compiled lexicon: scan a prepared text, then resolve hits into :class:`Found` matches."""

    def __init__(
        self,
        entries: Sequence[LexiconEntry],
        link_words: Iterable[str] = (),
        rule_keys: Iterable[str] = (),
    ) -> None:
        self.entries: tuple[LexiconEntry, ...] = tuple(entries)
        codes: dict[str, list[int]] = {}
        for index, entry in paced(enumerate(self.entries)):
            for key, split in _keys(entry):
                codes.setdefault(key, []).append(entry_code(index, split))
        keys: dict[str, object] = {key: tuple(values) for key, values in paced(codes.items())}
        for letter in "abcdefghijklmnopqrstuvwxyz":
            keys[letter * 3] = RUN_TRIGGER
        for word in ("http", "www", *link_words):
            key = " " + prepare(word).strip(" ")  # as the fast path sees it: runs intact
            if key not in codes:
                keys[key] = LINK_TRIGGER
        anchored: set[EntryCodes] = set()
        for key in rule_keys:
            if key in codes:
                anchored.add(tuple(codes[key]))
            else:
                keys[key] = RULE_TRIGGER
        self.anchored: frozenset[EntryCodes] = frozenset(anchored)
        """Lexicon values whose key is also a rule anchor: never inert on the fast path."""
        automaton = frequent_first(keys)
        self.automaton = automaton
        self.key_count = len(automaton)
        self.values: list[EntryCodes] = [tuple(v) for v in codes.values()]
        self.protective = self._protective()

    def _protective(self) -> frozenset[int]:
        """Indices of the allowlist entries inside which some banned pattern matches.

        The others protect nothing (``policy check`` says so) and are inert on the fast path.
        """
        useful = set()
        for index, entry in enumerate(self.entries):
            if not entry.is_allow:
                continue
            text = " " + entry.words + " "
            if entry.kind in ("prefix", "infix"):
                text += "x "  # a continuation, so that prefix patterns get their chance
            for _, value in self.automaton.iter(text):
                if isinstance(value, tuple) and any(
                    not self.entries[code >> 1].is_allow for code in value
                ):
                    useful.add(index)
                    break
        return frozenset(useful)

    def inert_allow_entries(self) -> list[LexiconEntry]:
        """Allowlist entries that protect nothing (for ``policy check``)."""
        return [e for i, e in enumerate(self.entries) if e.is_allow and i not in self.protective]

    def inert_values(self, inert_entry: Callable[[LexiconEntry], bool]) -> frozenset[EntryCodes]:
        """The automaton values whose every entry ``inert_entry`` deems unable to change a
        decision alone (split-letter variants never are: they are obfuscation)."""
        return frozenset(
            value
            for value in paced(self.values)
            if value not in self.anchored
            and all(not code & 1 and inert_entry(self.entries[code >> 1]) for code in value)
        )

    def quiet(
        self, hits: Sequence[tuple[int, object]], inert: frozenset[EntryCodes], corroborate: int
    ) -> bool:
        """True if ``hits`` cannot change a decision: only lexicon values of ``inert`` (no
        trigger), with fewer entry codes in all than ``corroborate`` (enough weak signals
        together confirm a category)."""
        codes = 0
        for _, value in hits:
            if type(value) is not tuple or value not in inert:
                return False
            codes += len(value)
        return codes < corroborate

    def allowed_spans(
        self, normalized: str, hits: Sequence[tuple[int, object]]
    ) -> list[tuple[int, int]]:
        """The normalized spans of the allowlist entries among ``hits`` on ``normalized`` (the
        same spans :meth:`find` protects lexicon matches with; structural rules use them too)."""
        out: list[tuple[int, int]] = []
        entries = self.entries
        for end, value in hits:
            if type(value) is tuple:
                for code in value:
                    entry = entries[code >> 1]
                    if entry.is_allow:
                        out.append(_word_span(entry, bool(code & 1), normalized, end))
        return out

    def allow_cover(self, words: str) -> LexiconEntry | None:
        """An allowlist entry whose match covers the whole of ``words`` (normalized, single
        spaced) wherever they are written, or None: a rule's class phrase it covers can only
        match when obfuscated (``policy check`` says so)."""
        text = " " + words + " "
        for end, value in self.automaton.iter(text):
            if type(value) is tuple:
                for code in value:
                    entry: LexiconEntry = self.entries[code >> 1]
                    if entry.is_allow and not code & 1:
                        start, stop = _word_span(entry, False, text, end)
                        if start <= 1 and len(text) - 1 <= stop:
                            return entry
        return None

    def find(self, form: ScanForm, hits: Sequence[tuple[int, object]]) -> tuple[list[Found], bool]:
        """Resolve the automaton's ``hits`` on ``form.prepared``: the lexicon matches, and
        whether a link trigger fired."""
        prepared = form.prepared
        link = runs = lexical = False
        for _, value in hits:
            if type(value) is tuple:
                lexical = True
            elif value == LINK_TRIGGER:
                link = True
            elif value == RUN_TRIGGER:
                runs = True
        variants: list[tuple[int, str, Sequence[tuple[int, object]]]] = [(1, prepared, hits)]
        if runs:
            squeezed_variants: list[tuple[int, str, Sequence[tuple[int, object]]]] = []
            # Mixed squeezing gives the text of one of the others when the runs are all of
            # vowels or all of consonants (a single run, "oooo" from "0000"): scanned once.
            scanned: dict[str, list[tuple[int, object]]] = {}
            spans = form.letter_runs()
            for keep in (1, 2, MIXED_RUNS):
                squeezed = squeeze_spans(prepared, spans, keep)
                squeezed_hits = scanned.get(squeezed)
                if squeezed_hits is None:
                    squeezed_hits = scanned[squeezed] = list(self.automaton.iter(squeezed))
                squeezed_variants.append((keep, squeezed, squeezed_hits))
            # Only worth resolving if squeezing found something the text as written did not
            # (runs often come from numbers: "333 123" folds to "eee ie2").
            seen = {v for _, v in hits if type(v) is tuple}
            if any(
                type(v) is tuple and v not in seen
                for squeezed_hits in scanned.values()
                for _, v in squeezed_hits
            ):
                variants = squeezed_variants
                lexical = True
            else:
                runs = False
        if not lexical:
            return [], link
        found: dict[tuple[str, int, int], Found] = {}
        for keep, normalized, variant_hits in variants:
            for item in self._resolve(form, keep, normalized, variant_hits, runs):
                found.setdefault((item.entry.rule, item.start, item.end), item)
        return _outermost(list(found.values())), link

    def _resolve(
        self,
        form: ScanForm,
        keep: int,
        normalized: str,
        hits: Sequence[tuple[int, object]],
        runs: bool,
    ) -> list[Found]:
        candidates: list[tuple[LexiconEntry, int, int, bool]] = []
        allowed: list[tuple[int, int]] = []
        entries = self.entries
        for end, value in hits:
            if type(value) is not tuple:
                continue
            for code in value:
                entry = entries[code >> 1]
                split = bool(code & 1)
                start, stop = _word_span(entry, split, normalized, end)
                if entry.is_allow:
                    allowed.append((start, stop))
                else:
                    candidates.append((entry, start, stop, split))
        if not candidates:
            return []
        text = form.text
        if runs:
            prepared, padded, spans = form.prepared, form.padded, form.letter_runs()
            offsets = OffsetMap(text, keep, True, prepared, padded, spans)
        else:
            offsets = form.offsets()  # shared with the structural rules
        assert offsets.normalized == normalized, "normalizer and offset map disagree"
        origin = offsets.origin
        out: list[Found] = []
        for entry, start, stop, split in candidates:
            if split and entry.kind == "prefix":
                stop = _extend_split(text, normalized, offsets, start, stop)
            begin, finish = origin(start), origin(stop)
            original = text[begin:finish]
            if _DIGIT.search(original) and not _every_token_has_a_letter(original):
                continue  # leetspeak folding of a number ("1000"), not a word
            if split:
                if _SPELLED_OUT.fullmatch(original) is None:
                    continue
                obfuscated = True
            else:
                written = normalized[start:stop]
                # Lowercasing alone giving the normalized form is the common case, and then
                # plain_form (which only adds accent and separator folding) would too.
                obfuscated = original.lower() != written and plain_form(original) != written
            if not obfuscated and allowed and any(a <= start and stop <= b for a, b in allowed):
                continue
            out.append(Found(entry, begin, finish, obfuscated))
        return out


def _word_span(entry: LexiconEntry, split: bool, normalized: str, end: int) -> tuple[int, int]:
    """The normalized span of the whole words a hit ending at ``end`` (inclusive) covers."""
    words = " ".join(entry.words) if split else entry.words
    kind = entry.kind
    if kind in ("word", "suffix"):
        stop = end  # the trailing space of the key
    elif split:
        stop = end + 1  # continued by _extend_split, which needs the original text
    else:
        stop = normalized.find(" ", end + 1)
    first = stop - len(words) if kind in ("word", "suffix") else end - len(words) + 1
    start = first if kind in ("word", "prefix") else normalized.rfind(" ", 0, first) + 1
    return start, stop


def _extend_split(text: str, normalized: str, offsets: OffsetMap, start: int, stop: int) -> int:
    """Extend a split-letter prefix match ("s-t-r-o-n-z" + "-a") over the single letters that
    follow with the same separator as inside the match, so "s-t-r-o-n-z-a e basta" ends at a."""
    separator = text[offsets.origin(start) + 1 : offsets.origin(start + 2)]
    while (
        stop + 2 < len(normalized)
        and normalized[stop + 1] != " "
        and normalized[stop + 2] == " "
        and text[offsets.origin(stop - 1) + 1 : offsets.origin(stop + 1)] == separator
    ):
        stop += 2
    return stop


def _every_token_has_a_letter(original: str) -> bool:
    return all(any(c.isalpha() for c in token) for token in _TOKEN.findall(original))


def _outermost(found: list[Found]) -> list[Found]:
    """Drop matches lying inside a longer match of the same category."""
    if len(found) < 2:
        return found
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    if len({f.entry.category for f in found}) == len(found):
        return found  # one match per category: none can lie inside another of its category
    kept: list[Found] = []
    for item in found:
        if any(
            k.entry.category == item.entry.category
            and k.start <= item.start
            and item.end <= k.end
            and (k.start, k.end) != (item.start, item.end)
            for k in kept
        ):
            continue
        kept.append(item)
    return kept
