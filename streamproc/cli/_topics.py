"""``streamproc topics``: topics as code (placeholder, being built)."""

import click


@click.group()
def topics() -> None:
    """Create and compare the declared Kafka topics."""
