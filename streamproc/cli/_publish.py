"""``streamproc publish``: replay NDJSON comments into the channel topics."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings, KafkaSettingsError, load_declarations


def _lines(path: Path | None) -> Iterator[bytes]:
    if path is None:
        yield from sys.stdin.buffer
        return
    with path.open("rb") as f:
        yield from f


@click.command()
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--channel", help="Send every comment to comments.<CHANNEL> instead of its own.")
@click.option("--rate", type=float, help="At most this many comments per second.")
def publish(file: Path | None, channel: str | None, rate: float | None) -> None:
    """Replay NDJSON comments from FILE (or stdin) into their channels' topics.

    Each comment goes to comments.<channel> keyed by its author's id, so one author's comments
    stay in order on one partition. Lines are sent as they are: the worker validates them.
    """
    try:
        settings = KafkaSettings.from_env()
    except KafkaSettingsError as exc:
        raise click.ClickException(str(exc)) from None
    known = {name for name in load_declarations().names if name.startswith("comments.")}
    if channel is not None and f"comments.{channel}" not in known:
        raise click.ClickException(f"no topic comments.{channel} is declared in topics.yaml")
    summary = asyncio.run(
        publish_lines(settings, _lines(file), channel=channel, rate=rate, known_topics=known)
    )
    for number, reason in summary.unroutable[:20]:
        click.echo(f"line {number}: not sent: {reason}", err=True)
    topics = ", ".join(f"{t}={n}" for t, n in sorted(summary.by_topic.items()))
    click.echo(
        f"published {summary.sent} comments in {summary.seconds:.2f}s "
        f"({summary.rate:,.0f}/s): {topics or 'nothing'}"
        + (f"; {len(summary.unroutable)} not sent" if summary.unroutable else ""),
        err=True,
    )
    if summary.unroutable:
        raise SystemExit(1)
