"""``streamproc moderate``: decisions for an NDJSON file of comments (backtests, backfills)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from streamproc.batch import moderate_lines
from streamproc.cli._common import load_engine_or_exit

#: Exit status when some lines could not be moderated (as linters exit 1 on findings).
EXIT_DEAD_LETTERS = 1


@click.command()
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Policy pack directory (default: the bundled pack).",
)
@click.argument("input_file", metavar="[INPUT]", required=False, type=click.File("rb"))
@click.option(
    "-o", "--output", type=click.File("wb"), default="-", help="Decisions (default: stdout)."
)
@click.option(
    "--dead-letter",
    type=click.File("wb"),
    default=None,
    help="Malformed lines with their line number and reason (default: stderr).",
)
def moderate(
    policy_path: Path | None,
    input_file: click.utils.LazyFile | None,
    output: click.utils.LazyFile,
    dead_letter: click.utils.LazyFile | None,
) -> None:
    """Read NDJSON comments (stdin by default) and write one Decision per comment, in order.

    The strike ladder applies across the file, so a second violation by the same author is
    decided as a second violation. A summary goes to stderr.

    Exit status: 0 every line decided, 1 some lines went to the dead-letter output,
    2 the policy pack is unusable.
    """
    engine = load_engine_or_exit(policy_path)
    source = input_file if input_file is not None else sys.stdin.buffer
    dead = dead_letter if dead_letter is not None else sys.stderr.buffer
    name = getattr(input_file, "name", None) or "stdin"
    summary = moderate_lines(engine, source, output, dead, source=str(name))  # type: ignore[arg-type]
    output.flush()
    dead.flush()
    click.echo(summary.render(), err=True)
    if summary.dead_letters:
        raise SystemExit(EXIT_DEAD_LETTERS)
