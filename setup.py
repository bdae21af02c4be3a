"""Build script: the policy core's hot modules are compiled with mypyc when installed.

Everything else is in pyproject.toml. The compiled modules are the same source files, made
into C extensions (as aiokafka and mypy itself ship theirs); the decisions are identical, about
a fifth faster (see benchmarks/README.md). The pure Python sources stay in the package, so:

- an editable install (``pip install -e .``) is never compiled, so edits take effect at once;
- ``STREAMPROC_PURE_PYTHON=1 pip install .`` skips compilation;
- if there is no C compiler, or compilation fails, the install goes on in pure Python
  with a warning, as aiokafka's does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED_MODULES = ("_normalize", "_matcher", "_engine", "_pii", "_links", "_strikes", "_hours")

# Type checking is the test suite's job (strict, with every dependency installed). The build
# environment holds only the build requirements, so imports of the runtime dependencies
# cannot be resolved there: mypyc treats them as Any, which changes nothing at run time.
_MYPY_FLAGS = [
    "--ignore-missing-imports",
    "--no-warn-unused-configs",
    "--no-warn-return-any",
    "--allow-subclassing-any",
    "--allow-untyped-calls",
    "--allow-untyped-decorators",
]


def _warn(message: str) -> None:
    print(f"streamproc: {message}; installing the pure Python core", file=sys.stderr)


class _OptionalBuildExt(build_ext):
    """Build the compiled core if possible; otherwise leave the pure Python one in place."""

    def run(self) -> None:
        self._drop_stale_builds()
        try:
            super().run()
        except Exception as exc:
            _warn(f"could not compile the core ({exc})")

    def _drop_stale_builds(self) -> None:
        """Remove compiled modules an earlier build left in the build directory: setuptools
        would copy them into this install, where they would shadow the current sources."""
        current = {ext.name.rpartition(".")[2] for ext in self.extensions}
        for built in Path(self.build_lib).glob("**/*.so"):
            if built.name.split(".")[0] not in current:
                built.unlink()

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"could not compile {ext.name} ({exc})")


def _extensions() -> list[Any]:
    if os.environ.get("STREAMPROC_PURE_PYTHON", "") not in ("", "0"):
        return []
    if {"editable_wheel", "develop"} & set(sys.argv):
        return []
    try:
        from mypyc.build import mypycify

        paths = [f"streamproc/core/{name}.py" for name in COMPILED_MODULES]
        return list(mypycify([*_MYPY_FLAGS, *paths], opt_level="3"))
    except BaseException as exc:  # mypyc exits through SystemExit on a type error
        _warn(f"mypyc is not available or failed ({exc!r})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": _OptionalBuildExt})
