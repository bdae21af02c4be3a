"""Helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from streamproc.core import Engine, PackError, PolicyPack, load_pack, parse_pack, read_pack_files


class SettingsCommand(click.Command):
    """A command whose ``--help`` ends with its service's settings (variables and defaults),
    read only when help is shown (so that the other commands need not import the service)."""

    def __init__(self, *args: Any, settings_help: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings_help = settings_help

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text("Environment (an option overrides its variable):")
        with formatter.indentation():
            for line in self.settings_help().splitlines():
                formatter.write(f"{' ' * formatter.current_indent}{line}\n")


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
