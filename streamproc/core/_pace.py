"""Pausing a long pack compilation so that the thread it runs in leaves the interpreter to others.

A worker compiles a newly published pack in a thread while its event loop keeps deciding
comments; a 100k-term pack is seconds of pure Python, and two busy threads share the interpreter
lock about evenly, so the stream would run at half speed for all that time. Inside
:func:`pausing`, the compilation's long loops call ``pause`` every :data:`EVERY` items; the
worker's pause sleeps in proportion to the work done (see ``streamproc.worker._policy``). The
core itself never sleeps: it only calls what it is given, and nothing at all by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final, TypeVar

__all__ = ["EVERY", "paced", "pausing"]

T = TypeVar("T")
EVERY: Final = 256
_PAUSE: ContextVar[Callable[[], None] | None] = ContextVar("streamproc_pause", default=None)


@contextmanager
def pausing(pause: Callable[[], None]) -> Iterator[None]:
    """Compilations in this thread (or task) call ``pause`` between chunks of work."""
    token = _PAUSE.set(pause)
    try:
        yield
    finally:
        _PAUSE.reset(token)


def paced(items: Iterable[T]) -> Iterator[T]:
    """``items``, with a call to the current pause every :data:`EVERY` of them."""
    pause = _PAUSE.get()
    if pause is None:
        yield from items
        return
    for index, item in enumerate(items):
        if index % EVERY == 0:
            pause()
        yield item
