"""The ``streamproc`` command line. Each command group lives in a module of its own."""

from __future__ import annotations

import click

from streamproc._version import __version__
from streamproc.cli._broker import broker
from streamproc.cli._demo import demo
from streamproc.cli._moderate import moderate
from streamproc.cli._platforms import connect, directory, sink
from streamproc.cli._policy import policy
from streamproc.cli._publish import publish
from streamproc.cli._review import review
from streamproc.cli._topics import topics
from streamproc.cli._worker import worker


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from streamproc.core import CORE_BUILD  # imported only here: it loads the core

    click.echo(f"streamproc, version {__version__} (policy core: {CORE_BUILD})")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version, and whether the policy core is compiled.",
)
def main() -> None:
    """Moderate social media comments against an institution's policy."""


main.add_command(demo)
main.add_command(moderate)
main.add_command(policy)
main.add_command(broker)
main.add_command(topics)
main.add_command(publish)
main.add_command(worker)
main.add_command(connect)
main.add_command(sink)
main.add_command(directory)
main.add_command(review)
