"""The context of a match: is the word aimed at someone, or used generally, quoted or reported?

An insult aimed at the person addressed ("sei un idiota", "@mario cretino") is a violation; the
same word in a proverb ("non discutere mai con un idiota"), in a quotation or in reported speech
("Camus wrote that ... whether to kill yourself") is at most borderline, for a person to judge.
Read on the sentence that holds the match, and only on the slow path (something matched).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

__all__ = ["MatchContext", "match_context"]

_CURLY_APOSTROPHE: Final = "\u2019"
_SENTENCE_END: Final = re.compile(r"[.!?;\n]")
# A quotation may run over several sentences (and a hard-wrapped text breaks lines inside
# one): quotes are counted from the start of the paragraph.
_PARAGRAPH_END: Final = re.compile(r"\n\s*\n")
_QUOTES: Final = frozenset('"“”«»„')
# Second person, a vocative @mention: the word is said to someone. Italian "ve" is "vi" before
# a pronoun ("ve lo meritate", "ve ne andate"); alone it is English "I've", not a cue.
_TARGET: Final = re.compile(
    r"@\w|\b(?:you|you're|youre|your|yourself|yourselves|ur|sei|siete|tu|te|ti|voi|vi|"
    r"tuo|tua|tuoi|tue|vostro|vostra|vostri|vostre|ve(?=\s+(?:lo|la|li|le|ne)\b))\b"
)
# Before the match in its sentence: reported speech, a hypothetical, a proverb's frame.
_GENERIC_BEFORE: Final = re.compile(
    r"\b(?:(?:wrote|writes|said|says|thinks|thought|believes|believed) that|"
    r"according to|whether|as the saying goes|the saying|proverb|quote|quoted|the world thinks|"
    r"(?:ha scritto|scrisse|scriveva|scrive|ha detto|disse|diceva|dice|dicono|pensa|pensano) che|"
    r"secondo cui|come diceva|come dice|proverbio|citazione|"
    # reported without "that": what someone else called the writer or someone
    r"(?:he|she|they|someone|somebody) (?:said|says|wrote|told me)|called me|calls me|"
    r"mi ha (?:detto|scritto|dato dell[oa']?|chiamat[oa])|mi hanno (?:detto|dato dell[oa']?)|"
    r"never argue with|don't argue with|do not argue with|"
    r"non discutere mai con|mai discutere con|non litigare mai con)\b"
)


# Right before the match: the word is predicated of the person addressed ("sei un", "you're
# a", "@mario").
_PREDICATE: Final = re.compile(
    r"(?:\b(?:sei|siete|you are|you're|youre|u r|ur)\s+"
    r"(?:(?:proprio|solo|davvero|veramente|just|really|such|so|a|an|the|un|uno|una|un'|"
    r"dei|degli|delle|gran|grande|brutto|brutta|big|total|complete)\s*){0,3}"
    r"|@\w+[\s,:]*)$"
)


# Right before the match: the writer says it of themselves ("non sono un idiota completo", "I'm
# an idiot", "mi sento un cretino"): self-mockery insults no one.
_SELF: Final = re.compile(
    # "sono" is also "they are" ("sono idioti quelli..."): only "sono un/una" is the writer.
    r"(?:\bsono\s+(?:(?:proprio|solo|davvero|veramente|stato|stata)\s+)?(?:un|uno|una|un')|"
    r"\b(?:siamo|mi sento|ci sentiamo|i'm|im|i am|we're|we are|i feel like|i felt like))\s*"
    r"(?:(?:proprio|solo|davvero|veramente|stati|just|really|such|so|a|an|the|un|uno|una|un'|"
    r"dei|degli|delle|gran|grande|complete|total|completo|completa)\s*){0,3}$"
)


# Right after the match: it is the head word of a definition ("Idiot, n.: A member of a large
# and powerful tribe..."), the word talked about, not said to anyone.
_DEFINITION: Final = re.compile(r"\s*,?\s*(?:n|adj|v|vt|vi|adv|s\.m|s\.f|agg)\.\s*:")


# In the match's sentence: a condition ("se russi ti picchio", "I'll kill you if you quote
# it"). A conditional threat is still a threat, so this only holds back the severe actions for
# a person.
_HYPOTHETICAL: Final = re.compile(r"\b(?:se|if|whether|qualora|supposing)\b")
# Name particles: "Šmartno ob Paki", "Comune di Troia", "Barro Negro".
_PARTICLES: Final = frozenset({"ob", "di", "de", "del", "della", "da", "van", "von", "la", "le"})
_WORD: Final = re.compile(r"[^\W\d_]+")


class MatchContext(NamedTuple):
    targeted: bool  # aimed at someone: second person, an @mention in the sentence
    generic: str | None  # why it reads as general use (the cue), or None
    predicated: bool = False  # said of the person addressed, right before the word
    hypothetical: bool = False  # a condition before it: not sure enough for severe actions


def match_context(text: str, start: int, end: int) -> MatchContext:
    """The context of the match ``text[start:end]``, from the sentence that holds it."""
    begin = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        begin = m.end()
    after = _SENTENCE_END.search(text, end)
    finish = after.start() if after is not None else len(text)
    before = text[begin:start].lower().replace(_CURLY_APOSTROPHE, "'")
    sentence = text[begin:finish].lower().replace(_CURLY_APOSTROPHE, "'")
    paragraph = 0
    for m in _PARAGRAPH_END.finditer(text, 0, start):
        paragraph = m.end()
    quotes = sum(c in _QUOTES for c in text[paragraph:start])
    if quotes % 2 == 1:
        return MatchContext(False, "quoted")
    cue = _GENERIC_BEFORE.search(before)
    if cue is not None:
        return MatchContext(False, cue.group())
    if _in_name(text[begin:start], text[start:end]):
        return MatchContext(False, "part of a name")
    if _DEFINITION.match(text, end) is not None:
        return MatchContext(False, "a definition")
    if _SELF.search(before[-40:]) is not None:
        return MatchContext(False, "said of oneself")
    predicated = _PREDICATE.search(before[-40:]) is not None
    return MatchContext(
        predicated or _TARGET.search(sentence) is not None,
        None,
        predicated,
        _HYPOTHETICAL.search(before) is not None
        or _HYPOTHETICAL.search(text[end:finish].lower()) is not None,
    )


def _in_name(before: str, matched: str) -> bool:
    """A capitalized word continuing a capitalized name ("Tunebo Barro Negro", "Šmartno ob
    Paki"): the name's first word opens the sentence, the others do not."""
    if not matched[:1].isupper() or matched.isupper():
        return False
    words = _WORD.findall(before)
    if words and words[-1] in _PARTICLES:
        return len(words) >= 2 and words[-2][:1].isupper()
    return len(words) >= 2 and words[-1][:1].isupper() and not words[-1].isupper()
