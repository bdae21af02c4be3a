"""Each package's public surface is exactly its ``__all__`` (as httpx's test of the same name)."""

from __future__ import annotations
import __future__

import importlib
from types import ModuleType

import pytest

PACKAGES = [
    "streamproc",
    "streamproc.core",
    "streamproc.kafka",
    "streamproc.local",
    "streamproc.worker",
    "streamproc.connect",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_the_public_names_are_exactly_all(name: str) -> None:
    package = importlib.import_module(name)
    public = [
        member
        for member in dir(package)
        if not member.startswith("_")
        and not isinstance(getattr(package, member), ModuleType | __future__._Feature)
    ]
    assert sorted(public) == sorted(n for n in package.__all__ if not n.startswith("_"))
    assert list(package.__all__) == sorted(package.__all__, key=lambda n: (not n.isupper(), n))
