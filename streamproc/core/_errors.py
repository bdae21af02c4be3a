"""The root of streamproc's exceptions (re-exported as ``streamproc.StreamprocError``).

Every error streamproc raises on purpose derives from :class:`StreamprocError`, and also from
the built-in it refines (``ValueError`` for bad input, ``ConnectionError``, ``RuntimeError``),
so that callers can catch either. It lives in the core because the core is the one room every
other room may import.
"""

from __future__ import annotations

__all__ = ["StreamprocError"]


class StreamprocError(Exception):
    """Base class of every exception streamproc raises on purpose."""
