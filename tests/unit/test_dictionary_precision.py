"""Every word of the Italian and English dictionaries through the default pack.

The words it flags must be exactly the reviewed list in tests/data/dictionary_flags.txt: a
lexicon change that starts flagging an ordinary word fails here until someone has looked at it
(and either fixed the lexicon or added the word, with its category, to the reviewed list).
The word lists are Debian's witalian and wamerican packages, which the test command installs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streamproc.core import Engine, load_pack

DICTIONARIES = {
    "it": Path("/usr/share/dict/italian"),
    "en": Path("/usr/share/dict/american-english"),
}
REVIEWED = Path(__file__).resolve().parent.parent / "data" / "dictionary_flags.txt"


def flagged_words(engine: Engine, path: Path) -> set[str]:
    flagged = set()
    for word in path.read_text(encoding="utf-8").split():
        found = engine.analyze(word).found
        if found:
            categories = sorted(
                {f.entry.category + ("?" if f.entry.confidence == "low" else "") for f in found}
            )
            flagged.add(f"{word}\t{','.join(categories)}")
    return flagged


def reviewed(lang: str) -> set[str]:
    lines = REVIEWED.read_text(encoding="utf-8").splitlines()
    return {line.split("\t", 1)[1] for line in lines if line.startswith(f"{lang}\t")}


@pytest.mark.parametrize("lang", sorted(DICTIONARIES))
def test_dictionary_words_flagged_are_the_reviewed_ones(lang: str) -> None:
    path = DICTIONARIES[lang]
    assert path.exists(), f"{path} is missing: the test command installs Debian's word lists"
    found = flagged_words(Engine(load_pack()), path)
    expected = reviewed(lang)
    assert sorted(found - expected) == [], "newly flagged dictionary words: review them"
    assert sorted(expected - found) == [], "reviewed words no longer flagged: update the list"
