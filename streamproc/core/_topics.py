"""Off-topic relevance: does a comment share a word with the post it answers, or with the
institution's declared topics?

The pack declares the topics (``topics/<lang>.txt``: words, ``stem*`` prefixes, phrases) and the
words that carry no topic (``stopwords/<lang>.txt``). A comment is judged only when the policy
would otherwise allow it and it has at least ``min_words`` content words: short replies
("grazie!", "ok") are never judged, and a comment stops being judged at its first word in
common with the topics or the post. Everything is set operations on the tokens of the
normalizer's scan form; the post's stems are cached, since many comments answer one post.

Words are compared by a light stem (a trailing English plural *s* and trailing vowels dropped,
then the first :data:`STEM_CHARS` characters kept), so *bando*/*bandi*, *premio*/*premi*,
*infortunio*/*infortuni* and *claim*/*claims* meet, while *informazione* and *infortunio* do
not. A false "on topic" costs nothing (the comment is allowed, as before); a false "off topic"
costs a reviewer's time, so the comparison errs on the side of overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import ahocorasick

from streamproc.core._models import Comment
from streamproc.core._normalize import NAMED_EMOJI, ScanForm, fold, normalize, scan_form
from streamproc.core._policy import PackIssue, PolicyPack, TopicTerm

__all__ = [
    "RELEVANCE_RULE",
    "STEM_CHARS",
    "OffTopic",
    "Relevance",
    "content_words",
    "parse_stopwords",
    "parse_topics",
    "stem",
]

RELEVANCE_RULE: Final = "off_topic.relevance"
STEM_CHARS: Final = 6
_MIN_PREFIX: Final = 4
_VOWELS: Final = "aeiouy"
_NOT_JUDGED: Final = frozenset({"private_message", "reply"})
_NUMBER: Final = re.compile(r"\d+")
_ALNUM: Final = "abcdefghijklmnopqrstuvwxyz0123456789\x7f"


def stem(word: str) -> str:
    """The light stem words are compared by (see the module docstring)."""
    if len(word) > 4 and word[-1] == "s" and word[-2] != "s":
        word = word[:-1]
    end = len(word)
    while end > 3 and word[end - 1] in _VOWELS:
        end -= 1
    return word[: min(end, STEM_CHARS)]


_stem: Final = lru_cache(maxsize=1 << 16)(stem)  # the hot path's: C-speed on a hit
_SHORT: Final = frozenset(a + b for a in _ALNUM for b in ("", *_ALNUM))
"""Every token of one or two characters: never a content word, removed with the stop words
in one set difference."""
_EMOJI_WORDS: Final = frozenset(NAMED_EMOJI.values())
"""The words the normalizer makes of emoji: what a comment is about is not among them."""


def content_words(form: ScanForm, skip: frozenset[str]) -> set[str]:
    """The distinct words of a text that can say what it is about: not in ``skip`` (the stop
    words and :data:`_SHORT`), not a number (leetspeak folding makes "100" the word "ioo",
    hence the look at the original text, only when it has digits)."""
    words = set(form.prepared.split())
    words.difference_update(skip)
    if form.digits:
        words.difference_update(fold(n) for n in _NUMBER.findall(form.text))
    return words


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def parse_stopwords(text: str) -> frozenset[str]:
    """The normalized words of ``stopwords/<lang>.txt`` (one or more words a line)."""
    words: set[str] = set()
    for _, line in _lines(text):
        words.update(normalize(line).split())
    return frozenset(words)


def parse_topics(
    rel: str, text: str, lang: str, stopwords: frozenset[str], issues: list[PackIssue]
) -> list[TopicTerm]:
    """The terms of ``topics/<lang>.txt``; each problem recorded in ``issues`` with its line."""
    terms: list[TopicTerm] = []
    seen: dict[tuple[tuple[str, ...], str | None], int] = {}
    for number, line in _lines(text):
        prefix = line.endswith("*")
        body = line[:-1] if prefix else line
        if "*" in body or "|" in body:
            issues.append(PackIssue(rel, number, "a topic is words, with at most a trailing *"))
            continue
        words = [w for w in normalize(body).split() if w not in stopwords and w not in _SHORT]
        if not words:
            issues.append(PackIssue(rel, number, "a topic needs a word that is not a stop word"))
            continue
        if prefix and (len(words) != 1 or len(words[0]) < _MIN_PREFIX or " " in body.strip()):
            issues.append(
                PackIssue(rel, number, f"a prefix* topic is one word of {_MIN_PREFIX}+ letters")
            )
            continue
        term = TopicTerm(
            tuple(stem(w) for w in words), words[0] if prefix else None, lang, rel, number
        )
        key = (term.stems, term.prefix)
        if key in seen:
            issues.append(PackIssue(rel, number, f"same topic as line {seen[key]}", "warning"))
            continue
        seen[key] = number
        terms.append(term)
    return terms


@dataclass(frozen=True)
class OffTopic:
    """A comment judged off topic: how many content words it has, and whether it had a post
    to compare with (the reason says so)."""

    content_words: int
    compared_with_post: bool

    def reason(self) -> str:
        if self.compared_with_post:
            why = "no word in common with the post or the institution's topics"
        else:
            why = "no word in common with the institution's topics (no post text to compare)"
        return f"off_topic: {why}, in {self.content_words} distinct content words"


class Relevance:
    """The compiled topics of a pack: :meth:`judge` says whether a comment is off topic."""

    __slots__ = ("_alone", "_automaton", "_min_words", "_phrases", "_roles", "_skip")

    def __init__(
        self,
        terms: tuple[TopicTerm, ...],
        stopwords: frozenset[str],
        min_words: int,
        min_words_without_post: int,
        roles: tuple[str, ...] = ("public", "employee"),
    ) -> None:
        self._roles = roles
        self._skip = stopwords | _SHORT | _EMOJI_WORDS
        self._min_words = min_words
        # Without the post there is half the evidence: a longer comment is needed to judge.
        self._alone = min_words_without_post
        # One automaton pass finds a topic word, and the first one found decides. A stem
        # shorter than STEM_CHARS is the whole word less its inflection: its keys are the whole
        # words it stands for (" band ", " bandi ", " bando ", " premio "...); a full-length
        # stem, and a prefix, is the start of a word (" infort", " lavor").
        automaton = ahocorasick.Automaton()
        for t in terms:
            if t.prefix is not None:
                automaton.add_word(" " + t.prefix, t.prefix)
            elif len(t.stems) == 1:
                for key in _stem_keys(t.stems[0]):
                    automaton.add_word(key, t.stems[0])
        automaton.make_automaton()
        self._automaton = automaton
        # Phrases by their first stem: looked up only for the comment's stems that start one.
        phrases: dict[str, list[tuple[str, ...]]] = {}
        for t in terms:
            if len(t.stems) > 1:
                phrases.setdefault(t.stems[0], []).append(t.stems[1:])
        self._phrases = phrases

    @classmethod
    def for_pack(cls, pack: PolicyPack) -> Relevance | None:
        """The pack's relevance, or None if it has no topics or if the off_topic category
        ignores borderline matches (a judgement is never more than borderline)."""
        policy = pack.categories["off_topic"]
        if not pack.topics or policy.on_borderline != "escalate":
            return None
        return cls(
            pack.topics,
            pack.stopwords,
            pack.relevance_min_words,
            pack.relevance_min_words_without_post,
            policy.roles,
        )

    def judge_comment(self, c: Comment, form: ScanForm, role: str) -> OffTopic | None:
        """:meth:`judge` for a comment of a role the off_topic category applies to. Private
        messages answer no post; replies answer a comment whose text the engine does not have
        ("so sorry for your loss"): neither is judged."""
        if role not in self._roles or c.kind in _NOT_JUDGED:
            return None
        return self.judge(form, c.post_text)

    def judge(self, form: ScanForm, post_text: str | None) -> OffTopic | None:
        """An :class:`OffTopic` if the comment (its scan form) is long enough to judge and
        shares no word with the topics nor with ``post_text``.

        Cheapest test first: one automaton pass that stops at the first topic word, where
        most comments end, early in the text (counting the words would read all of it); then
        the word count; only a comment with neither is split into its words, for the content
        word count, the phrases and the post.
        """
        prepared = form.prepared
        if next(self._automaton.iter(prepared), None) is not None:
            return None  # a topic word
        needed = self._min_words if post_text else self._alone
        if prepared.count(" ") <= needed:  # too few words, stop words aside
            return None
        words = content_words(form, self._skip)
        if len(words) < needed:
            return None
        if self._phrases and self._has_phrase([_stem(w) for w in prepared.split() if w in words]):
            return None
        if post_text:
            if not _post_stems(post_text, self._skip).isdisjoint(map(_stem, words)):
                return None
            return OffTopic(len(words), True)
        return OffTopic(len(words), False)

    def _has_phrase(self, stems: list[str]) -> bool:
        phrases = self._phrases
        for i, s in enumerate(stems):
            for rest in phrases.get(s, ()):
                if tuple(stems[i + 1 : i + 1 + len(rest)]) == rest:
                    return True
        return False


_TAILS: Final = ("", *_VOWELS, *(a + b for a in _VOWELS for b in _VOWELS))


def _stem_keys(root: str) -> list[str]:
    """The automaton keys of the words whose :func:`stem` is ``root`` (see ``Relevance``)."""
    if len(root) >= STEM_CHARS:
        return [" " + root]
    words = [root + tail for tail in _TAILS]
    words += [w + "s" for w in words if len(w) > 3 and w[-1] != "s"]
    return [f" {w} " for w in words if stem(w) == root]


@lru_cache(maxsize=1024)
def _post_stems(post_text: str, skip: frozenset[str]) -> frozenset[str]:
    """The stems of a post's content words (cached: a post has many comments)."""
    return frozenset(map(_stem, content_words(scan_form(post_text), skip)))
