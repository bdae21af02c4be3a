"""``streamproc review``: the review console and its accounts."""

from __future__ import annotations

import sys

import click

from streamproc.cli._common import SettingsCommand
from streamproc.kafka import KafkaSettingsError


def _review_help() -> str:
    from streamproc.review import ReviewSettings

    return ReviewSettings.help()


@click.group()
def review() -> None:
    """The people's console: cases, reviews, appeals, the audit trail."""


@review.command(cls=SettingsCommand, settings_help=_review_help)
@click.option("--port", type=int, help="Port of the console [STREAMPROC_REVIEW_PORT].")
def serve(port: int | None) -> None:
    """Read decisions and outcomes into cases and serve the console, until stopped.

    The database schema is migrated at start (SQLite file by default, PostgreSQL by URL).
    """
    from streamproc.review import ReviewSettings, run_review

    try:
        settings = ReviewSettings.from_env(port=port)
    except (KafkaSettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    run_review(settings)


@review.group()
def users() -> None:
    """Accounts of the console."""


@users.command("add", cls=SettingsCommand, settings_help=_review_help)
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["reviewer", "compliance", "admin"]),
    required=True,
    help="reviewer; compliance (the only role that sees employees' cases); admin.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
def add_user(name: str, role: str, password_stdin: bool) -> None:
    """Add a user NAME; the password is prompted (twice) unless --password-stdin."""
    from streamproc.review import AccountError, Accounts, ReviewSettings, open_database

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        settings = ReviewSettings.from_env()
        engine = open_database(settings.database_url)
        Accounts(engine).add(name, role, password)
    except (AccountError, KafkaSettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {name} as {role}")
