"""The build backend: setuptools, with the policy core compiled by mypyc only where it is used.

``pip install .`` builds a wheel: the core's hot modules are compiled (setup.py), so that
build, and only that build, needs mypy and the type information of the core's dependencies.
Every other hook (the metadata step, sdists, editable installs) builds pure Python and does
not install mypy at all: an editable install must reflect edits at once, and the metadata is
the same either way. ``STREAMPROC_PURE_PYTHON=1`` makes a wheel pure as well.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  # the hooks this backend does not change
    build_sdist,
    get_requires_for_build_sdist,
)

#: What compiling the core needs besides setuptools: mypy (mypyc) and the types it checks.
COMPILE_REQUIRES = ["mypy>=1.10", "msgspec>=0.18", "types-PyYAML"]
_PURE = "STREAMPROC_PURE_PYTHON"


def _pure_requested() -> bool:
    return os.environ.get(_PURE, "") not in ("", "0")


@contextmanager
def _pure() -> Iterator[None]:
    previous = os.environ.get(_PURE)
    os.environ[_PURE] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[_PURE]
        else:
            os.environ[_PURE] = previous


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    with _pure():  # setup.py must not compile to say what compiling needs
        requires = list(_setuptools.get_requires_for_build_wheel(config_settings))
    return requires if _pure_requested() else requires + COMPILE_REQUIRES


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Any = None) -> str:
    with _pure():
        return str(
            _setuptools.prepare_metadata_for_build_wheel(metadata_directory, config_settings)
        )


def build_wheel(
    wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None
) -> str:
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    with _pure():
        return list(_setuptools.get_requires_for_build_editable(config_settings))


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: Any = None
) -> str:
    with _pure():
        return str(
            _setuptools.prepare_metadata_for_build_editable(metadata_directory, config_settings)
        )


def build_editable(
    wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None
) -> str:
    with _pure():
        return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))
