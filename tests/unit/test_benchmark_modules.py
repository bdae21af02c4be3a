"""Every benchmark module imports: CI runs them only after lint, types and before the tests, so a
broken import there (a renamed export, say) must fail here too, in seconds."""

import importlib
import pkgutil

import pytest

import benchmarks

MODULES = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))


def test_there_are_benchmark_modules() -> None:
    assert {"bench_engine", "bench_worker"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports(name: str) -> None:
    importlib.import_module(f"benchmarks.{name}")
