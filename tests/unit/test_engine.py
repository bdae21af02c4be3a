"""Decisions under the default policy: ladders, immediate sanctions, PII, assistance,
employees, borderline matches and moderation hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamproc.core import (
    ACTIONS,
    CATEGORIES,
    CommentError,
    Engine,
    MemoryStrikeStore,
)
from streamproc.core._engine import _Timestamps

from .conftest import CommentFactory


def decide(engine: Engine, comment: dict[str, Any], store: MemoryStrikeStore | None = None):
    return engine.moderate(comment, store if store is not None else MemoryStrikeStore())


def test_a_clean_comment_is_allowed(mini_engine: Engine, comment: CommentFactory) -> None:
    d = decide(mini_engine, comment("Quando escono i dati sugli infortuni del 2025?"))
    assert d["actions"] == ["allow"] and d["categories"] == [] and d["matches"] == []
    assert d["policy_version"] == mini_engine.pack.policy_version
    assert d["decided_at"].endswith("+00:00")


def test_decision_fields_are_the_contract(mini_engine: Engine, comment: CommentFactory) -> None:
    d = decide(mini_engine, comment("sei uno stronzo", id="x1", author="u9", channel="youtube"))
    assert set(d) >= {
        "comment_id", "channel", "author_id", "categories", "actions", "matches",
        "policy_version", "reasons", "decided_at",
    }  # fmt: skip
    assert (d["comment_id"], d["channel"], d["author_id"]) == ("x1", "youtube", "u9")
    assert set(d["categories"]) <= set(CATEGORIES) and set(d["actions"]) <= set(ACTIONS)
    (m,) = d["matches"]
    assert (m["category"], m["start"], m["end"], m["rule"]) == (
        "insult",
        8,
        15,
        "insult.it.stronz*",
    )
    assert orjson.loads(orjson.dumps(d)) == d


def test_first_violation_warns_second_blocks_and_strikes_expire(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    store = MemoryStrikeStore()
    first = decide(mini_engine, comment("stronzo", at="2026-01-07T10:00:00+01:00"), store)
    assert first["actions"] == ["remove", "warn"]
    assert first["reply"] and "rimosso" in first["reply"]
    second = decide(mini_engine, comment("merda", at="2026-03-01T10:00:00+01:00"), store)
    assert second["actions"] == ["remove", "block"]
    # 91 days after the last strike, the ladder starts again.
    later = decide(mini_engine, comment("coglione", at="2026-06-01T10:00:00+02:00"), store)
    assert later["actions"] == ["remove", "warn"]


def test_strikes_are_per_author_and_channel(mini_engine: Engine, comment: CommentFactory) -> None:
    store = MemoryStrikeStore()
    decide(mini_engine, comment("stronzo", author="a"), store)
    assert decide(mini_engine, comment("stronzo", author="b"), store)["actions"] == [
        "remove",
        "warn",
    ]
    other_channel = comment("stronzo", author="a", channel="instagram")
    assert decide(mini_engine, other_channel, store)["actions"] == ["remove", "warn"]


def test_replaying_a_comment_adds_no_second_strike(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    store = MemoryStrikeStore()
    c = comment("sei uno stronzo", id="same")
    assert decide(mini_engine, c, store)["actions"] == ["remove", "warn"]
    assert decide(mini_engine, c, store)["actions"] == ["remove", "warn"]
    assert len(store.data["facebook:author-1"]) == 1
    assert decide(mini_engine, comment("stronzo"), store)["actions"] == ["remove", "block"]
    # Replaying the first one still gives what it got the first time.
    assert decide(mini_engine, c, store)["actions"] == ["remove", "warn"]


THREAT_ACTIONS = ["remove", "block", "report_platform", "report_authorities", "escalate"]
HELD = ["remove", "warn", "escalate"]


@pytest.mark.parametrize(
    ("text", "actions"),
    [
        ("ti ammazzo, so dove abiti", THREAT_ACTIONS),
        ("I will kill you, I know where you live", THREAT_ACTIONS),
        ("sei un figlio di troia e un negro", ["remove", "block", "report_platform"]),
        ("vendo certificati medici falsi e ricette false", ["remove", "block", "report_platform"]),
    ],
)
def test_threats_hate_and_illegal_activity_block_at_once_when_aimed_and_corroborated(
    mini_engine: Engine, comment: CommentFactory, text: str, actions: list[str]
) -> None:
    assert decide(mini_engine, comment(text))["actions"] == actions


@pytest.mark.parametrize(
    "text",
    ["ti ammazzo", "I will kill you", "sei un figlio di troia", "vendo certificati medici falsi"],
)
def test_one_phrase_alone_is_removed_and_its_severe_actions_held_for_a_person(
    mini_engine: Engine, comment: CommentFactory, text: str
) -> None:
    d = decide(mini_engine, comment(text, at="2026-11-18T23:30:00+01:00"))  # out of hours
    assert d["actions"] == HELD, d["reasons"]
    assert d["escalation"] is not None and d["escalation"]["urgent"] is True
    assert any("held for a person" in r for r in d["reasons"])


def test_a_first_violation_that_blocks_does_not_say_it_warns(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("ti ammazzo, so dove abiti"))
    assert "block" in d["actions"] and "warn" not in d["actions"]
    [step] = [r for r in d["reasons"] if "violation within" in r]
    assert step.endswith(": warn (superseded by block)")
    # A plain first violation still says it warns.
    [step] = [r for r in decide(mini_engine, comment("stronzo"))["reasons"] if "within" in r]
    assert step.endswith(": warn")


def test_spam_is_removed_and_repeated_spam_blocked(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    store = MemoryStrikeStore()
    assert decide(mini_engine, comment("guadagna subito!"), store)["actions"] == ["remove"]
    assert decide(mini_engine, comment("scrivimi su whatsapp"), store)["actions"] == [
        "remove",
        "block",
    ]


def test_shortened_links_are_spam_and_unknown_domains_are_escalated(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("offerta: bit.ly/3xYz"))
    assert d["categories"] == ["spam"] and d["actions"] == ["remove"]
    d = decide(mini_engine, comment("leggete https://www.example.org/articolo"))
    assert d["categories"] == ["spam"] and d["actions"] == ["escalate"]
    assert decide(mini_engine, comment("vedi https://www.inail.it/faq"))["actions"] == ["allow"]


def test_personal_data_is_removed_without_a_strike(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    store = MemoryStrikeStore()
    d = decide(mini_engine, comment("mario rossi RSSMRA85T10A562S lavora qui"), store)
    assert d["categories"] == ["pii"]
    assert d["actions"] == ["remove", "escalate"]  # possibly a third party's data
    assert d["escalation"] is not None and d["escalation"]["urgent"] is True
    assert "RSSMRA" not in " ".join(d["reasons"])
    assert store.data == {}


def test_assistance_request_with_personal_data_is_redirected(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("la mia pratica è ferma, chiamatemi al 333 123 4567"))
    assert d["categories"] == ["pii", "assistance"]
    assert d["actions"] == ["remove", "redirect"]
    assert d["reply"] and "Inail Risponde" in d["reply"]
    assert "123 4567" not in orjson.dumps(d).decode()


def test_assistance_alone_is_redirected_in_the_comment_language(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("what about my claim?"))
    assert d["actions"] == ["redirect"] and d["reply"] and d["reply"].startswith("Dear user")
    d = decide(mini_engine, comment("il mio infortunio", lang="it"))
    assert d["actions"] == ["redirect"] and d["reply"] and d["reply"].startswith("Gentile")


def test_personal_data_in_a_private_message_is_not_removed(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("la mia pratica, CF RSSMRA85T10A562S", kind="private_message"))
    assert d["categories"] == ["pii", "assistance"] and d["actions"] == ["redirect"]


def test_employee_confidential_disclosure_goes_to_compliance(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("vi giro il documento interno", role="employee"))
    assert d["categories"] == ["confidential"]
    assert d["actions"] == ["remove", "notify_compliance"]
    # The same words from the public are not a disclosure.
    assert decide(mini_engine, comment("vi giro il documento interno"))["actions"] == ["allow"]


def test_employee_violations_are_also_flagged_to_compliance(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("che stronzata", role="employee"))
    assert d["actions"] == ["remove", "warn", "notify_compliance"]


def test_borderline_matches_are_escalated_not_removed(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("sei una troia"))
    assert d["categories"] == ["hate"] and d["actions"] == ["escalate"]
    assert d["matches"][0]["confidence"] == "low"
    off = decide(mini_engine, comment("cerco fidanzata seria"))
    assert off["categories"] == ["off_topic"] and off["actions"] == ["escalate"]


def test_several_weak_signals_confirm_a_category(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("sei una troia e un negro"))
    assert d["categories"] == ["hate"] and d["actions"] == ["remove", "block", "report_platform"]


def test_a_weak_assistance_cue_alone_is_ignored(
    mini_engine: Engine, comment: CommentFactory
) -> None:
    d = decide(mini_engine, comment("parlavo della mia pensione con un amico"))
    assert d["actions"] == ["allow"] and d["categories"] == [] and d["matches"] == []
    # Not when the comment also carries personal data: then it is a request, with the data.
    pii = decide(mini_engine, comment("la mia pensione: chiamatemi al 333 123 4567"))
    assert pii["categories"] == ["pii", "assistance"]
    assert pii["actions"] == ["remove", "redirect"]
    assert [m["rule"] for m in pii["matches"]] == ["assistance.it.mia_pensione", "pii.phone"]
    both = decide(mini_engine, comment("la mia pensione e la mia rendita sono in ritardo"))
    assert both["categories"] == ["assistance"] and both["actions"] == ["redirect"]


@pytest.mark.parametrize(
    ("at", "queue", "review_after"),
    [
        ("2026-11-18T10:30:00+01:00", "review", "2026-11-18T10:30:00+01:00"),  # Wed, open
        ("2026-11-18T19:00:00+01:00", "deferred", "2026-11-19T09:00:00+01:00"),  # closing time
        ("2026-11-18T07:59:00Z", "deferred", "2026-11-18T09:00:00+01:00"),  # 08:59 in Rome
        ("2026-11-21T11:00:00+01:00", "deferred", "2026-11-23T09:00:00+01:00"),  # Saturday
        ("2026-12-24T20:00:00+01:00", "deferred", "2026-12-28T09:00:00+01:00"),  # Christmas
        ("2026-08-14T18:59:59+02:00", "review", "2026-08-14T18:59:59+02:00"),  # Fri, open
        ("2026-08-14T19:30:00+02:00", "deferred", "2026-08-17T09:00:00+02:00"),  # Ferragosto
        ("2026-06-01T23:00:00+02:00", "deferred", "2026-06-03T09:00:00+02:00"),  # 2 June
    ],
)
def test_escalations_follow_moderation_hours(
    mini_engine: Engine, comment: CommentFactory, at: str, queue: str, review_after: str
) -> None:
    d = decide(mini_engine, comment("cerco fidanzata", at=at))
    assert d["escalation"] is not None
    assert (d["escalation"]["queue"], d["escalation"]["review_after"]) == (queue, review_after)


def test_urgent_cases_are_not_deferred(mini_engine: Engine, comment: CommentFactory) -> None:
    d = decide(mini_engine, comment("so dove abiti", at="2026-11-21T23:00:00+01:00"))
    assert d["escalation"] == {
        "queue": "urgent",
        "urgent": True,
        "in_hours": False,
        "review_after": "2026-11-21T23:00:00+01:00",
    }
    assert any("urgent" in r for r in d["reasons"])


GOOD = {
    "id": "a",
    "channel": "x",
    "author": {"id": "u"},
    "text": "t",
    "created_at": "2026-01-01T10:00:00Z",
}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "Expected `object`, got `array`"),
        ({}, "Object missing required field `id`"),
        ({**GOOD, "id": 1}, "Expected `str`, got `int` - at `$.id`"),
        ({**GOOD, "id": ""}, "Expected `str` of length >= 1 - at `$.id`"),
        ({k: v for k, v in GOOD.items() if k != "author"}, "missing required field `author`"),
        ({**GOOD, "text": 5}, "Expected `str`, got `int` - at `$.text`"),
        ({**GOOD, "created_at": "ieri"}, "Invalid RFC3339 encoded datetime - at `$.created_at`"),
        ({**GOOD, "created_at": "2026-01-01T10:00:00"}, "with a timezone component"),
        ({**GOOD, "author": {"id": "u", "role": "boss"}}, "Invalid enum value 'boss'"),
        ({**GOOD, "kind": "dm"}, "Invalid enum value 'dm' - at `$.kind`"),
        ({**GOOD, "text": "x" * 5001}, "5001 characters, over the limit of 5000"),
    ],
)
def test_malformed_comments_are_rejected_with_a_reason(
    mini_engine: Engine, payload: object, reason: str
) -> None:
    with pytest.raises(CommentError, match=re.escape(reason)) as parsed:
        mini_engine.moderate(payload, MemoryStrikeStore())
    with pytest.raises(CommentError, match=re.escape(reason)) as raw:
        mini_engine.moderate_json(orjson.dumps(payload), MemoryStrikeStore())
    assert parsed.value.kind == raw.value.kind == "invalid_comment"


@pytest.mark.parametrize("raw", [b"not json", b'{"id": "a",', b"", b"\xff\xfe"])
def test_bytes_that_are_not_json_are_rejected_as_such(mini_engine: Engine, raw: bytes) -> None:
    with pytest.raises(CommentError, match="invalid JSON") as info:
        mini_engine.moderate_json(raw, MemoryStrikeStore())
    assert info.value.kind == "invalid_json"


def test_optional_nulls_mean_defaults(mini_engine: Engine) -> None:
    nulls = {**GOOD, "kind": None, "lang": None, "author": {"id": "u", "role": None, "name": None}}
    assert mini_engine.moderate(nulls, MemoryStrikeStore())["actions"] == ["allow"]
    extra = {**GOOD, "platform_metadata": {"likes": 3}}  # unknown fields are ignored
    assert mini_engine.moderate_json(orjson.dumps(extra), MemoryStrikeStore())["actions"] == [
        "allow"
    ]


@given(st.floats(min_value=0, max_value=4e9))
def test_decided_at_is_iso_8601_utc_with_milliseconds(moment: float) -> None:
    expected = datetime.fromtimestamp(int(moment * 1000) / 1000, UTC)
    assert _Timestamps(lambda: moment).now() == expected.isoformat(timespec="milliseconds")


def test_overturned_strikes_count_for_nothing_and_are_not_counted_again() -> None:
    from streamproc.core import overturn_strike, record_strike

    number, strikes = record_strike(None, "c1", 1000.0, "conduct", 90, 90)
    assert number == 1 and strikes is not None
    number, strikes = record_strike(strikes, "c2", 2000.0, "conduct", 90, 90)
    assert number == 2 and strikes is not None
    overturned = overturn_strike(strikes, "c1")
    assert overturned is not None and overturned[0][4] == "overturned"
    assert overturn_strike(overturned, "c1") is None  # already overturned
    assert overturn_strike(overturned, "nope") is None
    assert record_strike(overturned, "c1", 1000.0, "conduct", 90, 90) == (1, None)  # a replay
    assert record_strike(overturned, "c2", 2000.0, "conduct", 90, 90) == (2, None)  # as before
    number, after = record_strike(overturned, "c3", 3000.0, "conduct", 90, 90)
    assert number == 2  # c2 and c3: c1 does not count
    assert record_strike(after, "c3", 3000.0, "conduct", 90, 90) == (2, None)  # a replay
    old_format = [["c1", 1000.0, "conduct"], ["c2", 2000.0, "conduct"]]
    assert record_strike(old_format, "c2", 2000.0, "conduct", 90, 90) == (2, None)


def test_a_replay_keeps_its_number_when_old_strikes_were_dropped() -> None:
    from streamproc.core import record_strike
    from streamproc.core._strikes import MAX_STRIKES_KEPT

    strikes = None
    numbers = {}
    for i in range(MAX_STRIKES_KEPT + 5):
        numbers[f"c{i}"], strikes = record_strike(strikes, f"c{i}", 1000.0 + i, "conduct", 90, 90)
    assert numbers["c0"] == 1 and numbers[f"c{MAX_STRIKES_KEPT}"] == MAX_STRIKES_KEPT + 1
    assert strikes is not None and len(strikes) == MAX_STRIKES_KEPT  # the oldest dropped
    for comment_id, at, _ladder, _number in strikes:
        assert record_strike(strikes, comment_id, at, "conduct", 90, 90) == (
            numbers[comment_id],
            None,
        )
