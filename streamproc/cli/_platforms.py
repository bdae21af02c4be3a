"""``streamproc connect``, ``streamproc sink`` and ``streamproc directory``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from streamproc.cli._common import SettingsCommand
from streamproc.kafka import KafkaAuthenticationError, KafkaSettings, KafkaSettingsError


def _connect_help() -> str:
    from streamproc.connect import ConnectSettings

    return ConnectSettings.help()


def _sink_help() -> str:
    from streamproc.sink import SinkSettings

    return SinkSettings.help()


@click.command(cls=SettingsCommand, settings_help=_connect_help)
@click.option("--port", type=int, help="Port of the webhook server [STREAMPROC_CONNECT_PORT].")
def connect(port: int | None) -> None:
    """Turn the platforms' events into comments on comments.<channel>, until stopped.

    Serves /webhooks/facebook, /webhooks/instagram and /webhooks/twitter (plus /healthz,
    /readyz, /metrics) and polls YouTube and LinkedIn. Each platform is configured by its
    STREAMPROC_<PLATFORM>_* variables (see the README); one without credentials is skipped.
    """
    from streamproc.connect import ConnectSettings, run_connect

    try:
        settings = ConnectSettings.from_env(port=port)
    except (KafkaSettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        run_connect(settings)
    except KafkaAuthenticationError as exc:
        raise click.ClickException(f"Kafka at {settings.kafka.describe()}: {exc}") from None


@click.command(cls=SettingsCommand, settings_help=_sink_help)
def sink() -> None:
    """Carry out the decisions on moderation.actions on the platforms, until stopped.

    Everything comes from the environment (STREAMPROC_<PLATFORM>_* credentials, see the
    README); what it did goes to moderation.outcomes. A channel without credentials is skipped.
    """
    from streamproc.sink import SinkSettings, run_sink

    try:
        settings = SinkSettings.from_env()
    except (KafkaSettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        run_sink(settings)
    except KafkaAuthenticationError as exc:
        raise click.ClickException(f"Kafka at {settings.kafka.describe()}: {exc}") from None


@click.group()
def directory() -> None:
    """The employee directory compliance keeps (personal data: only counts are printed)."""


@directory.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
def publish_directory_command(path: Path, dry_run: bool) -> None:
    """Make connect.directory hold exactly the accounts of a CSV (columns channel, user_id).

    Accounts no longer in the file are removed. The connectors pick the change up at once.
    """
    from streamproc.connect import DirectoryError, parse_directory_csv, publish_directory

    try:
        keys = parse_directory_csv(path.read_text(encoding="utf-8-sig"))
    except DirectoryError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None
    try:
        settings = KafkaSettings.from_env()
    except KafkaSettingsError as exc:
        raise click.ClickException(str(exc)) from None
    report = asyncio.run(publish_directory(settings, keys, dry_run=dry_run))
    verb = "would add" if dry_run else "added"
    click.echo(
        f"{len(keys)} accounts in {path.name}: {verb} {report.added}, "
        f"{'would remove' if dry_run else 'removed'} {report.removed}, kept {report.kept}"
    )
