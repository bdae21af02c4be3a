"""Hostile input through the engine's streaming path: every record gets exactly one decision or
one CommentError with a known kind (the worker turns it into a dead letter), whatever it holds;
and matching time grows linearly with the input (no pattern backtracks on user text)."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc import core
from streamproc._deadletter import KINDS
from streamproc.core import CommentError, Engine, MemoryStrikeStore

BLNS_FILE = Path(__file__).parent.parent / "data" / "blns" / "blns.base64.json"
# Each entry ends with the newline of the list's text form: the string is what precedes it.
BLNS = [
    base64.b64decode(s).decode("utf-8").removesuffix("\n")
    for s in orjson.loads(BLNS_FILE.read_bytes())
]

COMMENT_KINDS = {"invalid_json", "invalid_comment"}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(core.load_pack())


def _comment(text: str, author: str = "a1", cid: str = "c1") -> dict[str, object]:
    return {
        "id": cid,
        "channel": "facebook",
        "author": {"id": author, "name": "x"},
        "text": text,
        "created_at": "2026-11-18T10:30:00+01:00",
    }


def _outcome(engine: Engine, raw: bytes) -> str:
    """``decision`` or the CommentError's kind; any other exception fails the test."""
    try:
        decision = engine.moderate_json(raw, MemoryStrikeStore())
    except CommentError as exc:
        assert exc.kind in COMMENT_KINDS, exc.kind
        assert exc.kind in KINDS
        return exc.kind
    orjson.dumps(decision)  # serializable, as the worker writes it
    return "decision"


def test_the_list_is_the_whole_list() -> None:
    assert len(BLNS) > 450
    assert "" in BLNS and "Ω≈ç√∫˜µ≤≥÷" in BLNS


@pytest.mark.parametrize("where", ["text", "author id", "comment id", "name"])
def test_every_naughty_string_gets_one_outcome(engine: Engine, where: str) -> None:
    outcomes: dict[str, int] = {}
    for s in BLNS:
        fields = {
            "text": _comment(s),
            "author id": _comment("grazie", author=s),
            "comment id": _comment("grazie", cid=s),
            "name": {**_comment("grazie"), "author": {"id": "a1", "name": s}},
        }[where]
        kind = _outcome(engine, orjson.dumps(fields))
        outcomes[kind] = outcomes.get(kind, 0) + 1
    assert sum(outcomes.values()) == len(BLNS)
    if where in ("text", "name"):
        assert outcomes == {"decision": len(BLNS)}  # any text at all is a comment
    else:
        # An id must be a non-empty string: only the empty string is refused.
        assert outcomes == {"decision": len(BLNS) - 1, "invalid_comment": 1}


def _nested(depth: int) -> bytes:
    return b'{"id":"c1","extra":' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"", "invalid_json"),
        (b"null", "invalid_comment"),
        (b"[]", "invalid_comment"),
        (b'"a string"', "invalid_comment"),
        (b"\xff\xfe not utf-8", "invalid_json"),
        (orjson.dumps(_comment("ok"))[:-1] + b',"text":"again"}', "decision"),  # duplicate key
        (b'{"id":"c1","text":"x","n":1' + b"0" * 400 + b"}", "invalid_comment"),
        (_nested(10_000), "invalid_json"),
        (orjson.dumps(_comment("nul\x00byte")), "decision"),
        (orjson.dumps(_comment("\u202eevil\u202c override")), "decision"),
        (orjson.dumps(_comment("Z\u0351\u036b\u0343\u036a\u0302" * 800)), "decision"),
        (orjson.dumps(_comment("\U0001f600\U00010348" * 2000)), "decision"),
        (orjson.dumps(_comment("a" * 1_000_000)), "invalid_comment"),
        (orjson.dumps({**_comment("ok"), "author": "not an object"}), "invalid_comment"),
        (orjson.dumps({**_comment("ok"), "created_at": 12}), "invalid_comment"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_malformed_records(engine: Engine, raw: bytes, kind: str) -> None:
    assert _outcome(engine, raw) == kind


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(engine: Engine, raw: bytes) -> None:
    _outcome(engine, raw)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000), st.text(min_size=1, max_size=40))
def test_arbitrary_texts_and_authors_are_decided(engine: Engine, text: str, author: str) -> None:
    assert _outcome(engine, orjson.dumps(_comment(text, author=author))) == "decision"


# Inputs built to make a matcher or a validator backtrack: partial matches that never complete,
# long runs of what the folding and the personal-data scanners look at.
ADVERSARIAL = {
    "partial word": "stronz",
    "spaced letters": "s t r o n ",
    "dotted letters": "m.e.r.",
    "stretched": "o",
    "digits": "3",
    "digit groups": "333 12 ",
    "at signs": "a@b.",
    "link prefixes": "http:/",
    "iban-ish": "IT60X0",
    "combining marks": "a\u0301\u0302",
    "mixed scripts": "сtrоnzо ",
}


def _repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def _cost(engine: Engine, text: str) -> float:
    raw = orjson.dumps(_comment(text))
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        engine.moderate_json(raw, MemoryStrikeStore())
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_matching_time_grows_linearly(engine: Engine, name: str) -> None:
    unit = ADVERSARIAL[name]
    # 16 times the input, up to the longest text a comment may have: linear work costs ~16
    # times as much, quadratic ~256 times. A ratio of the same process's own times, never an
    # absolute time; the margin absorbs a noisy machine.
    small, large = _cost(engine, _repeat(unit, 300)), _cost(engine, _repeat(unit, 4800))
    assert large < 64 * max(small, 1e-4), (name, small, large)
