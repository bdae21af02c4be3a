"""Detection in context, on the default pack: who a word is aimed at, what is quoted or said in
general, word forms, and severe actions only when sure (issue 13's probes, both languages)."""

from __future__ import annotations

import pytest

from streamproc.core import Engine, MemoryStrikeStore, parse_pack
from streamproc.core._context import match_context
from streamproc.core._lexicon import derived_forms, parse_lexicon
from streamproc.core._policy import PackIssue
from tests.unit.conftest import CommentFactory, mini_files
from tests.unit.conftest import moderate_text as moderate

SEVERE = {"block", "report_platform", "report_authorities"}


@pytest.mark.parametrize(
    "text",
    [
        "Albert Camus wrote that the only serious question is whether to kill yourself or not.",
        "Pedro Negro",  # a weak match in each of two lexicons is not corroboration
        "So dove abiti, stai attento a quello che scrivi.",  # medium, not aimed at anyone
        "- Se russi ti picchio! - E se ucraino? - Ti merlo!",  # a condition: a person decides
        "Rečica ob Paki",  # a place name
    ],
)
def test_no_severe_action_on_one_ambiguous_match(default_engine: Engine, text: str) -> None:
    decision = moderate(default_engine, text)
    assert not SEVERE & set(decision["actions"]), decision["reasons"]
    assert "escalate" in decision["actions"]
    assert decision["escalation"] is not None


@pytest.mark.parametrize(
    "text",
    [
        "ti ammazzo, so dove abiti",  # aimed at the reader, two rules
        "Vengo con il fucile e vi faccio vedere io.",  # two rules, aimed at the readers
        "domani vengo in ufficio e vi brucio la macchina",  # a structural rule: two signals
        "I will kill you. I know where you live.",
        # A threat's phrases name their own target: two of them corroborate each other.
        "La prossima volta che vengo in sede non esco da solo. Qualcuno si fa male",
    ],
)
def test_severe_actions_when_sure(default_engine: Engine, text: str) -> None:
    decision = moderate(default_engine, text)
    assert {"block", "report_platform", "report_authorities", "escalate"} <= set(
        decision["actions"]
    ), decision["reasons"]


@pytest.mark.parametrize(
    "text",
    [
        "ti ammazzo",  # aimed, but one phrase alone
        "Support Mental Health.  Or I'll kill you.",  # a joke as a literal reading cannot tell
        "I'll kill you if you quote it.",  # a condition after the threat
        "Sporchi zingari, andrebbero cacciati tutti.",  # hate said of a group, to no one here
        "Io, quelli che fanno la guerra, li ammazzerei tutti!",  # not aimed at anyone here
        "- Che cosa ottieni incrociando un drago con un frocio?\n- Un megaculo infiammato.",
        "Only the heavy faggots know.",  # a slur, said of no one addressed
        "Mi dice: \"Papa', non hai capito niente!\nSpaccio eroina: guadagno molto di piu'\".",
        "backward, retarded, imbecilic, moronic; spastic, spasmodic, convulsive",  # a word list
    ],
)
def test_severe_actions_are_held_for_a_person_unless_aimed_and_corroborated(
    default_engine: Engine, text: str
) -> None:
    decision = moderate(default_engine, text)
    assert not SEVERE & set(decision["actions"]), decision["reasons"]
    assert "escalate" in decision["actions"]
    assert decision["escalation"] is not None


@pytest.mark.parametrize(
    "text", ["sono idioti quelli dell'ufficio", "Quelli dell'INAIL sono degli idioti."]
)
def test_sono_of_others_is_not_said_of_oneself(default_engine: Engine, text: str) -> None:
    # "sono" is "I am" and "they are": only "sono un/una" is the writer speaking of themselves.
    assert moderate(default_engine, text)["actions"] == ["remove", "warn"]


def test_a_held_severe_action_says_why(default_engine: Engine) -> None:
    decision = moderate(default_engine, "Spero che crepiate tutti.")
    assert decision["actions"] == ["remove", "warn", "escalate"]
    assert decision["escalation"]["urgent"] is True
    assert any("held for a person" in r for r in decision["reasons"])


@pytest.mark.parametrize(
    "text",
    [
        "Non discutere mai con un idiota, ti trascina al suo livello e ti batte con l'esperienza.",
        "Laugh and the world thinks you're an idiot.",
        'Mi ha scritto "sei un idiota" e poi ha chiuso la chat.',
        "Mi ha dato dello stronzo davanti a tutti.",  # reported, without "che"
        "He said you are an idiot and left the meeting.",
        "My colleague called me an idiot in front of everyone.",
        "Non sono un idiota completo -- alcune parti mancano.",  # said of oneself
        "I'm an idiot. At least this bug took only five minutes to find.",
        "Mi sento proprio un cretino.",
        "Idiot, n.:\n\tA member of a large and powerful tribe.",  # a definition's head word
    ],
)
def test_words_used_generally_are_for_a_person_not_removed(
    default_engine: Engine, text: str
) -> None:
    decision = moderate(default_engine, text)
    assert decision["actions"] == ["escalate"], decision["reasons"]
    assert any("used generally" in r for r in decision["reasons"])


@pytest.mark.parametrize(
    "text",
    ["sei un idiota", "you are an idiot", "@mario sei un cretino", "Sei proprio un deficiente."],
)
def test_insults_aimed_at_someone_are_removed(default_engine: Engine, text: str) -> None:
    assert moderate(default_engine, text)["actions"] == ["remove", "warn"]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("sei uno stronzissimo", "insult.it.stronzo"),
        ("che cretinetto", "insult.it.cretino"),
        ("dite solo cretinate", "insult.it.cretino"),
        ("siete dei bastardissimi", "insult.it.bastardo"),
        ("quelle troiette", "profanity.it.troia"),
        ("sei un cornutone", "insult.it.cornuto"),
        ("imbecillotto che non sei altro", "insult.it.imbecille"),
        ("sei un deficientone", "insult.it.deficiente"),
        ("che cesso che sei", "insult.it.che_cesso_che_sei"),
        ("sei una cozza", "insult.it.sei_una_cozza"),
        ("that's jail bait", "profanity.en.jailbait"),
        ("that's jail-bait", "profanity.en.jailbait"),
        ("deeeeeep throat", "profanity.en.deepthroat*"),
        ("sei un cretinooooo", "insult.it.cretino"),
        ("cooooglioneeee", "insult.it.coglione"),
    ],
)
def test_word_forms_cite_their_stem(default_engine: Engine, text: str, rule: str) -> None:
    decision = moderate(default_engine, text)
    assert [m["rule"] for m in decision["matches"]] == [rule]
    assert decision["actions"] == ["remove", "warn"]


@pytest.mark.parametrize(
    "text",
    [
        "la vacca pascola nel prato",
        "il cesso è rotto",
        "il porco è nel recinto",
        "It wasn't me, honestly.",
        "No, that isn't me in the photo.",
        "Rif. prot. n. 0046262/2021 del 3 marzo",
        "In article <1993Apr5.123456.12345@cs.cmu.edu> someone wrote",
        "Chi ha scritto la circolare ha fatto un ottimo lavoro.",
    ],
)
def test_plain_nouns_contractions_and_references_are_allowed(
    default_engine: Engine, text: str
) -> None:
    assert moderate(default_engine, text)["actions"] == ["allow"]


@pytest.mark.parametrize(
    ("text", "actions"),
    [
        ("domani vengo in sede e vi do fuoco", None),  # kept as it was: a grave, aimed threat
        ("you'll get what's coming to you", ["escalate"]),
        ("gli stranieri sono tutti delinquenti", ["escalate"]),
        ("saldi 80% su borse firmate, solo per oggi", ["escalate"]),
        ("non capisco perché non mi abbiano ancora pagato l'indennità", ["redirect"]),
    ],
)
def test_compositional_rules_go_to_people(
    default_engine: Engine, text: str, actions: list[str] | None
) -> None:
    decision = moderate(default_engine, text)
    assert decision["actions"] != ["allow"]
    if actions is not None:
        assert decision["actions"] == actions, decision["reasons"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("La mia partita iva è IT01114601006", "vat_number"),
        ("IT01114601006", "vat_number"),
        ("La partita iva è 39099600296", "vat_number"),
    ],
)
def test_vat_numbers_as_people_write_them(default_engine: Engine, text: str, kind: str) -> None:
    assert [m.get("kind") for m in moderate(default_engine, text)["matches"]] == [kind]


def test_a_term_inside_a_name_is_for_a_person(default_engine: Engine) -> None:
    decision = moderate(default_engine, "Rečica ob Paki")
    assert decision["actions"] == ["escalate"]
    assert any("part of a name" in r for r in decision["reasons"])


@pytest.mark.parametrize(
    "text",
    [
        "Giudeo-arabo",  # names of languages (ISO 639, as the Italian translations give them)
        "Arabo giudeo-iracheno",
        "Tunebo Barro Negro",
        "Hmong; Mong",
        "Šmartno ob Paki",  # places (ISO 3166-2)
        "Phuket",
        "Jizzax",
        "Impossibile connettersi a %s:%s (%s).",  # "a %s (%s" is not a word spelled out
        "errore durante la connessione a '%s': %s",
        "Segnalare i bug a <bug-make@gnu.org>",  # a mailing list's address, nobody's own
        "Report-Msgid-Bugs-To: pgsql-bugs@lists.postgresql.org",
        "Per informazioni scrivete a urp@inail.it",
        "Uploaded by ftpmaster@ubuntu.com",  # a service's mailbox (RFC 2142 and its kin)
        "Send 'unsubscribe' to linux-kernel-request@vger.kernel.org",
        "Reclami: scrivere a reclami@azienda.it o a amministrazione@azienda.it",
        "-- Larry Wall in <9695@jpl-devvax.JPL.NASA.GOV>",  # Usenet Message-IDs
        "-- Larry Wall in <1991Jul13.010945.19157@netlabs.com",
        "-- Henning Makholm in <yahsmr7dk9k.fsf@pc-043.diku.dk>",
        "Make it idiot-proof.",  # things named after idiots
        "The idiot lights on the dashboard came on.",
    ],
)
def test_names_format_codes_and_role_addresses_are_clean(default_engine: Engine, text: str) -> None:
    decision = moderate(default_engine, text)
    assert decision["actions"] == ["allow"], decision["reasons"]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("sei un c a z z o", "profanity.it.cazz*"),
        ("m.e.r.d.a", "profanity.it.merd*"),
        ("s_t_r_o_n_z_o", "insult.it.stronzo"),
        ("f u c k you", "profanity.en.fuck*"),
        ("scrivimi a mario.rossi@example.com", "pii.email"),  # a person's address still is
        ("scrivetemi a <mario.rossi@example.com>", "pii.email"),
        ("you idiot, n. 5 is wrong", "insult.en.you_idiot"),
        ("sporco giudeo", "hate.it.sporco_giudeo"),
    ],
)
def test_what_those_exceptions_leave_caught(default_engine: Engine, text: str, rule: str) -> None:
    decision = moderate(default_engine, text)
    assert rule in [m["rule"] for m in decision["matches"]]
    assert "remove" in decision["actions"]


def test_context_reads_the_sentence_of_the_match() -> None:
    text = "Chi ha detto che sei un idiota? Tu sei un idiota."
    first = text.index("idiota")
    second = text.rindex("idiota")
    assert match_context(text, first, first + 6).generic == "ha detto che"
    later = match_context(text, second, second + 6)
    assert later.generic is None and later.targeted and later.predicated


@pytest.mark.parametrize(
    ("text", "word", "targeted"),
    [
        ("Ve lo meritate, buffoni", "buffoni", True),  # "ve" before a pronoun is "vi"
        ("Buffoni, ve ne dovete andare", "Buffoni", True),
        ("Then I've seen the clown twice", "clown", False),  # English "'ve": no second person
        ("Una cosa da buffoni, questa", "buffoni", False),
    ],
)
def test_italian_ve_before_a_pronoun_addresses_people(text: str, word: str, targeted: bool) -> None:
    start = text.index(word)
    assert match_context(text, start, start + len(word)).targeted is targeted


def test_derived_forms_are_bounded() -> None:
    forms = derived_forms("cretino")
    assert {"cretino", "cretina", "cretinetto", "cretinate", "cretinissimi", "cretinone"} <= set(
        forms
    )
    assert len(forms) == len(set(forms)) < 30


def test_forms_and_compounds_keep_one_rule_and_the_written_lines_win() -> None:
    issues: list[PackIssue] = []
    text = "cretino | forms=it\ncretinetti | severity=high\njail+bait\n"
    entries = parse_lexicon("x.txt", text, "insult", "it", issues)
    assert issues == []
    by_words = {e.words: e for e in entries}
    assert by_words["cretinone"].rule == "insult.it.cretino"
    assert by_words["cretinone"].derived
    assert by_words["cretinetti"].rule == "insult.it.cretinetti"  # its own line
    assert {by_words["jailbait"].rule, by_words["jail bait"].rule} == {"insult.it.jailbait"}


def test_forms_only_on_one_word_entries() -> None:
    issues: list[PackIssue] = []
    parse_lexicon("x.txt", "brutto cretino | forms=it\n", "insult", "it", issues)
    assert [i.message for i in issues] == ["forms=it applies to one-word entries"]


def test_reporting_to_the_authorities_is_always_a_case_for_a_person(
    comment: CommentFactory,
) -> None:
    policy = mini_files()["policy.yaml"].replace(
        "actions: [remove, block, report_platform, report_authorities, escalate]",
        "actions: [remove, block, report_platform, report_authorities]",
    )
    assert policy != mini_files()["policy.yaml"]
    engine = Engine(parse_pack(mini_files(**{"policy.yaml": policy})))
    decision = dict(engine.moderate(comment("ti ammazzo, so dove abiti"), MemoryStrikeStore()))
    assert "report_authorities" in decision["actions"]
    assert "escalate" in decision["actions"]
    assert decision["escalation"]["urgent"] is True


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("It wasn't me, and that ain't me either.", []),
        ("Non sono stato io, that wasn't me.", []),
        ("join t.me/freemoney now", ["spam.it.t_me"]),  # a word ending in n before the link
        ("seguimi su t.me/canale", ["spam.it.t_me"]),
        ("file no. 0612345678 is still open", []),
        ("order no. 4155551234", []),
        ("case no. 0612345678/2024", []),
        ("fascicolo n. 0612345678", []),
        ("ordine n. 3471234567", []),
        ("il numero 3471234567/2021 del registro", []),
        ("chiamami al 3471234567", ["pii.phone"]),
        ("call me at 0612345678", ["pii.phone"]),
        ("P.IVA IT01114601006", ["pii.vat_number"]),
        ("VAT IT01114601006", ["pii.vat_number"]),
        ("IT01114601007", []),  # a wrong check digit
    ],
)
def test_pii_and_spam_slips(default_engine: Engine, text: str, rules: list[str]) -> None:
    assert [m["rule"] for m in moderate(default_engine, text)["matches"]] == rules


@pytest.mark.parametrize("text", ["🖕", "ecco cosa ne penso 🖕🏻", "you🖕"])
def test_the_middle_finger_is_vulgarity_written_plainly(default_engine: Engine, text: str) -> None:
    decision = moderate(default_engine, text)
    assert "remove" in decision["actions"] and decision["categories"] == ["profanity"]
    (match,) = decision["matches"]
    assert text[match["start"] : match["end"]] == "🖕"
    (found,) = default_engine.analyze(text).found
    assert not found.obfuscated  # an emoji as it is typed hides nothing


def test_emoji_the_policy_does_not_list_are_no_offence(default_engine: Engine) -> None:
    for text in ("Grazie 👍👍", "🐷 salvadanaio per il bando?", "Bravi 👏🙏"):
        assert moderate(default_engine, text)["actions"] == ["allow"], text


def test_a_lexicon_lists_a_named_emoji_and_no_other() -> None:
    issues: list[PackIssue] = []
    entries = parse_lexicon("lexicons/en/x.txt", "💩\n👍\n", "insult", "en", issues)
    assert [e.words for e in entries] == ["emojipoo"]
    assert len(issues) == 1 and issues[0].line == 2 and "no letter" in issues[0].message
