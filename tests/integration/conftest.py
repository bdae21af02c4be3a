"""Fixtures shared by the integration tests that need more than the broker."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def non_editable_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --target`` of the package (not editable), done once per session: the
    directory to put on PYTHONPATH. Built from a copy of the sources, so the build leaves
    nothing in the working tree."""
    root = tmp_path_factory.mktemp("install")
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    shutil.copytree(
        REPO / "streamproc", source / "streamproc", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = root / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target)]
    subprocess.run(
        [*pip, str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target
