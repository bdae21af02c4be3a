"""Matching: whole words, evasions, the allowlist, and spans in the original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.core import Engine, Matcher, MemoryStrikeStore, normalize, parse_pack

from .conftest import mini_files


def found(engine: Engine, text: str) -> list[tuple[str, str]]:
    """(rule, original substring) for each lexicon match."""
    return [(f.entry.rule, text[f.start : f.end]) for f in engine.analyze(text).found]


EVASION_TABLE = [
    ("sei uno stronzo", "insult.it.stronz*", "stronzo"),
    ("SEI UNO STRONZO!!!", "insult.it.stronz*", "STRONZO"),
    ("che stronzata", "insult.it.stronz*", "stronzata"),
    ("sei uno str0nz0", "insult.it.stronz*", "str0nz0"),
    ("sei uno $tr0nz0", "insult.it.stronz*", "$tr0nz0"),
    ("sei uno stronzoooooo", "insult.it.stronz*", "stronzoooooo"),
    ("sei uno s t r o n z o", "insult.it.stronz*", "s t r o n z o"),
    ("sei uno s.t.r.o.n.z.o.", "insult.it.stronz*", "s.t.r.o.n.z.o"),
    ("sei uno s-t-r-o-n-z-a e basta", "insult.it.stronz*", "s-t-r-o-n-z-a"),
    ("sei uno ｓｔｒｏｎｚｏ", "insult.it.stronz*", "ｓｔｒｏｎｚｏ"),
    ("sei uno strоnzо", "insult.it.stronz*", "strоnzо"),
    ("sei uno stro\u200bnzo", "insult.it.stronz*", "stro\u200bnzo"),
    ("sei uno strònzo", "insult.it.stronz*", "strònzo"),
    ("sei uno 𝐬𝐭𝐫𝐨𝐧𝐳𝐨 😡", "insult.it.stronz*", "𝐬𝐭𝐫𝐨𝐧𝐳𝐨"),
    ("che cazzzzzo dici", "insult.it.cazz*", "cazzzzzo"),
    ("c4zz0", "insult.it.cazz*", "c4zz0"),
    ("m.e.r.d.a", "profanity.it.merda", "m.e.r.d.a"),
    ("che stramerda", "profanity.it.*merda", "stramerda"),
    ("porco dio", "profanity.it.porco_dio", "porco dio"),
    ("porco, dio!", "profanity.it.porco_dio", "porco, dio"),
    ("PORCODIO", "profanity.it.porcodio", "PORCODIO"),
    ("you are an ASSHOLE", "insult.en.asshole", "ASSHOLE"),
    ("f*** you, f u c k you", "profanity.en.fuck*", "f u c k"),
    ("what the fuuuuck", "profanity.en.fuck*", "fuuuuck"),
    ("sei una 7r01a", "hate.it.troia", "7r01a"),
]


@pytest.mark.parametrize(("text", "rule", "span"), EVASION_TABLE)
def test_evasions_are_caught_with_exact_spans(
    mini_engine: Engine, text: str, rule: str, span: str
) -> None:
    assert (rule, span) in found(mini_engine, text)


SCUNTHORPE_TABLE = [
    "La cazzuola del muratore è nel furgone",
    "Servono nuove cazzuole per il cantiere",
    "Abito a Troia, in provincia di Foggia",
    "Il comune di Troia ha un bel duomo",
    "Un vero cavallo di Troia per i lavoratori",
    "Un Negroni al bar dopo il turno",
    "Il dottor Negroni mi ha visitato",
    "Scunthorpe United won again",
    "Ho fatto le analisi del sangue",
    "La classe operaia va in paradiso",
    "L'assicurazione contro gli infortuni è obbligatoria",
    "A class act, an assassin's creed fan from Essex and Sussex",
    "Grazie a Dio sto bene",
    "Il porco e la vacca nella fattoria",
    "In merito alla pratica di mio padre",  # 'merito' is not 'merda'
    "Nel 2024 gli infortuni sono stati 1000",
    "Il codice 5700 e il 7100 non sono parole",
    "Le stronzature lessicali non esistono? stronzio è un elemento? no, è stronzio",
]


@pytest.mark.parametrize("text", SCUNTHORPE_TABLE[:-1])
def test_ordinary_words_are_not_flagged(mini_engine: Engine, text: str) -> None:
    assert found(mini_engine, text) == []


def test_prefix_patterns_take_whole_words(mini_engine: Engine) -> None:
    # A prefix pattern flags every continuation, which is why it needs the allowlist: the
    # word reported is the whole word, never a fragment of it.
    assert found(mini_engine, "stronzio") == [("insult.it.stronz*", "stronzio")]


def test_obfuscation_defeats_the_allowlist(mini_engine: Engine) -> None:
    assert found(mini_engine, "vivo a Troia") == []
    assert found(mini_engine, "vivo a 7r01a") == [("hate.it.troia", "7r01a")]
    assert found(mini_engine, "che c a z z u o l a") != []


def test_longer_banned_phrase_beats_a_shorter_allowlist_entry() -> None:
    files = mini_files(**{"allowlist/it.txt": "di troia\n"})
    engine = Engine(parse_pack(files))
    assert found(engine, "abito a sud di Troia") == []
    assert found(engine, "figlio di troia") == [("hate.it.figlio_di_troia", "figlio di troia")]


def test_nested_matches_of_one_category_keep_the_outermost(mini_engine: Engine) -> None:
    text = "sei un pezzo di merda"
    rules = {rule for rule, _ in found(mini_engine, text)}
    assert "insult.it.pezzo_di_merda" in rules
    # 'merda' is inside an insult phrase but is profanity: a different category, kept.
    assert "profanity.it.merda" in rules


def test_inert_allowlist_entries_are_reported(mini_engine: Engine) -> None:
    pack = mini_engine.pack
    matcher = Matcher(pack.entries)
    inert = {e.pattern for e in matcher.inert_allow_entries()}
    assert "negroni" in inert  # 'negro' is a whole word: negroni never matched it
    assert "cazzuol*" not in inert


words = st.sampled_from(
    ["stronzo", "merda", "ciao", "grazie", "inail", "pratica", "troia", "a", "c4zz0", "dio"]
)
noise = st.sampled_from([" ", "  ", ", ", ".", "!", "\u200b", "-", "’", " 😡 ", "\n", "ooo"])


@settings(max_examples=1500, deadline=None)
@given(parts=st.lists(st.tuples(words, noise), max_size=12), extra=st.text(max_size=20))
def test_spans_always_map_back_to_the_original(
    mini_engine: Engine, parts: list[tuple[str, str]], extra: str
) -> None:
    text = "".join(w + n for w, n in parts) + extra
    analysis = mini_engine.analyze(text)
    for f in analysis.found:
        assert 0 <= f.start < f.end <= len(text)
        original = text[f.start : f.end]
        # The matched original text, normalized, contains the pattern's words.
        squeezed = {normalize(original, 1), normalize(original, 2)}
        compact = {s.replace(" ", "") for s in squeezed}
        assert any(f.entry.words.replace(" ", "") in c for c in compact), (text, original)


@settings(max_examples=1500, deadline=None)
@given(text=st.text(max_size=300), role=st.sampled_from(["public", "employee"]))
def test_any_text_gets_a_decision_whose_spans_are_in_the_text(
    mini_engine: Engine, text: str, role: str
) -> None:
    comment = {
        "id": "h",
        "channel": "youtube",
        "author": {"id": "a", "role": role},
        "text": text,
        "created_at": "2026-11-21T23:30:00+01:00",
    }
    decision = mini_engine.moderate(comment, MemoryStrikeStore())
    assert decision["actions"]
    for m in decision["matches"]:
        assert 0 <= m["start"] < m["end"] <= len(text)


@settings(max_examples=1000, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "stronzo",
                "c4zz0",
                "s t r o n z o",
                "merda",
                "ciao",
                "333 123 4567",
                "RSSMRA85T10A562S",
                "mario@example.com",
                "bit.ly/x",
                "troia",
                "a",
            ]
        ),
        max_size=8,
    ),
    glue=st.sampled_from([" ", ", ", "\u200b ", " 😡 ", "\n"]),
)
def test_every_span_maps_back_to_what_matched(
    mini_engine: Engine, words: list[str], glue: str
) -> None:
    text = glue.join(words)
    decision = mini_engine.moderate(
        {
            "id": "h",
            "channel": "x",
            "author": {"id": "a"},
            "text": text,
            "created_at": "2026-11-18T10:00:00Z",
        },
        MemoryStrikeStore(),
    )
    for m in decision["matches"]:
        original = text[m["start"] : m["end"]]
        assert original.strip() == original and original, (text, m)
        if m["category"] == "pii":
            assert original in {"333 123 4567", "RSSMRA85T10A562S", "mario@example.com"}
