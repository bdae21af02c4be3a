"""The worker's long-lived heap is frozen out of the cyclic collector's generations."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from streamproc.core import Engine, PolicyPack
from streamproc.worker import _heap


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the session collects as usual


def tracked(obj: object) -> bool:
    """Whether the collector's generations (not the frozen one) hold ``obj``."""
    return any(o is obj for o in gc.get_objects())


class Cyclic:
    """A policy's objects that only the cyclic collector can free (they refer to each other)."""

    def __init__(self) -> None:
        self.me = self


def test_settling_freezes_the_engine_built_at_start_up(mini_pack: PolicyPack) -> None:
    engine = Engine(mini_pack)
    assert gc.is_tracked(engine) and tracked(engine)
    before = gc.get_freeze_count()
    frozen = _heap.settle()
    assert frozen == gc.get_freeze_count() > before
    assert not tracked(engine)  # full collections no longer traverse it
    parts = [v for v in vars(engine).values() if gc.is_tracked(v)]  # its tables, its matcher
    assert parts and not any(tracked(part) for part in parts)


def test_a_policy_swap_collects_the_old_policy_and_freezes_the_new_one(
    mini_pack: PolicyPack,
) -> None:
    old = Cyclic()
    gone = weakref.ref(old)
    _heap.settle()
    assert gone() is not None and not tracked(old)
    del old  # the swap drops the old policy; frozen, its cycle would never be collected
    new = Engine(mini_pack)
    assert tracked(new)
    frozen = _heap.resettle()
    assert gone() is None
    assert frozen == gc.get_freeze_count() > 0
    assert not tracked(new)
