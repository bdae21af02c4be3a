"""``streamproc worker``: run the streaming moderation worker."""

from __future__ import annotations

from pathlib import Path

import click

from streamproc.kafka import KafkaSettingsError


@click.command()
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Pack to use while the policy topic holds none (default: the bundled pack).",
)
@click.option("--metrics-port", type=int, help="Prometheus endpoint port (0: none). [9464]")
@click.option("--batch-size", type=int, help="Comments per batch at most. [1000]")
@click.option("--instance-id", help="Static group membership id (fast restarts).")
def worker(
    policy_path: Path | None,
    metrics_port: int | None,
    batch_size: int | None,
    instance_id: str | None,
) -> None:
    """Moderate the channel topics into moderation.actions, until stopped.

    Connection and defaults come from the environment: STREAMPROC_BROKER (and the SASL/TLS
    variables), STREAMPROC_POLICY, STREAMPROC_METRICS_PORT, STREAMPROC_BATCH_SIZE,
    STREAMPROC_INSTANCE_ID, STREAMPROC_WORKER_DIR,
    STREAMPROC_LOG_LEVEL. Run `streamproc topics apply` first: the worker creates no topics.
    """
    from streamproc.worker import WorkerSettings, run_worker

    try:
        settings = WorkerSettings.from_env(
            policy_path=policy_path,
            metrics_port=metrics_port,
            batch_size=batch_size,
            instance_id=instance_id,
        )
    except (KafkaSettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    run_worker(settings)
