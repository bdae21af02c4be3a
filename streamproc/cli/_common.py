"""Helpers shared by the commands."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from streamproc.core import Engine, PackError, PolicyPack, load_pack, parse_pack, read_pack_files


def exit_with_issues(exc: PackError, status: int = 1) -> NoReturn:
    """Print every issue of an unusable pack (file:line: level: message) and exit."""
    for issue in exc.issues:
        click.echo(str(issue), err=True)
    raise SystemExit(status)


def load_engine_or_exit(policy_path: Path | None) -> Engine:
    """The engine for the pack at ``policy_path`` (default if None), or exit with its errors."""
    try:
        return Engine(load_pack(policy_path))
    except PackError as exc:
        exit_with_issues(exc, 2)


def read_pack_or_exit(path: Path) -> tuple[dict[str, str], PolicyPack]:
    """The files and the validated pack at ``path``, or exit with its errors."""
    try:
        files = read_pack_files(path)
        return files, parse_pack(files)
    except PackError as exc:
        exit_with_issues(exc)
