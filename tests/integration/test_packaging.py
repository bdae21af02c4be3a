"""`pip install .` (not editable) carries everything the engine needs: the default policy pack,
the demo's sample, the Kafka resources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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
        "import streamproc.core as c, streamproc.demo as d, orjson; "
        "e = c.Engine(c.load_pack()); "
        "print(c.DEFAULT_PACK_PATH); "
        "print(len(d.sample_lines())); "
        "print(e.moderate_json(d.sample_lines()[0], c.MemoryStrikeStore())['policy_version'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=True,
    )
    path, samples, version = result.stdout.split()
    assert Path(path).is_relative_to(target)
    assert int(samples) > 400 and version.startswith("2026.11.0+")
