"""Where streamproc keeps things outside the repository: the cache directory."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir"]

#: Environment variable naming the cache directory (Kafka jars, local broker and worker data).
CACHE_ENV = "STREAMPROC_CACHE"


def cache_dir() -> Path:
    """``$STREAMPROC_CACHE``, else ``$XDG_CACHE_HOME/streamproc``, else ``~/.cache/streamproc``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "streamproc").resolve()
