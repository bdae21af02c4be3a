"""``streamproc publish``: replay NDJSON comments into the channel topics."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from streamproc._logging import quiet_repeats
from streamproc.connect import describe, publish_lines
from streamproc.kafka import KafkaSettings, KafkaSettingsError, load_declarations

#: Exit status: some lines went to the dead-letter topic; the broker stayed unreachable.
EXIT_DEAD_LETTERS = 1
EXIT_UNSENT = 75  # EX_TEMPFAIL: try again later, from the line it names


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
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="At most N a second.")
@click.option(
    "--from-line", type=click.IntRange(min=1), default=1, help="Skip the lines before this one."
)
@click.option(
    "--retry-for",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds to keep trying through a broker outage before giving up.",
)
def publish(
    file: Path | None, channel: str | None, rate: float | None, from_line: int, retry_for: float
) -> None:
    """Replay NDJSON comments from FILE (or stdin) into their channels' topics.

    Each comment goes to comments.<channel> keyed by its author's id, so one author's comments
    stay in order on one partition. Lines are sent as they are: the worker validates them. A
    line that cannot be routed (not JSON, no channel) or is over 1 MB goes to
    moderation.deadletter with its reason and line number.

    Exit status: 0 every line sent to its channel, 1 some went to the dead-letter topic,
    75 the broker stayed unreachable (the message says from which line to resume).
    """
    try:
        settings = KafkaSettings.from_env()
    except KafkaSettingsError as exc:
        raise click.ClickException(str(exc)) from None
    known = {name for name in load_declarations().names if name.startswith("comments.")}
    if channel is not None and f"comments.{channel}" not in known:
        raise click.ClickException(f"no topic comments.{channel} is declared in topics.yaml")
    logging.basicConfig(level=logging.WARNING, format="streamproc publish: %(message)s")
    quiet_repeats()
    lines = itertools.islice(_lines(file), from_line - 1, None)
    summary = asyncio.run(
        publish_lines(
            settings,
            lines,
            channel=channel,
            rate=rate,
            known_topics=known,
            source=str(file) if file is not None else "stdin",
            retry_for=retry_for,
            first_line=from_line,
        )
    )
    for text in describe(summary):
        click.echo(text, err=True)
    if summary.unsent_from is not None:
        raise SystemExit(EXIT_UNSENT)
    if summary.dead_letters:
        raise SystemExit(EXIT_DEAD_LETTERS)
