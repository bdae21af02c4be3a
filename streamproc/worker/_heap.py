"""The worker's long-lived objects, kept out of the cyclic garbage collector's way.

A compiled policy (the lexicon automaton's Python side, the pack's rules and tables) and the
objects built at start-up live as long as the process, yet every full collection traverses them
all again: with the default pack that was 250-330 ms with the event loop stopped, mid-stream.
Once they are built, :func:`settle` collects what start-up left behind and freezes the rest
(``gc.freeze``): frozen objects sit in a permanent generation the collector never visits, while
reference counting still frees them. After a policy swap :func:`resettle` unfreezes first, so
that the replaced engine's cycles can be collected, then freezes the new heap: one full pause
per swap instead of one every few seconds.
"""

from __future__ import annotations

import gc

__all__ = ["resettle", "settle"]


def settle() -> int:
    """Collect the garbage start-up left, freeze every object alive; how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def resettle() -> int:
    """The same after a policy swap: the replaced policy's objects are released first."""
    gc.unfreeze()
    return settle()
