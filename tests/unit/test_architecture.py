"""ARCHITECTURE.md's import rules, checked on every import of every module of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "streamproc"
SERVICES = {"worker", "connect", "sink", "review"}
GROUND = "ground floor"


def room(module: str) -> str:
    """The room of a dotted module name inside streamproc."""
    parts = module.split(".")
    if len(parts) == 1:
        return GROUND  # streamproc itself (its face)
    top = parts[1]
    if top.startswith("_") or top == "batch":
        return GROUND
    return top


ALLOWED = {
    "core": {"core"},
    GROUND: {"core", GROUND},
    "kafka": {"core", GROUND, "kafka"},
    **{service: {"core", GROUND, "kafka", service} for service in SERVICES},
    "local": {"core", GROUND, "kafka", "local", *SERVICES},
    "cli": {"core", GROUND, "kafka", "local", "cli", *SERVICES},
}


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("streamproc")]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("streamproc")
        ):
            found.append((node.lineno, str(node.module)))
    return found


MODULES = sorted(
    p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts and p.name != "__main__.py"
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_each_room_imports_only_what_architecture_md_allows(path: Path) -> None:
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    here = room(module)
    if path.name == "__init__.py" and module == "streamproc":
        here = GROUND
    wrong = [
        f"line {line}: {name} ({room(name)})"
        for line, name in imports(path)
        if room(name) not in ALLOWED[here]
    ]
    assert wrong == [], f"{module} ({here}) may not import: {wrong}"


def test_every_room_is_known() -> None:
    rooms = {room(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)) for p in MODULES}
    assert rooms <= set(ALLOWED) | {"packs", "samples"}, rooms - set(ALLOWED)
