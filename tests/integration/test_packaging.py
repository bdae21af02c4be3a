"""`pip install .` (not editable) carries everything the engine needs: the default policy pack,
the demo's sample, the Kafka resources."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

import streamproc
from benchmarks.corpus import ndjson_lines
from streamproc.core import load_pack

from .conftest import copy_sources, pip_install_copy, run_python_on


def test_a_non_editable_install_moderates_with_the_bundled_pack(
    non_editable_install: Path, tmp_path: Path
) -> None:
    target = non_editable_install
    installed = target / "streamproc"
    pack = installed / "packs" / "default"
    assert (pack / "policy.yaml").is_file() and (pack / "PROVENANCE.md").is_file()
    assert len(list((pack / "lexicons").glob("*/*.txt"))) == 20
    assert (installed / "packs" / "FORMAT.md").is_file()
    assert (installed / "samples" / "comments.ndjson").is_file()
    assert (installed / "py.typed").is_file()
    probe = (
        "import streamproc.core as c, streamproc.local._demo as d, orjson; "
        "e = c.Engine(c.load_pack()); "
        "print(c.DEFAULT_PACK_PATH); "
        "print(len(d.sample_lines())); "
        "print(e.moderate_json(d.sample_lines()[0], c.MemoryStrikeStore())['policy_version'])"
    )
    path, samples, version = run_python_on(target, probe, cwd=tmp_path).split()
    assert Path(path).is_relative_to(target)
    assert int(samples) > 400 and version.startswith("2026.11.0+")


_DECIDE_ALL = """
import sys, orjson
import streamproc.core as c
assert c.COMPILED == (sys.argv[1] == "compiled"), c.COMPILED
engine = c.Engine(c.load_pack(), clock=lambda: 0.0)
store = c.MemoryStrikeStore()
with open(sys.argv[2], "rb") as src, open(sys.argv[3], "wb") as out:
    for line in src:
        try:
            out.write(orjson.dumps(engine.moderate_json(line.rstrip(b"\\n"), store)) + b"\\n")
        except c.CommentError as exc:
            out.write(orjson.dumps({"error": exc.kind, "reason": exc.reason}) + b"\\n")
"""


def _evasive_lines(count: int) -> list[bytes]:
    """Lexicon words and phrases written the way evaders write them, amid ordinary text."""
    rng = random.Random(11)
    words = [e.words for e in load_pack().entries]
    noise = ["\u200b", "\u00ad", "👍", "😂", "❤️", "’", "...", " ", "-", ".", "İ", "ß", "К", "о",
             "0", "1", "3", "@", "$", "bit.ly/x", "www.x.example", "RSSMRA85T10A562S",
             "348 118 9739", "a.b@example.com", "IT60 X054 2811 1010 0000 0123 456"]  # fmt: skip
    lines = []
    for i in range(count):
        text = []
        for ch in rng.choice(words):
            roll = rng.random()
            text.append(
                rng.choice(noise) + ch if roll < 0.04
                else ch.upper() if roll < 0.08
                else ch * 3 if roll < 0.1
                else ch + rng.choice(" .-") if roll < 0.13
                else ch
            )  # fmt: skip
        comment = {
            "id": f"ev-{i}",
            "channel": "facebook",
            "author": {"id": f"u{i % 300}", "role": rng.choice(["public", "employee"])},
            "text": f"{rng.choice(noise)} ok {''.join(text)} davvero",
            "created_at": "2026-11-21T20:30:00+01:00",
        }
        lines.append(orjson.dumps(comment))
    return lines


def _decide_all(build: str, pythonpath: str, lines: Path, out: Path, cwd: Path) -> bytes:
    run_python_on(pythonpath, _DECIDE_ALL, build, str(lines), str(out), cwd=cwd)
    return out.read_bytes()


def test_the_installed_core_is_compiled_and_decides_exactly_as_the_sources_do(
    non_editable_install: Path, tmp_path: Path
) -> None:
    core = non_editable_install / "streamproc" / "core"
    compiled = {p.name.split(".")[0] for p in core.glob("*.so")}
    assert {"_engine", "_matcher", "_normalize", "_pii"} <= compiled
    lines = tmp_path / "comments.ndjson"
    corpus = ndjson_lines(15_000)
    lines.write_bytes(b"\n".join([*corpus, *_evasive_lines(5_000), b"{bad json"]) + b"\n")
    sources = str(Path(streamproc.__file__).parents[1])
    pure = _decide_all("pure", sources, lines, tmp_path / "pure.ndjson", tmp_path)
    built = str(non_editable_install)
    fast = _decide_all("compiled", built, lines, tmp_path / "c.ndjson", tmp_path)
    assert pure.count(b"\n") == 20_001
    assert pure.count(b'"matches":[{') > 2_000  # the comparison covers real matches
    assert fast == pure


@pytest.mark.parametrize(
    "env",
    [{"STREAMPROC_PURE_PYTHON": "1"}, {"CC": "/bin/false"}],
    ids=["opted-out", "no-c-compiler"],
)
def test_without_compilation_the_install_is_pure_python_and_works(
    env: dict[str, str], tmp_path: Path
) -> None:
    target = pip_install_copy(tmp_path, env)
    assert not list((target / "streamproc").rglob("*.so"))
    lines = tmp_path / "comments.ndjson"
    lines.write_bytes(b"\n".join(ndjson_lines(200)) + b"\n")
    out = _decide_all("pure", str(target), lines, tmp_path / "out.ndjson", tmp_path)
    assert out.count(b"\n") == 200


def _fresh_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    return path / "bin" / "python"


def test_a_wheel_built_where_nothing_is_installed_has_the_compiled_core(tmp_path: Path) -> None:
    # What `pip install .` does on a fresh machine: the wheel is built before any dependency
    # is installed, so the compiled build must bring what mypyc needs with it.
    python = _fresh_venv(tmp_path / "venv")
    source = copy_sources(tmp_path / "src")
    result = subprocess.run(
        [str(python), "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path / "dist"),
         str(source)],
        capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("streamproc-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        note = json.loads(archive.read("streamproc/core/_build.json"))
    assert note == {"compiled": True, "reason": None}, result.stderr[-3000:]
    assert any(n.startswith("streamproc/core/_engine.") and n.endswith(".so") for n in names)
    assert "project.license" not in result.stderr  # no setuptools deprecation warning


def test_an_editable_install_never_runs_mypyc(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    source = copy_sources(tmp_path / "src")
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-v", "--no-deps", "-e", str(source)],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert "Collecting mypy" not in output and "mypyc" not in output.lower().replace(
        "mypyc-compiled", ""
    ), output[-3000:]
    assert not list(source.rglob("*.so"))
