"""Text normalization that defeats the usual evasions, with offsets back to the original text.

The normalized form is what the matcher sees: lowercase ASCII letters and digits, one space
between words, one space before the first word and after the last (so that whole-word patterns
can be written as ``" word "``), and U+007F standing for any letter of another script.

Per character it folds case, compatibility forms (fullwidth, mathematical letters), accents,
Cyrillic/Greek look-alikes and leetspeak digits and symbols; it drops invisible characters and
turns everything that is not a letter or digit into a space. Then runs of spaces become one, and
runs of three or more identical letters become one ("stronzooooo" -> "stronzo").

The hot path (:func:`normalize`) uses only C-speed operations: a charmap encode for the common
characters (with an error handler for the rest), ``bytes.translate``, ``str.replace``. Offsets
are needed only when something matched, so :class:`OffsetMap` recomputes them on demand and
stays exact by construction (a property test checks it against a per-character reference).
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from bisect import bisect_right
from typing import Final

__all__ = [
    "NAMED_EMOJI",
    "OTHER_LETTER",
    "OffsetMap",
    "ScanForm",
    "fold",
    "fold_char",
    "letter_runs",
    "normalize",
    "plain_form",
    "prepare",
    "scan_form",
    "squeeze_runs",
    "squeeze_spans",
]

OTHER_LETTER = "\x7f"
"""Stands for a letter of a script the lexicons do not cover (CJK, Arabic...): a word character
that no pattern contains."""

# Emoji that carry an offence of their own (a gesture, a threat, a slur's stand-in) fold to a
# word, so that a pack can list them as it lists words ("🖕" in a lexicon): "emoji" and a name
# that no language's word is. Every other emoji, like all symbols, separates words.
NAMED_EMOJI: Final = {
    "\U0001f595": "emojimiddlefinger",  # 🖕
    "\U0001f92c": "emojicursing",  # 🤬 face with symbols on mouth
    "\U0001f4a9": "emojipoo",  # 💩
    "\U0001f52a": "emojiknife",  # 🔪
    "\U0001f52b": "emojipistol",  # 🔫
    "\U0001f4a3": "emojibomb",  # 💣
    "\U0001f437": "emojipig",  # 🐷
    "\U0001f416": "emojipig",  # 🐖
    "\U0001f921": "emojiclown",  # 🤡
    "\U0001f412": "emojimonkey",  # 🐒
    "\U0001f435": "emojimonkey",  # 🐵
    "\U0001f34c": "emojibanana",  # 🍌
    "\U0001f346": "emojieggplant",  # 🍆
}
# Each set apart by spaces, as fold_char gives it and plain_form's str.translate takes it.
_NAMED_EMOJI_SPACED: Final = {ord(c): f" {name} " for c, name in NAMED_EMOJI.items()}

# Leetspeak: digits and symbols used for letters. Only characters that rarely end a word in
# ordinary text ('!' and '|' do, so they stay punctuation). A token that has no real letter
# ("2024", "1000") cannot produce a match: the engine checks that on the original text.
_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "€": "e",
}

# Look-alikes NFKD leaves alone: Cyrillic and Greek letters drawn like Latin ones.
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g", "ь": "b", "п": "n", "г": "r",
    "и": "u", "л": "n", "д": "d",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "σ": "o", "ς": "s", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u",
    "ϲ": "c", "ϳ": "j",
    # Latin letters NFKD does not decompose
    "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ß": "ss",
    "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ĸ": "k", "ŋ": "n",
}  # fmt: skip

# Invisible characters that evaders insert inside words; removed, not turned into spaces.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space/joiners, direction marks
    (0x202A, 0x202E),  # bidi embeddings
    (0x2060, 0x206F),  # word joiner, invisible operators
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space
    (0xFFA0, 0xFFA0),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)


def _is_invisible(c: str) -> bool:
    cp = ord(c)
    if any(lo <= cp <= hi for lo, hi in _INVISIBLE_RANGES):
        return True
    category = unicodedata.category(c)
    # Format characters (Cf) and combining marks carry no letter of their own.
    return category in ("Cf", "Mn", "Me")


def _fold_one(ch: str) -> str:
    """Fold a character that is already decomposed, lowercased and free of marks."""
    if "a" <= ch <= "z":
        return ch
    if ch in _LEET:
        return _LEET[ch]
    if "0" <= ch <= "9":
        return ch
    if ch == OTHER_LETTER:
        return ch
    if ch.isalpha():
        return OTHER_LETTER
    return " "


@functools.lru_cache(maxsize=65536)
def fold_char(c: str) -> str:
    """Fold one character of the original text into zero or more normalized characters.

    The reference definition: the fast path and the offset map are both built from it.
    """
    named = _NAMED_EMOJI_SPACED.get(ord(c))
    if named is not None:
        return named
    if _is_invisible(c):
        return ""
    if c in _HOMOGLYPHS:
        return "".join(_fold_one(x) for x in _HOMOGLYPHS[c])
    lowered = c.lower()
    if lowered in _HOMOGLYPHS:
        return "".join(_fold_one(x) for x in _HOMOGLYPHS[lowered])
    decomposed = unicodedata.normalize("NFKD", c)
    out: list[str] = []
    for d in decomposed:
        if unicodedata.combining(d) or unicodedata.category(d) in ("Mn", "Me"):
            continue
        for x in d.lower():
            x = _HOMOGLYPHS.get(x, x)
            out.extend(_fold_one(y) for y in x)
    folded = "".join(out)
    if folded.strip(" ") == "":
        # Punctuation, symbols and emoji are word separators, however many NFKD makes of them.
        return " " if folded or not decomposed else ""
    return folded


# --- The fast path -------------------------------------------------------------------------


# Characters other than ASCII that are common in Italian and English comments and fold to
# exactly one character: they go through the C charmap encoder. Everything else reaches the
# error handler, which folds it with fold_char.
def _common_non_ascii() -> list[str]:
    punctuation = list("‘’‚‛“”„‟–—―‐‑‒…•′″‹›€™")
    letters = [chr(cp) for cp in range(0xA0, 0x250)]
    chosen = [c for c in punctuation + letters if len(fold_char(c)) == 1]
    return chosen[:128]


_HIGH_CHARS = _common_non_ascii()
assert len(_HIGH_CHARS) == 128
_CHARMAP_DECODING = "".join(chr(i) for i in range(128)) + "".join(_HIGH_CHARS)
_ENCODING_MAP: Final = codecs.charmap_build(_CHARMAP_DECODING)
# Any character the charmap lacks (a regex search is faster than a set test per character),
# and runs of them. The single-character search is the faster test of whether there is any.
_NOT_IN_CHARMAP = re.compile("[^" + "".join(re.escape(c) for c in _CHARMAP_DECODING) + "]")
_EXOTIC_RUN = re.compile(_NOT_IN_CHARMAP.pattern + "+")

_BYTE_FOLD: Final = bytes(
    ord(fold_char(_CHARMAP_DECODING[b])) if len(fold_char(_CHARMAP_DECODING[b])) == 1 else 32
    for b in range(256)
)
# The error handler's output is already folded; folding it again must change nothing.
assert all(_BYTE_FOLD[b] == b for b in b"abcdefghijklmnopqrstuvwxyz 26\x7f")

_ERROR_HANDLER: Final = "streamproc.fold"


@functools.lru_cache(maxsize=65536)
def _fold_run(run: str) -> str:
    return "".join(map(fold_char, run))


def _fold_error_handler(exc: UnicodeError) -> tuple[str, int]:
    # Called once per run of characters the charmap lacks: emoji mostly (the charmap cannot
    # hold characters beyond the BMP), which come in few distinct runs, hence the cache.
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return _fold_run(exc.object[exc.start : exc.end]), exc.end


codecs.register_error(_ERROR_HANDLER, _fold_error_handler)

_RUN_OF_THREE = re.compile(r"([a-z])\1\1+")
_NOT_ALNUM = re.compile(r"[\W_]+")


_DIGITS: Final = b"0123456789"


class ScanForm:
    """One text in the forms the engine and the matcher work with, computed once.

    ``padded`` is the per-character fold with one space each side (runs of spaces intact),
    ``prepared`` the same with its runs of spaces collapsed (what the automaton scans),
    ``digits`` how many digits the fold holds (a cheap test for personal data).
    """

    __slots__ = ("_offsets", "_runs", "digits", "padded", "prepared", "text")

    def __init__(self, text: str, padded: str, prepared: str, digits: int) -> None:
        self.text = text
        self.padded = padded
        self.prepared = prepared
        self.digits = digits
        self._offsets: OffsetMap | None = None
        self._runs: list[tuple[int, int]] | None = None

    def offsets(self) -> OffsetMap:
        """The :class:`OffsetMap` of ``prepared`` (no letter-run stage), built on first use:
        the lexicon and the structural rules both map their matches with it."""
        if self._offsets is None:
            self._offsets = OffsetMap(
                self.text, 1, squeeze=False, prepared=self.prepared, padded=self.padded
            )
        return self._offsets

    def letter_runs(self) -> list[tuple[int, int]]:
        """:func:`letter_runs` of ``prepared``, found on first use: the squeezed forms and
        their offset maps are all made from them."""
        if self._runs is None:
            self._runs = letter_runs(self.prepared)
        return self._runs


def scan_form(text: str) -> ScanForm:
    """The :class:`ScanForm` of ``text``: C-speed operations only."""
    if text.isascii():
        raw = text.encode("ascii")
    else:
        raw = codecs.charmap_encode(text, _ERROR_HANDLER, _ENCODING_MAP)[0]
    padded = f" {raw.translate(_BYTE_FOLD).decode('ascii')} "
    digits = len(raw) - len(raw.translate(None, _DIGITS))
    return ScanForm(text, padded, collapse_spaces(padded), digits)


def fold(text: str) -> str:
    """Per-character fold of ``text`` (no padding, no collapsing): C-speed."""
    if text.isascii():
        raw = text.encode("ascii")
    else:
        raw = codecs.charmap_encode(text, _ERROR_HANDLER, _ENCODING_MAP)[0]
    return raw.translate(_BYTE_FOLD).decode("ascii")


def collapse_spaces(padded: str) -> str:
    # Most texts have a separator next to a space somewhere: replace at once, no search first.
    collapsed = padded.replace("  ", " ")
    while "  " in collapsed:
        collapsed = collapsed.replace("  ", " ")
    return collapsed


def prepare(text: str) -> str:
    """Fold, pad with one space each side, collapse spaces: everything but the letter runs.

    The matcher's fast path starts here: it learns from the automaton itself (patterns such
    as ``"ooo"``) whether the text has a run of three identical letters worth squeezing.
    """
    return collapse_spaces(" " + fold(text) + " ")


MIXED_RUNS: Final = 3
"""``keep`` for :func:`squeeze_runs` meaning a vowel run keeps one letter, a consonant run two."""
_VOWELS: Final = frozenset("aeiouy")


def run_keep(letter: str, keep: int) -> int:
    """How many letters a run of ``letter`` keeps when squeezed with ``keep``."""
    if keep != MIXED_RUNS:
        return keep
    return 1 if letter in _VOWELS else 2


def squeeze_runs(prepared: str, keep: int = 1) -> str:
    """Runs of three or more identical letters become ``keep`` letters (1 or 2), or with
    :data:`MIXED_RUNS` one letter for a vowel and two for a consonant.

    All three are tried when a run is present: one catches "stronzooo" (stronzo), two catches
    "cazzzzo" (cazzo) and "deeeeeep" (deep) without turning every double letter of the lexicon
    into a single one, mixed catches a word stretched in several places of which one is a
    double consonant ("caaaazzzzooo", cazzo).
    """
    return squeeze_spans(prepared, letter_runs(prepared), keep)


def letter_runs(prepared: str) -> list[tuple[int, int]]:
    """The spans of the runs of three or more identical letters of ``prepared`` (the runs
    :func:`squeeze_runs` squeezes)."""
    return [m.span() for m in _RUN_OF_THREE.finditer(prepared)]


def squeeze_spans(prepared: str, runs: list[tuple[int, int]], keep: int = 1) -> str:
    """:func:`squeeze_runs` of ``prepared`` from its :func:`letter_runs`: one regex scan serves
    every ``keep`` and the offset maps (the scan, not the squeezing, is what costs)."""
    parts: list[str] = []
    last = 0
    for start, end in runs:
        letter = prepared[start]
        parts.append(prepared[last:start])
        parts.append(letter * run_keep(letter, keep))
        last = end
    parts.append(prepared[last:])
    return "".join(parts)


def normalize(text: str, keep: int = 1) -> str:
    """The normalized form of ``text`` (see the module docstring). Never raises."""
    return squeeze_runs(prepare(text), keep)


def plain_form(text: str) -> str:
    """``text`` lowercased, accents stripped and non-letters made single spaces, with no
    leetspeak, homoglyph, run or split-letter folding: what a match looks like when its
    writer did not try to hide it."""
    lowered = text.lower()
    if not lowered.isascii():
        lowered = lowered.translate(_NAMED_EMOJI_SPACED)  # an emoji's word is its plain form
        decomposed = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", lowered).strip(" ")


# --- Offsets -------------------------------------------------------------------------------


class _Deletions:
    """Where a stage deleted characters: output position -> input position, by bisection."""

    __slots__ = ("_out", "_shift")

    def __init__(self, out: list[int], shift: list[int]) -> None:
        self._out = out  # output positions where a deletion takes effect (ascending)
        self._shift = shift  # characters deleted before each of them, in total

    def to_input(self, pos: int) -> int:
        index = bisect_right(self._out, pos) - 1
        return pos if index < 0 else pos + self._shift[index]


class _Anchors:
    """Folded position -> original position, linear between anchors (by bisection)."""

    __slots__ = ("_folded", "_original")

    def __init__(self) -> None:
        self._folded: list[int] = [0]
        self._original: list[int] = [0]

    def add(self, folded: int, original: int) -> None:
        self._folded.append(folded)
        self._original.append(original)

    def to_original(self, folded: int) -> int:
        # The last anchor at or before `folded`: for equal keys the latest one wins, which is
        # what a deletion (an anchor that moves on without output) needs.
        index = bisect_right(self._folded, folded) - 1
        at = self._folded[index]
        original = self._original[index]
        # Inside an expansion several anchors share one original character: no linear step.
        if index + 1 < len(self._folded) and self._original[index + 1] == original:
            return original
        return original + (folded - at)


def _space_deletions(padded: str) -> _Deletions:
    """The deletions made by collapsing each run of spaces of ``padded`` to one space, as
    :func:`_deletions` would find them with the pattern ``"  +"``: ``str.find`` is cheaper
    than a regex scan, and a run is mostly of two spaces, so its end is found at once."""
    out: list[int] = []
    shift: list[int] = []
    total = 0
    length = len(padded)
    start = padded.find("  ")
    while start >= 0:
        end = start + 2
        while end < length and padded[end] == " ":
            end += 1
        out.append(start + 1 - total)
        total += end - start - 1
        shift.append(total)
        start = padded.find("  ", end)
    return _Deletions(out, shift)


def _run_deletions(text: str, runs: list[tuple[int, int]], keep: int) -> _Deletions:
    """The deletions made by squeezing the letter ``runs`` of ``text`` (its
    :func:`letter_runs`) with ``keep``."""
    out: list[int] = []
    shift: list[int] = []
    total = 0
    for start, end in runs:
        kept = run_keep(text[start], keep)
        out.append(start + kept - total)
        total += end - start - kept
        shift.append(total)
    return _Deletions(out, shift)


_NO_DELETIONS = _Deletions([], [])


class OffsetMap:
    """The normalized form of a text, with each normalized position mapped back to the original.

    Built only for comments in which something matched, so it may be slower than
    :func:`normalize`, but it avoids per-character Python work for the common case of text
    whose characters all fold one to one.
    """

    __slots__ = ("_fold", "_runs", "_spaces", "normalized", "text")

    def __init__(
        self,
        text: str,
        keep: int = 1,
        squeeze: bool = True,
        prepared: str | None = None,
        padded: str | None = None,
        runs: list[tuple[int, int]] | None = None,
    ) -> None:
        """``squeeze=False`` skips the letter-run stage, for text known to have no run of
        three identical letters (the matcher knows it from its run triggers); ``prepared``
        is :func:`prepare` of ``text``, and ``padded`` is ``" " + fold(text) + " "``, if the
        caller has them already, and ``runs`` the :func:`letter_runs` of ``prepared``."""
        self.text = text
        # Stage 1, per-character fold: one to one except at the characters the charmap does
        # not cover, which may fold to several characters or none. Only those get anchors.
        self._fold: _Anchors | None = None
        if not text.isascii() and _NOT_IN_CHARMAP.search(text) is not None:
            anchors = _Anchors()
            shift = 0  # folded position minus original position, so far
            for m in _EXOTIC_RUN.finditer(text):
                for i in range(m.start(), m.end()):
                    folded = fold_char(text[i])
                    width = len(folded)
                    for k in range(1, width):  # the extra characters of an expansion
                        # A separator closing it (a named emoji's word) comes after the
                        # character: a match of that word ends there, not before it.
                        closing = k == width - 1 and folded[k] == " "
                        anchors.add(i + shift + k, i + 1 if closing else i)
                    shift += width - 1
                    anchors.add(i + 1 + shift, i + 1)
            self._fold = anchors
        # Stage 2: padding and space collapse; stage 3: letter runs (if there may be any).
        if padded is None:
            padded = " " + fold(text) + " "
        self._spaces = _space_deletions(padded)
        spaced = prepared if prepared is not None else collapse_spaces(padded)
        if squeeze:
            if runs is None:
                runs = letter_runs(spaced)
            self._runs = _run_deletions(spaced, runs, keep)
            self.normalized = squeeze_spans(spaced, runs, keep)
        else:
            self._runs = _NO_DELETIONS
            self.normalized = spaced

    def origin(self, pos: int) -> int:
        """Index in the original text of the character that produced normalized ``pos``.

        The trailing padding gives ``len(text)``; the leading padding gives 0.
        """
        padded = self._spaces.to_input(self._runs.to_input(pos))
        if padded == 0:
            return 0  # the leading padding
        if self._fold is None:
            return min(padded - 1, len(self.text))
        return self._fold.to_original(padded - 1)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the normalized word span ``[start, end)``.

        ``end`` is the position of the separator after the word, so a run collapsed or an
        invisible character dropped at the end of the word stays inside the span.
        """
        return self.origin(start), self.origin(end)
