"""``streamproc policy``: check a policy pack before it is used."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from streamproc.cli._common import exit_with_issues, read_pack_or_exit
from streamproc.core import PackError, inspect_pack, read_pack_files

PACK_MAX_BYTES = 16 * 1024 * 1024  # the largest bundled pack the CLI sends


@click.group()
def policy() -> None:
    """Check and inspect policy packs."""


@policy.command("check")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(path: Path) -> None:
    """Validate the policy pack at PATH: every error and warning with its file and line."""
    try:
        files = read_pack_files(path)
    except PackError as exc:
        exit_with_issues(exc)
    result = inspect_pack(files)
    if result.pack is None:
        for issue in result.issues:
            click.echo(str(issue), err=True)
        warnings = len(result.issues) - len(result.errors)
        click.echo(f"{path}: {len(result.errors)} error(s), {warnings} warning(s)", err=True)
        raise SystemExit(1)
    for issue in result.issues:
        click.echo(str(issue))
    pack = result.pack
    by_category = Counter(e.category for e in pack.entries)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(by_category.items()))
    topics = (
        f", {len(pack.topics)} topics and {len(pack.stopwords)} stop words" if pack.topics else ""
    )
    click.echo(
        f"{path}: OK — policy {pack.policy_version}, {len(pack.entries)} entries ({summary})"
        f"{topics}, {result.automaton_keys} automaton keys, {len(result.issues)} warning(s)"
    )


@policy.command("publish")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--topic", default="moderation.policy", show_default=True)
def publish(path: Path, topic: str) -> None:
    """Validate the pack at PATH and publish it to the policy topic.

    Every running worker picks it up, compiles it off its hot path and swaps it in; decisions
    then cite the new policy version. A pack with errors is not published.
    """
    import asyncio

    from aiokafka import AIOKafkaProducer

    from streamproc.core import bundle_pack
    from streamproc.kafka import KafkaSettings, KafkaSettingsError

    files, pack = read_pack_or_exit(path)
    try:
        settings = KafkaSettings.from_env()
    except KafkaSettingsError as exc:
        raise click.ClickException(str(exc)) from None

    async def send() -> None:
        # A pack is one record: a lexicon of 100k terms bundles to ~2 MB before compression,
        # over the client's 1 MB default (checked uncompressed; the broker limits the batch
        # after gzip).
        producer = AIOKafkaProducer(
            **settings.client_kwargs(),
            acks="all",
            compression_type="gzip",
            max_request_size=PACK_MAX_BYTES,
        )
        await producer.start()
        try:
            await producer.send_and_wait(topic, bundle_pack(files), key=pack.name.encode())
        finally:
            await producer.stop()

    asyncio.run(send())
    click.echo(f"published policy {pack.policy_version} ({len(pack.entries)} entries) to {topic}")
