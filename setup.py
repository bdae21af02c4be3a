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
            _warn(f"could not compile the core ({exc})")

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
