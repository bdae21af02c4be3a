"""Structural rules (rules/<lang>.txt): two word classes near each other, compiled into the
same automaton pass; on the default pack and on small packs (both languages, negative cases)."""

from __future__ import annotations

import pytest

from streamproc.core import Engine, MemoryStrikeStore, check_pack, parse_pack
from streamproc.core._policy import PackIssue
from streamproc.core._rules import parse_rules
from tests.unit.conftest import CommentFactory, mini_files
from tests.unit.conftest import moderate_text as moderate


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("sei davvero una gran vacca", "insult.it.predicated"),
        ("sei una vera cagna", "insult.it.predicated"),
        ("tu, cesso", "insult.it.predicated"),  # a vocative
        ("voi luridi maiali", "insult.it.predicated"),
        ("la capra sei tu", "insult.it.predicated_after"),
        ("you are such a dirty pig", "insult.en.predicated"),
        ("you're a fat cow", "insult.en.predicated"),
        ("you filthy swine", "insult.en.vocative"),  # a vocative
    ],
)
def test_predicated_terms_are_insults(default_engine: Engine, text: str, rule: str) -> None:
    decision = moderate(default_engine, text)
    assert [m["rule"] for m in decision["matches"]] == [rule]
    assert decision["actions"] == ["remove", "warn"]
    match = decision["matches"][0]
    # the span runs from the first class to the second ("la capra sei tu": from capra)
    assert match["end"] == len(text)
    assert match["start"] == (3 if text.startswith("la ") else 0)


@pytest.mark.parametrize(
    "text",
    [
        "la vacca pascola nel prato",
        "ho visto una vacca alla fiera",
        "sei andato a vedere la vacca?",  # a verb between: not predicated
        "tu hai visto il porco nel recinto?",
        "il cesso è rotto, sei pregato di avvisare",
        "the pig is in the pen",
        "did you see the pig at the fair?",
        "do you like pigs?",
    ],
)
def test_plain_nouns_stay_clean(default_engine: Engine, text: str) -> None:
    assert moderate(default_engine, text)["actions"] == ["allow"]


@pytest.mark.parametrize(
    "text",
    [
        'Mi ha scritto "sei davvero una gran vacca" e poi ha chiuso la chat.',
        "Mario ha detto che sei davvero una gran vacca.",
        'He wrote "you are such a dirty pig" and left.',
    ],
)
def test_quoted_or_reported_rule_matches_are_for_a_person(
    default_engine: Engine, text: str
) -> None:
    decision = moderate(default_engine, text)
    assert decision["actions"] == ["escalate"], decision["reasons"]
    assert any("used generally" in r for r in decision["reasons"])


@pytest.mark.parametrize(
    ("text", "rule", "actions"),
    [
        ("sti extracomunitari nei cantieri sono animali", "hate.it.generalization", ["escalate"]),
        ("i marocchini? tutti criminali", "hate.it.generalization", ["escalate"]),
        ("refugees here live off benefits", "hate.en.generalization", ["escalate"]),
        ("sconti del 70% su scarpe, solo oggi", "spam.it.offer", ["escalate"]),
        ("big discount on watches, message me", "spam.en.offer", ["escalate"]),
        (
            "domani vengo in ufficio e vi brucio la macchina",
            "threat.it.coming_to_harm",
            ["remove", "block", "report_platform", "report_authorities", "escalate"],
        ),
    ],
)
def test_co_occurrence_rules(
    default_engine: Engine, text: str, rule: str, actions: list[str]
) -> None:
    decision = moderate(default_engine, text)
    assert [m["rule"] for m in decision["matches"]] == [rule]
    assert decision["actions"] == actions, decision["reasons"]


@pytest.mark.parametrize(
    "text",
    [
        "gli immigrati sono tutti benvenuti al corso di formazione",
        "le offerte formative per i lavoratori stranieri sono online",
        "lo sconto sul premio INAIL si chiede entro febbraio",
        "immigrants are welcome at the training course",
        "the discount on the premium is applied automatically",
        "domani vengo in sede per la visita medica",
    ],
)
def test_co_occurrence_rules_need_both_classes_close(default_engine: Engine, text: str) -> None:
    assert moderate(default_engine, text)["actions"] == ["allow"]


def test_a_lexicon_phrase_keeps_its_own_rule(default_engine: Engine) -> None:
    decision = moderate(default_engine, "sei una vacca")
    assert [m["rule"] for m in decision["matches"]] == ["insult.it.sei_una_vacca"]


RULES = """\
@address = sei | tu
@filler = un | una | proprio
@term = vacca | cozza
insult.it.predicated = @address @term | within=2 between=@filler
"""


def test_rules_in_a_small_pack(comment: CommentFactory) -> None:
    engine = Engine(parse_pack(mini_files(**{"rules/it.txt": RULES})))
    decide = engine.moderate
    assert decide(comment("sei proprio una vacca"), MemoryStrikeStore())["actions"] == [
        "remove",
        "warn",
    ]
    assert decide(comment("una vacca"), MemoryStrikeStore())["actions"] == ["allow"]
    # within=2: three fillers are too many
    assert decide(comment("sei proprio un una cozza"), MemoryStrikeStore())["actions"] == ["allow"]


def test_an_anchor_that_is_also_an_allowlist_key_still_fires(comment: CommentFactory) -> None:
    files = mini_files(**{"rules/it.txt": RULES})
    files["allowlist/it.txt"] += "vacca\n"  # inert alone on the fast path, but an anchor
    engine = Engine(parse_pack(files))
    decision = engine.moderate(comment("sei una vacca"), MemoryStrikeStore())
    assert [m["rule"] for m in decision["matches"]] == ["insult.it.predicated"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@a = sei\ninsult.it.x = @a @b\n", "unknown class @b"),
        ("@a = sei\n@b = vacca\ninsult.en.x = @a @b\n", "must be <category>.it.<name>"),
        ("@a = sei\n@b = vacca\nrude.it.x = @a @b\n", "must be <category>.it.<name>"),
        ("@a = sei\n@b = vacca\ninsult.it.x = @a @b | within=20\n", "within must be"),
        ("@a = sei\n@b = vacca\ninsult.it.x = @a @b | colour=red\n", "unknown option"),
        ("@a = sei\n@b = vacca\ninsult.it.x = @a ~ @b | between=@a\n", "between applies"),
        ("@a = sei\n@b = vacca\n@c = un po\ninsult.it.x = @a @b | between=@c\n", "single"),
        ("@a = sei\n@b = vacca\ninsult.it.x = @a @b @a\n", "a rule is"),
        ("@a = 123\n", "is not a phrase"),
        ("@a = sei\n@a = tu\n", "already defined"),
        ("just words\n", "expected"),
    ],
)
def test_rule_errors_have_a_line(text: str, message: str) -> None:
    issues: list[PackIssue] = []
    parse_rules("rules/it.txt", text, "it", issues)
    errors = [i for i in issues if i.level == "error"]
    assert errors and message in errors[0].message, issues
    assert errors[0].line >= 1


def test_policy_check_reports_rule_files() -> None:
    issues = check_pack(mini_files(**{"rules/it.txt": "@a = sei\n@b = vacca\n"}))
    assert any(i.file == "rules/it.txt" and "used by no rule" in i.message for i in issues)
    clash = "@a = sei\n@b = vacca\ninsult.it.stronz* = @a @b\n"
    issues = check_pack(mini_files(**{"rules/it.txt": clash}))
    assert any(i.level == "error" and "rule id" in i.message for i in issues), issues
    issues = check_pack(mini_files(**{"rules/de.txt": "@a = sei\n"}))
    assert any(i.level == "error" and "not in policy languages" in i.message for i in issues)
