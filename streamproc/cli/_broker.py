"""``streamproc broker``: the embedded single-node Kafka broker (placeholder, being built)."""

import click


@click.group()
def broker() -> None:
    """Start and stop the local single-node Kafka broker."""
