"""Build script: the policy core's hot modules are compiled with mypyc in a wheel build.

Everything else is in pyproject.toml; the build backend (build_backend/streamproc_build.py)
decides when to compile. The compiled modules are the same source files, made into C
extensions (as aiokafka and mypy itself ship theirs); the decisions are identical, about a fifth
faster (see benchmarks/README.md). The pure Python sources stay in the package, so:

- an editable install (``pip install -e .``) is never compiled, so edits take effect at once;
- ``STREAMPROC_PURE_PYTHON=1 pip install .`` skips compilation;
- if there is no C compiler, or compilation fails, the install goes on in pure Python, and
  says so: ``streamproc --version`` and every worker at start-up print the reason (the build
  writes it to ``streamproc/core/_build.json``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

COMPILED_MODULES = (
    "_normalize",
    "_context",
    "_matcher",
    "_rules",
    "_engine",
    "_verdict",
    "_pii",
    "_links",
    "_strikes",
    "_hours",
    "_topics",
    "_decode",
)
BUILD_NOTE = Path("streamproc") / "core" / "_build.json"

# Type checking is the test suite's job (strict, with every dependency installed). The build
# environment holds only the build requirements, so imports of the other runtime dependencies
# cannot be resolved there: mypyc treats them as Any, which changes nothing at run time.
_MYPY_FLAGS = [
    "--ignore-missing-imports",
    "--no-warn-unused-configs",
    "--no-warn-return-any",
    "--allow-subclassing-any",
    "--allow-untyped-calls",
    "--allow-untyped-decorators",
]

_failure: list[str] = []  # why the core is not compiled, if it should have been


def _fail(reason: str) -> None:
    _failure.append(reason)
    print(f"streamproc: {reason}; installing the pure Python core", file=sys.stderr)


def _write_note(build_lib: str, compiled: bool) -> None:
    note = Path(build_lib) / BUILD_NOTE
    if note.parent.is_dir():
        reason = _failure[-1] if _failure else None
        note.write_text(json.dumps({"compiled": compiled, "reason": reason}) + "\n")


class _BuildPy(build_py):
    """Say in the build whether the core is compiled (build_ext corrects it if it fails)."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            _write_note(self.build_lib, compiled=bool(self.distribution.ext_modules))


class _OptionalBuildExt(build_ext):
    """Build the compiled core if possible; otherwise leave the pure Python one in place.

    All or nothing: each compiled module needs mypyc's shared library, so after any failure
    every compiled module is removed again.
    """

    def run(self) -> None:
        self._remove_compiled(keep={ext.name.rpartition(".")[2] for ext in self.extensions})
        try:
            super().run()
        except Exception as exc:
            self._remove_compiled(keep=set())
            _fail(f"could not compile the core ({exc})")
            _write_note(self.build_lib, compiled=False)

    def _remove_compiled(self, keep: set[str]) -> None:
        """Remove the compiled modules in the build directory but ``keep``: setuptools copies
        everything there into the install, where a stale one (an earlier build's) or an
        orphan (of a failed build) would shadow or break the current sources."""
        for built in Path(self.build_lib).glob("**/*.so"):
            if built.name.split(".")[0] not in keep:
                built.unlink()


def _extensions() -> list[Any]:
    if os.environ.get("STREAMPROC_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify

        paths = [f"streamproc/core/{name}.py" for name in COMPILED_MODULES]
        return list(mypycify([*_MYPY_FLAGS, *paths], opt_level="3"))
    except BaseException as exc:  # mypyc exits through SystemExit on a type error
        _fail(f"mypyc is not available or failed ({exc!r})")
        return []


setup(
    ext_modules=_extensions(),
    cmdclass={"build_ext": _OptionalBuildExt, "build_py": _BuildPy},
)
