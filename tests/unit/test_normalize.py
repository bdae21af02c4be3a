"""The normalizer: evasions it must fold, and offsets that always map back to the original."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.core import OffsetMap, fold_char, normalize, plain_form
from streamproc.core._normalize import MIXED_RUNS

EVASIONS = [
    # (written, normalized)
    ("STRONZO", " stronzo "),
    ("Stronzo!!!", " stronzo "),
    ("str0nz0", " stronzo "),
    ("c4zz0", " cazzo "),
    ("m3rd@", " merda "),
    ("$tronzo", " stronzo "),
    ("7r01a", " troia "),
    ("stronzoooooo", " stronzo "),
    ("sssstronzo", " stronzo "),
    ("s t r o n z o", " s t r o n z o "),
    ("m.e.r.d.a", " m e r d a "),
    ("c-a-z-z-o", " c a z z o "),
    ("s_t_r_o_n_z_o", " s t r o n z o "),
    ("ｓｔｒｏｎｚｏ", " stronzo "),  # fullwidth
    ("𝐬𝐭𝐫𝐨𝐧𝐳𝐨", " stronzo "),  # mathematical bold
    ("strоnzо", " stronzo "),  # Cyrillic о
    ("ѕtrοnzο", " stronzo "),  # Cyrillic ѕ, Greek ο
    ("stro\u200bnzo", " stronzo "),  # zero-width space
    ("stro\u00adnzo", " stronzo "),  # soft hyphen
    ("str\u200do\u2060nzo", " stronzo "),  # joiner, word joiner
    ("stronzo\ufe0f", " stronzo "),  # variation selector
    ("strònzo", " stronzo "),
    ("stro\u0301nzo", " stronzo "),  # combining acute accent
    ("STRÓNZÒ", " stronzo "),
    ("l'idiota", " l idiota "),
    ("l’idiota", " l idiota "),
    ("figlio   di\tputtana", " figlio di puttana "),
    ("porco,dio", " porco dio "),
    ("Straße", " strasse "),
    ("ﬁne", " fine "),
]


@pytest.mark.parametrize(("written", "expected"), EVASIONS)
def test_evasions_fold_to_the_plain_word(written: str, expected: str) -> None:
    assert normalize(written) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", " "),
        ("   ", " "),
        ("😡😡😡", " "),
        ("perché è così", " perche e cosi "),
        ("nel 2024", " nel 2o2a "),  # digits fold too; the matcher rejects number-only words
        ("猫 ok", " \x7f ok "),
        ("Ciao!\n\nGrazie", " ciao grazie "),
    ],
)
def test_ordinary_text(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_runs_can_keep_two_letters() -> None:
    assert normalize("cazzzzzo", keep=1) == " cazo "
    assert normalize("cazzzzzo", keep=2) == " cazzo "
    assert normalize("palle") == " palle "  # doubles are never touched


def test_mixed_runs_keep_one_vowel_and_two_consonants() -> None:
    # a word stretched in several places, one of them a double consonant
    assert normalize("caaaazzzzooo", keep=MIXED_RUNS) == " cazzo "
    assert normalize("deeeeeep", keep=2) == " deep "  # a doubled vowel: keep=2 has it
    assert normalize("carrozza", keep=MIXED_RUNS) == " carrozza "
    offsets = OffsetMap("ok caaaazzzzooo!", MIXED_RUNS)
    assert offsets.normalized == " ok cazzo "
    assert offsets.span(4, 9) == (3, 15)


def test_plain_form_keeps_evasions_visible() -> None:
    assert plain_form("Perché  NO!") == "perche no"
    assert plain_form("str0nz0") == "str0nz0"
    assert plain_form("s.t.r") == "s t r"


def test_an_emoji_with_an_offence_of_its_own_folds_to_a_word_and_others_separate() -> None:
    # Glued to a word or repeated with skin tones, it stays a word of its own.
    assert normalize("ok🖕stronzo") == " ok emojimiddlefinger stronzo "
    assert normalize("🖕🏻🖕🏽") == " emojimiddlefinger emojimiddlefinger "
    assert normalize("grazie👍👏 bravi") == " grazie bravi "
    # Written as it is, it is no evasion: its plain form is the same word.
    assert plain_form("🖕") == "emojimiddlefinger"
    assert plain_form("Ciao 💩!") == "ciao emojipoo"


def test_a_match_on_an_emoji_spans_the_emoji() -> None:
    text = "tiè🖕🏻 a voi"
    offsets = OffsetMap(text)
    start = offsets.normalized.index("emojimiddlefinger")
    end = start + len("emojimiddlefinger")
    assert text[offsets.origin(start) : offsets.origin(end)] == "🖕"


# --- Offsets: a slow, obviously correct reference ------------------------------------------


def reference(text: str, keep: int = 1) -> tuple[str, list[int]]:
    """Normalized text and, for each normalized character, the original index it came from."""
    chars: list[str] = [" "]
    origin: list[int] = [0]
    for i, c in enumerate(text):
        folded = fold_char(c)
        for k, f in enumerate(folded):
            chars.append(f)
            # The separator closing an expansion (a named emoji's word) comes after it.
            origin.append(i + 1 if 0 < k == len(folded) - 1 and f == " " else i)
    chars.append(" ")
    origin.append(len(text))
    # Collapse runs of spaces to the first space.
    out_c: list[str] = []
    out_o: list[int] = []
    for c, o in zip(chars, origin, strict=True):
        if c == " " and out_c and out_c[-1] == " ":
            continue
        out_c.append(c)
        out_o.append(o)
    # Runs of three or more identical letters keep their first `keep` letters.
    final_c: list[str] = []
    final_o: list[int] = []
    i = 0
    while i < len(out_c):
        j = i
        while j < len(out_c) and out_c[j] == out_c[i]:
            j += 1
        length = j - i
        take = keep if ("a" <= out_c[i] <= "z" and length >= 3) else length
        final_c.extend(out_c[i : i + take])
        final_o.extend(out_o[i : i + take])
        i = j
    return "".join(final_c), final_o


tricky_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(list("aaaooo   ..--__0134@$ \u200b\u00ad\u0301ｓтоοßﬁ😡’🖕💩")),
    ),
    max_size=80,
)


@settings(max_examples=3000, deadline=None)
@given(text=tricky_text, keep=st.sampled_from([1, 2]))
def test_offset_map_agrees_with_the_reference(text: str, keep: int) -> None:
    expected, origin = reference(text, keep)
    assert normalize(text, keep) == expected
    offsets = OffsetMap(text, keep)
    assert offsets.normalized == expected
    assert [offsets.origin(pos) for pos in range(len(expected))] == origin


@settings(max_examples=2000, deadline=None)
@given(text=st.text(max_size=200))
def test_normalize_never_raises_and_stays_in_its_alphabet(text: str) -> None:
    out = normalize(text)
    assert out.startswith(" ") and out.endswith(" ")
    assert "  " not in out
    assert re.fullmatch(r"[ a-z0-9\x7f]*", out)


@settings(max_examples=500, deadline=None)
@given(word=st.text(alphabet="abcdefghilmnoprstuvz", min_size=1, max_size=12))
def test_every_word_span_maps_back_to_its_letters(word: str) -> None:
    text = f"«{word.upper()}», disse."
    offsets = OffsetMap(text)
    norm = offsets.normalized
    start = norm.index(" ") + 1
    stop = norm.index(" ", start)
    begin, end = offsets.span(start, stop)
    assert unicodedata.normalize("NFKD", text[begin:end]).lower().strip("»,") == word
