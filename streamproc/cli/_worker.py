"""``streamproc worker``: run the streaming moderation worker."""

from __future__ import annotations

from pathlib import Path

import click

from streamproc.cli._common import SettingsCommand


def _settings_help() -> str:
    from streamproc.worker._settings import WorkerSettings

    return WorkerSettings.help()


@click.command(cls=SettingsCommand, settings_help=_settings_help)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Pack to use while the policy topic holds none [STREAMPROC_POLICY].",
)
@click.option("--metrics-port", type=int, help="[STREAMPROC_METRICS_PORT]")
@click.option("--batch-size", type=int, help="[STREAMPROC_BATCH_SIZE]")
@click.option("--instance-id", help="[STREAMPROC_INSTANCE_ID]")
def worker(
    policy_path: Path | None,
    metrics_port: int | None,
    batch_size: int | None,
    instance_id: str | None,
) -> None:
    """Moderate the channel topics into moderation.actions, until stopped.

    Kafka is found through STREAMPROC_BROKER and the SASL/TLS variables (see the README). Run
    `streamproc topics apply` first: the worker creates no topics.
    """
    from streamproc._settings import SettingsError
    from streamproc.kafka import KafkaSettingsError, KafkaUnavailableError
    from streamproc.worker import WorkerSettings, run_worker

    try:
        settings = WorkerSettings.from_env(
            policy_path=policy_path,
            metrics_port=metrics_port,
            batch_size=batch_size,
            instance_id=instance_id,
        )
    except (KafkaSettingsError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        run_worker(settings)
    except KafkaUnavailableError as exc:
        raise click.ClickException(f"Kafka at {settings.kafka.describe()}: {exc}") from None
