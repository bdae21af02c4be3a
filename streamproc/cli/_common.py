"""Helpers shared by the commands."""

from __future__ import annotations

from pathlib import Path

import click

from streamproc.core import Engine, PackError, load_pack


def load_engine_or_exit(policy_path: Path | None) -> Engine:
    """The engine for the pack at ``policy_path`` (default if None), or exit with its errors."""
    try:
        return Engine(load_pack(policy_path))
    except PackError as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        raise SystemExit(2) from None
