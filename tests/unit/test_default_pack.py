"""The default pack against labelled comments: what must never be flagged, what must be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from streamproc.core import (
    DEFAULT_PACK_PATH,
    Engine,
    MemoryStrikeStore,
    check_pack,
    load_pack,
    read_pack_files,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def rows(name: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (DATA / name).read_bytes().splitlines() if line]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack())


def moderate(engine: Engine, text: str, role: str = "public") -> dict[str, Any]:
    comment = {
        "id": "t",
        "channel": "facebook",
        "author": {"id": "a", "role": role},
        "text": text,
        "created_at": "2026-11-18T10:00:00+01:00",
    }
    return dict(engine.moderate(comment, MemoryStrikeStore()))


def test_the_default_pack_has_no_errors() -> None:
    issues = check_pack(read_pack_files(DEFAULT_PACK_PATH))
    assert [str(i) for i in issues if i.level == "error"] == []


def test_the_default_pack_is_a_few_thousand_terms(engine: Engine) -> None:
    banned = [e for e in engine.pack.entries if not e.is_allow]
    assert len(banned) >= 3000
    assert {e.lang for e in banned} == {"it", "en"}


PRECISION = rows("precision.jsonl")
VIOLATIONS = rows("violations.jsonl")


@pytest.mark.parametrize("row", PRECISION, ids=lambda r: r["text"][:40])
def test_lawful_comments_are_allowed(engine: Engine, row: dict[str, Any]) -> None:
    decision = moderate(engine, row["text"])
    assert decision["actions"] == ["allow"], decision["reasons"]


@pytest.mark.parametrize("row", VIOLATIONS, ids=lambda r: r["text"][:40])
def test_violations_get_their_categories(engine: Engine, row: dict[str, Any]) -> None:
    decision = moderate(engine, row["text"], row.get("role", "public"))
    assert set(row["categories"]) <= set(decision["categories"]), decision["reasons"]
    assert decision["actions"] != ["allow"]
