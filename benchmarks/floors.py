"""Floors under the suite's ratios: a run fails when a ratio falls below its floor.

Floors live in ``benchmarks/floors.toml``, one table per ratio::

    [ratios."engine.default_pack"]
    floor = 0.25
    quick = true   # the quick run must measure it (a ratio that silently vanishes fails too)
    note = "how the floor was set"

Only ratios are checked, never absolute times: a ratio compares a candidate with a baseline
measured side by side in the same run, so it survives a noisy or slower machine.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

FLOORS_PATH = Path(__file__).resolve().parent / "floors.toml"


class FloorsError(ValueError):
    """The floors file is malformed."""


@dataclass(frozen=True)
class Floor:
    ratio: str
    floor: float
    note: str
    quick: bool = False


@dataclass(frozen=True)
class FloorCheck:
    ratio: str
    floor: float
    value: float | None  # None: not measured in this run
    required: bool  # whether this run had to measure it

    @property
    def passed(self) -> bool:
        if self.value is None:
            return not self.required
        return not math.isnan(self.value) and self.value >= self.floor

    def describe(self) -> str:
        if self.value is None:
            state = "MISSING" if self.required else "not measured"
            return f"{self.ratio}: {state} (floor {self.floor:.2f})"
        verdict = "ok" if self.passed else "BELOW FLOOR"
        return f"{self.ratio}: {self.value:.2f} (floor {self.floor:.2f}) {verdict}"


def parse_floors(text: str) -> dict[str, Floor]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FloorsError(f"floors: {error}") from error
    tables = data.get("ratios")
    if not isinstance(tables, dict):
        raise FloorsError("floors: a [ratios.NAME] table per ratio is expected")
    floors: dict[str, Floor] = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise FloorsError(f"floors: ratios.{name} is not a table")
        floor, note, quick = table.get("floor"), table.get("note"), table.get("quick", False)
        if isinstance(floor, bool) or not isinstance(floor, int | float) or floor < 0:
            raise FloorsError(f"floors: ratios.{name}.floor must be a number >= 0")
        if not isinstance(note, str) or not note.strip():
            raise FloorsError(f"floors: ratios.{name}.note must say how the floor was set")
        if not isinstance(quick, bool):
            raise FloorsError(f"floors: ratios.{name}.quick must be true or false")
        floors[name] = Floor(name, float(floor), note.strip(), quick)
    return floors


def load_floors(path: Path = FLOORS_PATH) -> dict[str, Floor]:
    return parse_floors(path.read_text(encoding="utf-8"))


def check_floors(
    ratios: Mapping[str, float],
    floors: Mapping[str, Floor],
    *,
    quick: bool,
    sections: Iterable[str] | None = None,
) -> list[FloorCheck]:
    """One check per floor, in the file's order. In a quick run, floors marked ``quick`` must
    have been measured, if their section (the name before the first dot) ran: ``sections``, all
    when None; other floors are checked when their ratio was measured."""
    ran = None if sections is None else set(sections)

    def required(name: str, floor: Floor) -> bool:
        return quick and floor.quick and (ran is None or name.split(".", 1)[0] in ran)

    return [
        FloorCheck(name, floor.floor, ratios.get(name), required=required(name, floor))
        for name, floor in floors.items()
    ]


def failures(checks: list[FloorCheck]) -> list[FloorCheck]:
    return [check for check in checks if not check.passed]
