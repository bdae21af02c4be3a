"""The floor check of the benchmark suite: ratios against the floors in benchmarks/floors.toml."""

from __future__ import annotations

import math

import pytest

from benchmarks.floors import (
    FloorsError,
    check_floors,
    failures,
    load_floors,
    parse_floors,
)

FLOORS = """
[ratios."engine.default_pack"]
floor = 0.25
quick = true
note = "half the ratio of the first committed quick run"

[ratios."engine.lexicon_1k"]
floor = 0.2
note = "full mode only"
"""


def test_a_ratio_at_or_above_its_floor_passes() -> None:
    floors = parse_floors(FLOORS)
    checks = check_floors({"engine.default_pack": 0.25}, floors, quick=True)
    assert not failures(checks)
    assert "ok" in checks[0].describe()


def test_a_ratio_below_its_floor_fails() -> None:
    floors = parse_floors(FLOORS)
    [failed] = failures(check_floors({"engine.default_pack": 0.249}, floors, quick=True))
    assert failed.ratio == "engine.default_pack"
    assert "BELOW FLOOR" in failed.describe()


def test_a_nan_ratio_fails() -> None:
    floors = parse_floors(FLOORS)
    assert failures(check_floors({"engine.default_pack": math.nan}, floors, quick=False))


def test_a_quick_ratio_missing_from_a_quick_run_fails_but_full_only_ones_do_not() -> None:
    floors = parse_floors(FLOORS)
    failed = failures(check_floors({}, floors, quick=True))
    assert [c.ratio for c in failed] == ["engine.default_pack"]
    assert "MISSING" in failed[0].describe()
    assert not failures(check_floors({}, floors, quick=False))


def test_full_only_ratios_are_checked_when_measured() -> None:
    floors = parse_floors(FLOORS)
    ratios = {"engine.default_pack": 0.5, "engine.lexicon_1k": 0.1}
    assert [c.ratio for c in failures(check_floors(ratios, floors, quick=False))] == [
        "engine.lexicon_1k"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "[ratios.x]\nfloor = 0.5\n",  # no note
        '[ratios.x]\nfloor = "high"\nnote = "n"\n',
        '[ratios.x]\nfloor = -1\nnote = "n"\n',
        '[ratios.x]\nfloor = true\nnote = "n"\n',
        '[ratios.x]\nfloor = 0.5\nnote = "n"\nquick = "yes"\n',
        "ratios = 3\n",
        "[ratios\n",
    ],
)
def test_malformed_floors_are_refused(text: str) -> None:
    with pytest.raises(FloorsError):
        parse_floors(text)


def test_the_committed_floors_parse_and_each_has_a_note() -> None:
    floors = load_floors()
    assert floors
    assert all(f.note and 0 < f.floor < 5 for f in floors.values())
    assert any(f.quick for f in floors.values())


def test_a_partial_quick_run_requires_only_the_floors_of_the_sections_it_ran() -> None:
    floors = parse_floors(
        FLOORS
        + """
[ratios."streaming.worker_vs_bare"]
floor = 0.3
quick = true
note = "a streaming floor"
"""
    )
    ratios = {"streaming.worker_vs_bare": 0.9}
    only_streaming = check_floors(ratios, floors, quick=True, sections=["streaming"])
    assert not failures(only_streaming)
    assert "not measured" in only_streaming[0].describe()  # engine.default_pack: not required
    everything = failures(check_floors(ratios, floors, quick=True))
    assert [c.ratio for c in everything] == ["engine.default_pack"]
    [missing] = failures(check_floors({}, floors, quick=True, sections=["streaming"]))
    assert missing.ratio == "streaming.worker_vs_bare"
