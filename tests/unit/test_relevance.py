"""Off-topic relevance: a comment sharing no word with its post or the institution's topics is
a case for a person — never removed, never a strike — and every other decision is unchanged."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from streamproc.core import (
    DEFAULT_PACK_PATH,
    Engine,
    MemoryStrikeStore,
    check_pack,
    load_pack,
    parse_pack,
    read_pack_files,
)
from streamproc.core._topics import RELEVANCE_RULE, stem

from .conftest import mini_files

POST_ISI = (
    "Bando ISI 2026: oltre 500 milioni di euro a fondo perduto per le imprese che investono "
    "in sicurezza sul lavoro. Le domande si presentano dal 15 gennaio."
)
POST_LADDER = (
    "Workplace safety: five checks before you climb a ladder. Watch the video and share it "
    "with your team."
)
POST_CADUTE = "Cadute dall'alto: le cinque regole per lavorare in quota senza rischi."
POST_PORTO = "Oggi a Genova la festa del porto con le famiglie dei portuali."


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack(), clock=lambda: 1_800_000_000.0)


def decide(
    engine: Engine,
    text: str,
    post: str | None = None,
    *,
    kind: str = "comment",
    at: str = "2026-11-18T10:30:00+01:00",  # a Wednesday, in moderation hours
    store: MemoryStrikeStore | None = None,
    role: str = "public",
) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "id": f"c-{abs(hash((text, post, kind, at)))}",
        "channel": "facebook",
        "author": {"id": "author-1", "role": role},
        "text": text,
        "created_at": at,
        "kind": kind,
    }
    if post is not None:
        comment["post_text"] = post
    return dict(engine.moderate(comment, store if store is not None else MemoryStrikeStore()))


ON_TOPIC = [
    # a question about a claim under a post about a bando
    (
        "Buongiorno, l'anno scorso abbiamo partecipato con la nostra falegnameria e ancora "
        "aspettiamo di sapere qualcosa sul finanziamento, qualcuno sa dirci quanto ci vuole?",
        POST_ISI,
    ),
    # criticism of the institution is on topic
    (
        "Il vostro sito non funziona da giorni e al telefono non risponde mai nessuno, "
        "complimenti davvero per l'efficienza di questo carrozzone pubblico",
        POST_ISI,
    ),
    (
        "Siete lenti e arroganti, pagati con i nostri soldi per non combinare niente "
        "dalla mattina alla sera, vergognatevi tutti quanti",
        POST_ISI,
    ),
    (
        "My brother broke his wrist falling from a stepladder in the warehouse last spring "
        "and nobody ever explained what he was entitled to",
        POST_LADDER,
    ),
    (
        "Honestly this agency answers emails slower than the postal service delivered "
        "letters in the eighties, and everybody here knows it",
        POST_LADDER,
    ),
    # a word in common with the post is enough, even with none of the topics
    (
        "Genova è la città più bella d'Italia, il porto al tramonto con la lanterna accesa "
        "è uno spettacolo unico",
        POST_PORTO,
    ),
    # without a post, the topics alone
    (
        "Le ispezioni nei cantieri edili sono ancora troppo poche rispetto alle tragedie che "
        "contiamo ogni settimana nelle campagne, nelle fabbriche e sulle strade del paese",
        None,
    ),
    (
        "Farm labourers picking tomatoes under the August sun collapse every summer while "
        "the regional authorities publish glossy brochures and reports nobody reads",
        None,
    ),
]


@pytest.mark.parametrize(("text", "post"), ON_TOPIC, ids=lambda v: str(v)[:40])
def test_on_topic_comments_are_allowed(engine: Engine, text: str, post: str | None) -> None:
    d = decide(engine, text, post)
    assert d["actions"] == ["allow"], d["reasons"]
    assert d["matches"] == [] and d["reasons"] == []


OFF_TOPIC = [
    (
        "Che partita ieri sera, la Juve ha dominato dal primo minuto e Vlahovic ha segnato "
        "una doppietta spettacolare sotto la curva",
        POST_CADUTE,
    ),
    (
        "Ricetta perfetta per la carbonara: guanciale croccante, pecorino romano, tuorli "
        "freschi e tanto pepe macinato al momento",
        POST_CADUTE,
    ),
    (
        "Ragazze sono un uomo simpatico e romantico di quarant'anni, amo viaggiare, il mare "
        "e le cene a lume di candela",
        POST_ISI,
    ),
    (
        "Bitcoin smashed another record tonight, ethereum and solana are pumping hard, "
        "hodl your coins and buy the dip",
        POST_LADDER,
    ),
    (
        "What a match last night, the striker scored twice after halftime and the "
        "goalkeeper saved everything in stoppage",
        POST_LADDER,
    ),
    (
        "Best lasagna recipe ever: ragu simmered all afternoon, creamy bechamel, fresh pasta "
        "and plenty of parmigiano on top",
        POST_LADDER,
    ),
]


@pytest.mark.parametrize(("text", "post"), OFF_TOPIC, ids=lambda v: str(v)[:40])
def test_off_topic_comments_go_to_a_person(engine: Engine, text: str, post: str) -> None:
    d = decide(engine, text, post)
    assert d["categories"] == ["off_topic"]
    assert d["actions"] == ["escalate"]
    (match,) = d["matches"]
    assert match == {
        "category": "off_topic",
        "start": 0,
        "end": len(text),
        "rule": RELEVANCE_RULE,
        "confidence": "low",
        "severity": "low",
    }
    assert "off_topic: no word in common with the post or the institution's topics" in " ".join(
        d["reasons"]
    )
    assert d["escalation"] is not None and d["escalation"]["queue"] == "review"
    assert d["reply"] is None


def test_without_a_post_a_longer_comment_is_needed(engine: Engine) -> None:
    short = (
        "Che partita ieri sera, la Juve ha dominato e Vlahovic ha segnato una doppietta "
        "spettacolare"
    )
    assert decide(engine, short)["actions"] == ["allow"]
    assert decide(engine, short, POST_CADUTE)["actions"] == ["escalate"]
    long = (
        "Che partita ieri sera, la Juve ha dominato dal primo minuto, Vlahovic ha segnato una "
        "doppietta spettacolare sotto la curva sud e il portiere ha parato un rigore "
        "incredibile"
    )
    d = decide(engine, long)
    assert d["actions"] == ["escalate"]
    assert any("no post text to compare" in r for r in d["reasons"])


@pytest.mark.parametrize(
    "text",
    ["grazie!", "👍", "ok", "Bravi!", "Thanks a lot!", "Che bella giornata di sole al mare"],
)
def test_short_comments_are_not_judged(engine: Engine, text: str) -> None:
    d = decide(engine, text, POST_CADUTE)
    assert d["actions"] == ["allow"] and d["matches"] == []


def test_emoji_are_no_content_words(engine: Engine) -> None:
    # Four content words: too few to judge, however many emoji the normalizer names.
    d = decide(engine, "Che bella giornata di sole al mare 🐷 🤡 💣 🍌 🍆", POST_CADUTE)
    assert d["actions"] == ["allow"] and d["matches"] == []


def test_replies_and_private_messages_are_not_judged(engine: Engine) -> None:
    text, post = OFF_TOPIC[0]
    assert decide(engine, text, post, kind="reply")["actions"] == ["allow"]
    assert decide(engine, text, None, kind="private_message")["actions"] == ["allow"]


def test_never_removed_never_a_strike(engine: Engine) -> None:
    store = MemoryStrikeStore()
    for text, post in OFF_TOPIC * 2:  # the same author, twelve times: no ladder to climb
        d = decide(engine, text, post, store=store)
        assert d["actions"] == ["escalate"]
        assert not {"remove", "warn", "block"} & set(d["actions"])
    assert store.data == {}
    # even a pack whose off_topic category removes and climbs a ladder: a judgement stays
    # borderline, for a person
    files = read_pack_files(DEFAULT_PACK_PATH)
    old = "    actions: [escalate]\n"
    assert old in files["policy.yaml"]
    files["policy.yaml"] = files["policy.yaml"].replace(
        old, "    actions: [remove, escalate]\n    ladder: conduct\n", 1
    )
    strict = Engine(parse_pack(files))
    for text, post in OFF_TOPIC:
        d = decide(strict, text, post, store=store)
        assert d["actions"] == ["escalate"], d["reasons"]
    assert store.data == {}


def test_out_of_hours_it_waits_for_the_next_window(engine: Engine) -> None:
    text, post = OFF_TOPIC[1]
    d = decide(engine, text, post, at="2026-11-21T23:00:00+01:00")  # Saturday night
    assert d["actions"] == ["escalate"]
    assert d["escalation"] is not None and d["escalation"]["queue"] == "deferred"


def test_other_findings_come_first(engine: Engine) -> None:
    # a lexicon match decides; relevance is not added on top
    text = "cerco fidanzata seria, sono un uomo simpatico e romantico, amo viaggiare e il mare"
    d = decide(engine, text, POST_CADUTE)
    assert "off_topic" in d["categories"]
    assert RELEVANCE_RULE not in [m["rule"] for m in d["matches"]]


def test_the_stem_joins_inflections_and_keeps_roots_apart() -> None:
    assert stem("bando") == stem("bandi")
    assert stem("premio") == stem("premi")
    assert stem("infortunio") == stem("infortuni")
    assert stem("claims") == stem("claim")
    assert stem("informazione") != stem("infortunio")
    assert stem("sicurezza") != stem("sicuramente")


def test_no_sample_decision_changes() -> None:
    """The samples, decided with and without the topics: the same bytes, but for the policy
    version (the pack's fingerprint) and the time."""
    files = read_pack_files(DEFAULT_PACK_PATH)
    with_topics = Engine(parse_pack(files), clock=lambda: 1_800_000_000.0)
    without = Engine(
        parse_pack({k: v for k, v in files.items() if not k.startswith("topics/")}),
        clock=lambda: 1_800_000_000.0,
    )
    assert with_topics.pack.topics and not without.pack.topics
    data = (DEFAULT_PACK_PATH.parent.parent / "samples" / "comments.ndjson").read_bytes()
    a, b = MemoryStrikeStore(), MemoryStrikeStore()
    for line in data.splitlines():
        new, old = dict(with_topics.moderate_json(line, a)), dict(without.moderate_json(line, b))
        new.pop("policy_version"), old.pop("policy_version")
        assert orjson.dumps(new) == orjson.dumps(old)


def _issues(**files: str) -> list[str]:
    return [str(i) for i in check_pack(mini_files(**files))]


def test_topic_files_are_validated() -> None:
    issues = _issues(
        **{
            "stopwords/it.txt": "il la di\n",
            "topics/it.txt": "bando\nbandi\nin*fortunio\nil\nabc*\nsicurezza sul*\ncassa | x\n",
            "topics/xx.txt": "bando\n",
            "stopwords/xx.txt": "il\n",
        }
    )
    assert "topics/it.txt:2: warning: same topic as line 1" in issues
    assert "topics/it.txt:3: error: a topic is words, with at most a trailing *" in issues
    assert "topics/it.txt:4: error: a topic needs a word that is not a stop word" in issues
    assert any(i.startswith("topics/it.txt:5: error: a prefix* topic is one word") for i in issues)
    assert any(i.startswith("topics/it.txt:6: error: a prefix* topic is one word") for i in issues)
    assert "topics/it.txt:7: error: a topic is words, with at most a trailing *" in issues
    assert "topics/xx.txt:0: error: language 'xx' is not in policy languages" in issues
    assert "stopwords/xx.txt:0: error: language 'xx' is not in policy languages" in issues


def test_the_thresholds_are_validated() -> None:
    files = mini_files(**{"topics/it.txt": "bando\n"})
    files["policy.yaml"] = files["policy.yaml"].replace(
        "  min_content_words: 8\n  min_content_words_without_post: 12\n",
        "  min_content_words: 1\n  min_content_words_without_post: x\n",
        1,
    )
    assert "min_content_words: 1" in files["policy.yaml"]
    issues = [str(i) for i in check_pack(files) if i.level == "error"]
    assert any("relevance.min_content_words: must be an integer >= 2" in i for i in issues)
    assert any(
        "relevance.min_content_words_without_post: must be an integer >= 2" in i for i in issues
    )


def test_topics_without_stop_words_are_a_warning() -> None:
    assert "topics/:0: warning: topics without stopwords/: every word counts" in _issues(
        **{"topics/it.txt": "bando\n"}
    )


def test_the_slow_path_judges_too(engine: Engine) -> None:
    # an @mention or digits take a comment off the fast path (personal data is looked for);
    # nothing found there, it is judged like any other
    text, post = OFF_TOPIC[0]
    d = decide(engine, "@Marco " + text + " 3-1 al 90esimo, 2025", post)
    assert d["actions"] == ["escalate"] and d["categories"] == ["off_topic"]
    # an allowlisted word (an inert hit) is no finding either
    d = decide(engine, text + " e stasera tutti al bar per un Negroni", post)
    assert d["actions"] == ["escalate"] and d["categories"] == ["off_topic"]


def test_an_employee_is_judged_like_anyone(engine: Engine) -> None:
    text, post = OFF_TOPIC[2]
    d = decide(engine, text, post, role="employee")
    assert d["actions"] == ["escalate"]


def test_a_pack_without_topics_judges_nothing() -> None:
    engine = Engine(parse_pack(mini_files()))
    text, post = OFF_TOPIC[0]
    assert decide(engine, text, post)["actions"] == ["allow"]


def test_a_small_pack_with_topics_and_phrases() -> None:
    files = mini_files(
        **{
            "stopwords/it.txt": "il la di e per un una che sul\n",
            "topics/it.txt": "infortun*\npremi assicurativi\n",
        }
    )
    files["policy.yaml"] = files["policy.yaml"].replace(
        "  min_content_words: 8\n", "  min_content_words: 3\n", 1
    )
    engine = Engine(parse_pack(files))
    post = "Novità per le imprese"
    assert decide(engine, "infortunati gravi troppi ancora", post)["actions"] == ["allow"]
    assert decide(engine, "premi assicurativi troppo alti", post)["actions"] == ["allow"]
    assert decide(engine, "premi fedeltà supermercato sotto casa", post)["actions"] == ["escalate"]
