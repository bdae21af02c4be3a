"""``streamproc review``: the review console and its accounts."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

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


def _engine() -> Any:
    from streamproc.review import ReviewSettings, open_database

    try:
        return open_database(ReviewSettings.from_env().database_url)
    except (KafkaSettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@review.command("export", cls=SettingsCommand, settings_help=_review_help)
@click.argument("what", type=click.Choice(["audit", "cases"]))
@click.option("--since", type=click.DateTime(), help="From this UTC time on (inclusive).")
@click.option("--until", type=click.DateTime(), help="Before this UTC time.")
@click.option(
    "--include-employees", is_flag=True, help="cases: employees' cases too (compliance's records)."
)
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="CSV file (-)."
)
def export(
    what: str,
    since: datetime | None,
    until: datetime | None,
    include_employees: bool,
    output: TextIO,
) -> None:
    """CSV for the institution's records: the audit trail, or the cases as decision skeletons
    (rules, actions, policy version, status; no comment text, no author)."""
    from streamproc.review import export_audit, export_cases

    engine = _engine()
    try:
        if what == "audit":
            count = export_audit(engine, output, since, until)
        else:
            count = export_cases(engine, output, since, until, include_employees)
    finally:
        engine.dispose()
    click.echo(f"exported {count} {what} rows", err=True)


@review.command(cls=SettingsCommand, settings_help=_review_help)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Purge cases older than this [STREAMPROC_REVIEW_RETENTION_DAYS].",
)
def purge(days: int | None) -> None:
    """Apply the retention period now (the service also does it every 10 minutes): cases older
    than it keep their decision skeleton and lose the comment's text and personal data."""
    from streamproc.review import ReviewSettings, purge_expired

    try:
        days = days or ReviewSettings.from_env().retention_days
    except (KafkaSettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if not days:
        raise click.ClickException("STREAMPROC_REVIEW_RETENTION_DAYS is 0 (never purge); --days N")
    engine = _engine()
    try:
        done = purge_expired(engine, timedelta(days=days))
    finally:
        engine.dispose()
    click.echo(
        f"purged {done.cases} cases older than {days} days ({done.comments} comments, "
        f"{done.appeals} appeal statements, {done.outbox} sent review records)"
    )
