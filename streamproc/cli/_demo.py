"""``streamproc demo``: the main job, end to end on the embedded broker."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--copies",
    type=click.IntRange(0, 10_000),
    default=40,
    show_default=True,
    help="How many times to replay the sample again, under fresh ids, to measure throughput.",
)
@click.option("--keep-running", is_flag=True, help="Leave the broker and worker up until Ctrl-C.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the broker's data here (default: a temporary directory, removed at the end).",
)
def demo(copies: int, keep_running: bool, data_dir: Path | None) -> None:
    """Run the whole pipeline locally: broker, topics, worker, a week of sample comments.

    Starts a private single-node Kafka on free ports (the jars are fetched from Maven Central
    the first time), creates the topics, starts a worker, replays the bundled comments from
    five channels with progress, prints what was decided and how fast, then stops everything.
    """
    from streamproc.local._demo import DemoOptions, run_demo

    raise SystemExit(run_demo(DemoOptions(copies, keep_running, data_dir)))
