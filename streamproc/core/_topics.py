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

from streamproc.core._normalize import ScanForm, fold, normalize, scan_form
from streamproc.core._policy import PackIssue, TopicTerm

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
_NUMBER: Final = re.compile(r"\d+")


def stem(word: str) -> str:
    """The light stem words are compared by (see the module docstring)."""
    if len(word) > 4 and word[-1] == "s" and word[-2] != "s":
        word = word[:-1]
    end = len(word)
    while end > 3 and word[end - 1] in _VOWELS:
        end -= 1
    return word[: min(end, STEM_CHARS)]


def content_words(form: ScanForm, stopwords: frozenset[str]) -> list[str]:
    """The words of a text that can say what it is about: three characters or more, not a
    stop word, not a number (leetspeak folding makes "100" the word "ioo", hence the look at
    the original text, only when it has digits)."""
    words = [w for w in form.prepared.split() if len(w) > 2 and w not in stopwords]
    if form.digits:
        numbers = {fold(n) for n in _NUMBER.findall(form.text)}
        words = [w for w in words if w not in numbers]
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
        words = [w for w in normalize(body).split() if len(w) > 2 and w not in stopwords]
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
        return f"off_topic: {why}, in {self.content_words} content words"


class Relevance:
    """The compiled topics of a pack: :meth:`judge` says whether a comment is off topic."""

    __slots__ = (
        "_alone",
        "_min_words",
        "_phrases",
        "_prefix_lengths",
        "_prefixes",
        "_stems",
        "_stop",
    )

    def __init__(
        self,
        terms: tuple[TopicTerm, ...],
        stopwords: frozenset[str],
        min_words: int,
        min_words_without_post: int,
    ) -> None:
        self._stop = stopwords
        self._min_words = min_words
        # Without the post there is half the evidence: a longer comment is needed to judge.
        self._alone = min_words_without_post
        self._stems = frozenset(t.stems[0] for t in terms if len(t.stems) == 1 and not t.prefix)
        self._prefixes = frozenset(t.prefix for t in terms if t.prefix)
        self._prefix_lengths = tuple(sorted({len(p) for p in self._prefixes}))
        # Phrases by their first stem: looked up only for the comment's stems that start one.
        phrases: dict[str, list[tuple[str, ...]]] = {}
        for t in terms:
            if len(t.stems) > 1:
                phrases.setdefault(t.stems[0], []).append(t.stems[1:])
        self._phrases = phrases

    def judge(self, form: ScanForm, post_text: str | None) -> OffTopic | None:
        """An :class:`OffTopic` if the comment (its scan form) is long enough to judge and
        shares no word with the topics nor with ``post_text``."""
        needed = self._min_words if post_text else self._alone
        if form.prepared.count(" ") <= needed:  # too few words, stop words aside
            return None
        stop = self._stop
        words = content_words(form, stop)
        if len(words) < needed:
            return None
        stems = [stem(w) for w in words]
        unique = set(stems)
        if not self._stems.isdisjoint(unique):
            return None
        lengths = self._prefix_lengths
        if lengths and any(w[:n] in self._prefixes for w in words for n in lengths):
            return None
        if self._phrases and self._has_phrase(stems):
            return None
        if post_text:
            if not _post_stems(post_text, stop).isdisjoint(unique):
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


@lru_cache(maxsize=1024)
def _post_stems(post_text: str, stopwords: frozenset[str]) -> frozenset[str]:
    """The stems of a post's content words (cached: a post has many comments)."""
    return frozenset(stem(w) for w in content_words(scan_form(post_text), stopwords))
