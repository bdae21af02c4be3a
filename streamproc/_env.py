"""Reading ``STREAMPROC_*`` settings: numbers with a clear error, secrets from the environment
or from a mounted file (``NAME_FILE``), never from the repository."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["env_float", "env_int", "env_secret", "env_str"]


def env_str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None


def env_secret(env: Mapping[str, str], name: str) -> str | None:
    """``name`` from the environment, else the contents of the file ``name_FILE`` names (a
    mounted secret), stripped of surrounding whitespace; None when neither is set."""
    value = env.get(name, "").strip()
    if value:
        return value
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        # The path is configuration, not a secret: it may be named.
        raise ValueError(f"{name}_FILE={path!r}: cannot read: {exc.strerror}") from None
    return text or None
