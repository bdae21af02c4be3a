"""Structural rules (rules/<lang>.txt): two word classes near each other, compiled into the
same automaton pass; on the default pack and on small packs (both languages, negative cases)."""

from __future__ import annotations

import pytest

from streamproc.core import (
    DEFAULT_PACK_PATH,
    Engine,
    MemoryStrikeStore,
    check_pack,
    parse_pack,
    read_pack_files,
)
from streamproc.core._normalize import scan_form
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


def test_an_anchor_that_is_also_an_allowlist_key_still_fires_obfuscated(
    comment: CommentFactory,
) -> None:
    files = mini_files(**{"rules/it.txt": RULES})
    files["allowlist/it.txt"] += "vacca\n"  # inert alone on the fast path, but an anchor
    engine = Engine(parse_pack(files))
    # written plainly the allowlist holds it, as it would hold a lexicon match
    assert engine.moderate(comment("sei una vacca"), MemoryStrikeStore())["actions"] == ["allow"]
    # the fast path must still hand it to the rules: an obfuscated word is never allowlisted
    decision = engine.moderate(comment("sei una v4cc4"), MemoryStrikeStore())
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


# --- the allowlist holds rule matches as it holds lexicon matches ------------------------

ALLOW_RULES_IT = """\
@address = sei | tu | voi
@filler = un | una | proprio
@term = porca | vacca | cozza
insult.it.predicated = @address @term | within=2 between=@filler
"""
ALLOW_RULES_EN = """\
@address = you are | you re
@filler = a | the | just | such
@term = pig | garbage | trash
insult.en.predicated = @address @term | within=2 between=@filler
"""


@pytest.fixture(scope="module")
def allow_engine() -> Engine:
    files = mini_files(**{"rules/it.txt": ALLOW_RULES_IT, "rules/en.txt": ALLOW_RULES_EN})
    files["allowlist/it.txt"] += "porca miseria\ncozza gratinat*\n"
    files["allowlist/en.txt"] += "garbage man\ntrash talk*\nyou are the pig\n"
    return Engine(parse_pack(files))


@pytest.mark.parametrize(
    "text",
    [
        "tu, porca miseria, non ascolti mai",  # the anchor inside an allowlisted phrase
        "sei proprio una cozza gratinata",  # a prefix entry of the allowlist
        "you are the garbage man today",
        "you are just trash talking",
        "You are the pig, said the farmer to the boy in the play",  # the whole span allowed
    ],
)
def test_an_allowlisted_phrase_cancels_the_rule_match(allow_engine: Engine, text: str) -> None:
    assert moderate(allow_engine, text)["actions"] == ["allow"]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("tu, porca, non ascolti mai", (0, 9)),  # the allowlisted phrase is not there
        ("tu, porca miseria, sei proprio una vacca", (19, 40)),  # another anchor still counts
        ("tu, p0rca miseria, non ascolti mai", (0, 9)),  # obfuscated: never allowlisted
        ("sei proprio una cozza", (0, 21)),
        ("you are such trash", (0, 18)),
        ("you are the garbage man, you are trash", (25, 38)),  # another anchor
        ("you are the g4rbage man today", (0, 19)),
    ],
)
def test_rule_matches_outside_the_allowlist_stand(
    allow_engine: Engine, text: str, span: tuple[int, int]
) -> None:
    decision = moderate(allow_engine, text)
    assert decision["actions"] == ["remove", "warn"], decision["reasons"]
    assert [(m["start"], m["end"]) for m in decision["matches"]] == [span]


def test_policy_check_knows_what_the_allowlist_does_to_rules() -> None:
    files = mini_files(**{"rules/it.txt": ALLOW_RULES_IT, "rules/en.txt": ALLOW_RULES_EN})
    files["allowlist/it.txt"] += "porca miseria\nvacca\n"
    files["allowlist/en.txt"] += "pig roast\nlorem ipsum\n"
    issues = check_pack(files)
    inert = {(i.file, i.message) for i in issues if "protects no banned" in i.message}
    # holding a rule's class phrase is protecting something: no "protects nothing" warning
    assert ("allowlist/en.txt", "allowlist entry protects no banned pattern") in inert
    inert_lines = {
        files[i.file].splitlines()[i.line - 1] for i in issues if "protects no" in i.message
    }
    assert "lorem ipsum" in inert_lines
    assert not {"porca miseria", "vacca", "pig roast"} & inert_lines
    # a class phrase the allowlist always holds can never match plainly: said at the rule
    covered = [i for i in issues if "lies inside the allowlist entry" in i.message]
    assert [(i.file, i.line, i.level) for i in covered] == [("rules/it.txt", 4, "warning")]
    assert "@term 'vacca'" in covered[0].message
    assert "insult.it.predicated" in covered[0].message


# --- built-in classes: @mention and @name_vocative -------------------------------------------

BUILTIN_RULES = """\
@filler = brutto | brutta | lurido
@term = porco | vacca | maiale
insult.it.mention = @mention @term | within=1 between=@filler
insult.it.vocative = @name_vocative @term | within=1 between=@filler
"""


@pytest.fixture(scope="module")
def builtin_engine() -> Engine:
    files = mini_files(**{"rules/it.txt": BUILTIN_RULES, "stopwords/it.txt": "si no oh ecco\n"})
    files["allowlist/it.txt"] += "maiale arrosto\n"
    return Engine(parse_pack(files))


@pytest.mark.parametrize(
    ("text", "rule", "span"),
    [
        ("@mario porco", "insult.it.mention", (0, 12)),
        ("@mario, brutta vacca!", "insult.it.mention", (0, 20)),
        ("ciao @mario.rossi porco", "insult.it.mention", (5, 23)),
        ("Mario, porco", "insult.it.vocative", (0, 12)),
        ("  Luca,  lurido maiale", "insult.it.vocative", (2, 22)),
        ("Che dire. Anna, vacca", "insult.it.vocative", (10, 21)),
        ("Niccolò, vacca", "insult.it.vocative", (0, 14)),
        ("Anna-Maria, vacca", "insult.it.vocative", (0, 17)),
        ("Ciao.\n\nMario, porco", "insult.it.vocative", (7, 19)),
        ("Mario, p0rco", "insult.it.vocative", (0, 12)),
    ],
)
def test_builtin_classes_match(
    builtin_engine: Engine, text: str, rule: str, span: tuple[int, int]
) -> None:
    decision = moderate(builtin_engine, text)
    assert [(m["rule"], m["start"], m["end"]) for m in decision["matches"]] == [(rule, *span)]
    assert decision["actions"] == ["remove", "warn"], decision["reasons"]


@pytest.mark.parametrize(
    "text",
    [
        "porco",  # the anchor alone
        "Mario, il porco è nel recinto",  # a word that is not a filler
        "Mario, la vacca è nel prato",
        "mario, porco",  # not capitalized
        "Ho visto Mario, porco",  # the name does not open the sentence
        "Oh, porca vacca",  # "porca" is no term; "Oh" is a stop word anyway
        "Sì, maiale per cena",  # a stop word is no name
        "Ecco, vacca e vitello",
        "Mario, maiale arrosto stasera?",  # the allowlist holds the term
        "scrivi a info@mario.it porco",  # an e-mail address is no mention
        "@mario. Porco il tempo che ho perso",  # another sentence
        "@mario_porco ha risposto",  # the term inside the handle
        "@ mario porco",
    ],
)
def test_builtin_classes_stay_quiet(builtin_engine: Engine, text: str) -> None:
    assert moderate(builtin_engine, text)["actions"] != ["remove", "warn"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@mention = mario\n", "is a built-in class"),
        ("@name_vocative = mario\n", "is a built-in class"),
        ("insult.it.x = @mention @name_vocative\n", "needs a class of words"),
        ("@b = vacca\ninsult.it.x = @mention @b | anchor=@mention\n", "has no terms"),
        ("@b = vacca\ninsult.it.x = @mention @b | between=@mention\n", "class of words"),
        ("@b = vacca\ninsult.it.x = @mentions @b\n", "unknown class @mentions"),
    ],
)
def test_builtin_class_errors(text: str, message: str) -> None:
    issues: list[PackIssue] = []
    parse_rules("rules/it.txt", text, "it", issues)
    errors = [i for i in issues if i.level == "error"]
    assert errors and message in errors[0].message, issues


def test_a_builtin_second_class_leaves_the_anchor_to_the_first() -> None:
    issues: list[PackIssue] = []
    _, rules = parse_rules(
        "rules/it.txt", "@b = porco\ninsult.it.x = @b @mention | within=0\n", "it", issues
    )
    assert not issues
    assert (rules[0].first, rules[0].second, rules[0].anchor) == ("it:@b", "@mention", "it:@b")
    engine = Engine(
        parse_pack(
            mini_files(
                **{"rules/it.txt": "@b = porco\n" + ("insult.it.x = @b @mention | within=0\n")}
            )
        )
    )
    decision = moderate(engine, "porco @mario")
    assert [(m["rule"], m["start"], m["end"]) for m in decision["matches"]] == [
        ("insult.it.x", 0, 12)
    ]
    assert moderate(engine, "@mario porco")["actions"] == ["allow"]  # in order only


# --- the default pack's vocatives --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("@mario porco", "insult.it.mention"),
        ("@mario, stupido somaro!", "insult.it.mention"),
        ("Mario, porco", "insult.it.name_vocative"),
        ("Grazie di niente. Luca, povero scemo", "insult.it.name_vocative"),
        ("@john pig", "insult.en.mention"),
        ("John, pig", "insult.en.name_vocative"),
        ("John, filthy swine", "insult.en.name_vocative"),
        # lexicon phrases and the other rules already say these: they keep their own rule
        ("Mario, sei una cozza", "insult.it.sei_una_cozza"),
        ("@luca sei una vacca", "insult.it.sei_una_vacca"),
        ("Luca, porco che non sei altro", "insult.it.porco_che_non_sei_altro"),
        ("John, you pig", "insult.en.you_pig"),
        ("Mary, you filthy cow", "insult.en.vocative"),
    ],
)
def test_vocatives_are_insults(default_engine: Engine, text: str, rule: str) -> None:
    decision = moderate(default_engine, text)
    assert [m["rule"] for m in decision["matches"]] == [rule]
    assert decision["actions"] == ["remove", "warn"], decision["reasons"]


@pytest.mark.parametrize(
    "text",
    [
        "la vacca pascola",
        "Mario, la vacca è nel prato",
        "il porco è nel recinto",
        "Mario, una vacca è scappata dal recinto",  # an article: nobody is called a cow
        "Mario, il maiale arrosto è pronto",
        "Luca, maiale o pollo stasera?",  # maiale is food as often: no vocative term
        "Sì, porca vacca che caldo",  # a stop word is no name; the allowlist holds porca vacca
        "Ok, vacche e maiali nella stalla",
        "Ho scritto a Mario, porco e vacca sono al mercato",  # not opening the sentence
        "@mario. Porco e vacca, che giornata",  # the mention is another sentence
        "scrivi a info@mario.it: vacca e vitello in vendita",  # an e-mail address
        "Well, pig farming is hard work",
        "@john the pig is in the pen",
        "John, pig out with us tonight",  # the allowlist holds pig out
        "John, the cow is in the barn",
    ],
)
def test_vocative_look_alikes_stay_clean(default_engine: Engine, text: str) -> None:
    decision = moderate(default_engine, text)
    assert "insult" not in decision["categories"], decision["matches"]


def test_vocatives_cost_nothing_without_an_anchor(default_engine: Engine) -> None:
    # a mention and a name with a comma but no term of the rules: the automaton has no hit
    # to hand to the rules, so the comment is decided on the fast path
    for text in ("@mario grazie mille", "Mario, grazie mille", "John, thanks a lot"):
        form = scan_form(text)
        assert not list(default_engine.matcher.automaton.iter(form.prepared))
        assert moderate(default_engine, text)["actions"] == ["allow"]


def test_the_default_rules_check_clean() -> None:
    issues = check_pack(read_pack_files(DEFAULT_PACK_PATH))
    assert not [i for i in issues if i.file.startswith("rules/")], issues


@pytest.mark.parametrize(
    ("text", "actions"),
    [
        ("tu, porca miseria, non ascolti mai", ["allow"]),
        ("voi, porca vacca, siete sempre in ritardo", ["allow"]),
        ("you are the garbage man this week", ["allow"]),
        ("you are just trash talking now", ["allow"]),
        ("tu, porca, non ascolti mai", ["remove", "warn"]),
        ("voi, porche, siete sempre in ritardo", ["remove", "warn"]),
        ("you are such garbage", ["remove", "warn"]),
        ("you are just trash", ["remove", "warn"]),
    ],
)
def test_the_default_allowlist_holds_rule_words(
    default_engine: Engine, text: str, actions: list[str]
) -> None:
    assert moderate(default_engine, text)["actions"] == actions
