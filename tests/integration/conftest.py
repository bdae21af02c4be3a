"""Fixtures shared by the integration tests that need more than the broker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def copy_sources(source: Path) -> Path:
    """A copy of what a build reads (so that a build leaves nothing in the working tree)."""
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, source)
    for tree in ("streamproc", "build_backend"):
        shutil.copytree(REPO / tree, source / tree, ignore=shutil.ignore_patterns("__pycache__"))
    return source


def pip_install_copy(root: Path, env: dict[str, str] | None = None) -> Path:
    """``pip install --target`` of a copy of the sources, with ``env`` added to the
    environment; the directory to put on PYTHONPATH."""
    source = copy_sources(root / "src")
    target = root / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target)]
    subprocess.run(
        [*pip, str(source)],
        check=True,
        capture_output=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    return target


def run_python_on(path: Path | str, code: str, *args: str, cwd: Path) -> str:
    """Run Python ``code`` (with ``args``) where ``path`` alone provides streamproc (an install
    directory, or the sources), not the checkout or its editable install; its stdout."""
    result = subprocess.run(
        [sys.executable, "-P", "-c", code, *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
        cwd=cwd,
        check=True,
        timeout=300,
    )
    return result.stdout


@pytest.fixture(scope="session")
def non_editable_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --target`` of the package (not editable, so with the core compiled),
    done once per session: the directory to put on PYTHONPATH."""
    return pip_install_copy(tmp_path_factory.mktemp("install"))
