"""``streamproc broker``: the embedded single-node Kafka broker for development and tests."""

from __future__ import annotations

from pathlib import Path

import click

from streamproc.local import BrokerError, KafkaFetchError, LocalBroker, default_broker_dir

_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="STREAMPROC_BROKER_DIR",
    default=None,
    help="Broker state directory [env STREAMPROC_BROKER_DIR; default: $STREAMPROC_CACHE/broker].",
)


def _broker(data_dir: Path | None, port: int | None = None) -> LocalBroker:
    return LocalBroker(data_dir or default_broker_dir(), port=port)


@click.group()
def broker() -> None:
    """Start and stop the local single-node Kafka broker (KRaft, from the Maven jars)."""


@broker.command()
@_DATA_DIR
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Client port [default: the port of the previous start, else 9092].",
)
@click.option(
    "--timeout", type=float, default=90.0, show_default=True, help="Seconds to wait for it."
)
def start(data_dir: Path | None, port: int | None, timeout: float) -> None:
    """Start the broker in the background; print its bootstrap address.

    Does nothing but print the address if it already runs. The first start fetches the Kafka
    jars with Maven into $STREAMPROC_CACHE (default ~/.cache/streamproc).
    """
    local = _broker(data_dir, port)
    click.echo(f"starting the Kafka broker in {local.data_dir} ...", err=True)
    try:
        bootstrap = local.start(timeout=timeout)
    except (BrokerError, KafkaFetchError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"broker running (pid {local.status().pid}, log {local.log_file})", err=True)
    click.echo(bootstrap)


@broker.command()
@_DATA_DIR
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for a clean shutdown before SIGKILL.",
)
def stop(data_dir: Path | None, timeout: float) -> None:
    """Stop the broker (SIGTERM, then SIGKILL after the timeout)."""
    local = _broker(data_dir)
    if local.stop(timeout=timeout):
        click.echo(f"broker stopped ({local.data_dir})")
    else:
        click.echo(f"broker was not running ({local.data_dir})")


@broker.command()
@_DATA_DIR
def status(data_dir: Path | None) -> None:
    """Show whether the broker runs; exit status 0 if it does, 3 if not."""
    current = _broker(data_dir).status()
    click.echo(current.describe())
    if not current.running:
        raise SystemExit(3)
