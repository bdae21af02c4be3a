"""constraints.txt pins every dependency pyproject.toml declares (runtime and test), so that the
README's commands and CI install the versions that were tested together."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def test_every_declared_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    # The extras scripts/dev.sh installs (the `bench` extra, for the full peers run, is not).
    declared |= {_name(r) for r in project["optional-dependencies"]["test"]}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[_name(name)] = version
    missing = sorted(declared - set(pins))
    assert missing == [], f"run `scripts/dev.sh lock`: {missing} are not in constraints.txt"
