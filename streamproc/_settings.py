"""Settings objects: every field read from one ``STREAMPROC_*`` variable, its default written once.

A service's settings are a frozen dataclass whose fields are declared with :func:`env_field`;
:func:`from_env` reads them (with a clear error naming the variable), :func:`settings_help`
lists them for ``--help``, and a command-line option overrides a field by name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from streamproc._env import env_secret
from streamproc.core._errors import StreamprocError

__all__ = ["SettingsError", "env_field", "from_env", "settings_help"]

S = TypeVar("S")


class SettingsError(StreamprocError, ValueError):
    """A ``STREAMPROC_*`` variable has a value that cannot be used."""


def _text(value: str) -> str:
    return value


def _optional_text(value: str) -> str | None:
    return value or None


def _path(value: str) -> Path:
    return Path(value).expanduser()


# The field types settings use (annotations are strings under postponed evaluation).
PARSERS: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "str": _text,
    "str | None": _optional_text,
    "Path": _path,
    "Path | None": _path,
}


def env_field(
    variable: str,
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    parse: Callable[[str], Any] | None = None,
    default_factory: Callable[[], Any] | None = None,
    shown: str | None = None,
    secret: bool = False,
    repr: bool | None = None,
) -> Any:
    """A settings field read from ``variable``; ``shown`` is how ``--help`` shows the default.

    A ``secret`` is also read from the file ``variable_FILE`` names (a mounted secret) and is
    never in the settings' repr (``repr`` says so for any field)."""
    metadata = {"env": variable, "help": help, "parse": parse, "shown": shown, "secret": secret}
    shown_in_repr = not secret if repr is None else repr
    if default_factory is not None:
        return dataclasses.field(
            default_factory=default_factory, metadata=metadata, repr=shown_in_repr
        )
    return dataclasses.field(default=default, metadata=metadata, repr=shown_in_repr)


def _parser(field: dataclasses.Field[Any]) -> Callable[[str], Any]:
    parse = field.metadata.get("parse")
    if parse is not None:
        return parse  # type: ignore[no-any-return]
    return PARSERS[str(field.type)]


def from_env(cls: type[S], environ: Mapping[str, str] | None = None, **overrides: Any) -> S:
    """``cls`` from the environment; ``overrides`` (e.g. command-line options) win when not None."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        variable = field.metadata.get("env")
        if variable is None:
            continue
        raw = env.get(variable, "").strip()
        if not raw and field.metadata.get("secret"):
            try:
                raw = env_secret(env, variable) or ""  # from NAME_FILE
            except ValueError as exc:  # names the file's variable, never the secret
                raise SettingsError(str(exc)) from None
        if raw:
            try:
                values[field.name] = _parser(field)(raw)
            except ValueError:
                shown = "<secret>" if field.metadata.get("secret") else repr(raw)
                raise SettingsError(f"{variable}={shown}: {_expected(field)}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**values)


def _expected(field: dataclasses.Field[Any]) -> str:
    kind = str(field.type)
    if "int" in kind:
        return "expected an integer"
    if "float" in kind:
        return "expected a number"
    return "not a valid value"


def _default(field: dataclasses.Field[Any]) -> str:
    shown = field.metadata.get("shown")
    if shown is not None:
        return str(shown)
    if field.default is not dataclasses.MISSING:
        return "" if field.default is None else str(field.default)
    return ""


def settings_help(cls: type[Any]) -> str:
    """One line per variable of ``cls``: name, default, meaning (for a command's epilog)."""
    rows = []
    for field in dataclasses.fields(cls):
        variable = field.metadata.get("env")
        if variable:
            default = _default(field)
            rows.append(f"{variable}={default}  {field.metadata.get('help', '')}".rstrip())
    return "\n".join(rows)
