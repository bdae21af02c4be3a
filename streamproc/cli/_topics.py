"""``streamproc topics``: create the declared Kafka topics and compare them with the cluster."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from streamproc.kafka import (
    DeclarationError,
    KafkaSettings,
    KafkaSettingsError,
    KafkaUnavailableError,
    TopicDeclarations,
    admin_client,
    apply,
    cluster_topics,
    load_declarations,
)
from streamproc.kafka._strimzi import StrimziOptions, render_kafka_topics

#: Exit status of ``apply`` when existing topics differ from their declarations.
EXIT_DIFFERS = 3

_FILE = click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Declarations file [default: the topics.yaml shipped with streamproc].",
)


def _settings() -> KafkaSettings:
    try:
        return KafkaSettings.from_env()
    except KafkaSettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _declarations(path: Path | None) -> TopicDeclarations:
    try:
        return load_declarations(path)
    except DeclarationError as exc:
        raise click.ClickException(str(exc)) from exc


def _quiet_aiokafka() -> None:
    # We report connection problems ourselves; aiokafka would also log each failed attempt.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


@click.group()
def topics() -> None:
    """Create and compare the declared Kafka topics (connection: STREAMPROC_BROKER etc.)."""


@topics.command("apply")
@_FILE
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
def apply_command(path: Path | None, dry_run: bool) -> None:
    """Create the missing topics; report existing ones that differ (never changed).

    Exit status: 0 all as declared (or, with --dry-run, a plan without errors), 1 errors,
    3 existing topics differ from their declarations.
    """
    declarations = _declarations(path)
    settings = _settings()
    _quiet_aiokafka()

    async def run() -> int:
        async with admin_client(settings) as admin:
            report = await apply(declarations, admin, dry_run=dry_run)
        for line in report.lines():
            click.echo(line)
        if report.has_errors:
            return 1
        return EXIT_DIFFERS if report.has_differences else 0

    click.echo(f"{declarations.source} -> {settings.describe()}", err=True)
    try:
        code = asyncio.run(run())
    except KafkaUnavailableError as exc:
        raise click.ClickException(str(exc)) from exc
    raise SystemExit(code)


@topics.command("list")
@_FILE
@click.option("--all", "show_all", is_flag=True, help="Include Kafka's own __ topics.")
def list_command(path: Path | None, show_all: bool) -> None:
    """List the cluster's topics and the declared ones that are missing."""
    declarations = _declarations(path)
    settings = _settings()
    _quiet_aiokafka()

    async def run() -> None:
        async with admin_client(settings) as admin:
            existing = await cluster_topics(admin)
        names = sorted(name for name in existing if show_all or not name.startswith("__"))
        missing = [name for name in declarations.names if name not in existing]
        width = max((len(n) for n in [*names, *missing]), default=5)
        click.echo(f"{'TOPIC':<{width}}  PARTITIONS  REPLICATION  DECLARED")
        for name in names:
            topic = existing[name]
            declared = "yes" if declarations.get(name) else "no"
            click.echo(
                f"{name:<{width}}  {topic.partitions:>10}  {topic.replication_factor:>11}  "
                f"{declared}"
            )
        for name in missing:
            click.echo(f"{name:<{width}}  {'-':>10}  {'-':>11}  yes (missing)")

    try:
        asyncio.run(run())
    except KafkaUnavailableError as exc:
        raise click.ClickException(str(exc)) from exc


@topics.command("strimzi")
@_FILE
@click.option("--cluster", required=True, help="The Strimzi Kafka cluster (strimzi.io/cluster).")
@click.option("--namespace", default=None, help="metadata.namespace [default: none, kustomize's].")
@click.option(
    "--replication-factor", type=click.IntRange(min=1), default=None, help="[default: declared]"
)
@click.option(
    "--min-insync-replicas", type=click.IntRange(min=1), default=None, help="[default: declared]"
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write [default: standard output].",
)
def strimzi_command(
    path: Path | None,
    cluster: str,
    namespace: str | None,
    replication_factor: int | None,
    min_insync_replicas: int | None,
    output: Path | None,
) -> None:
    """Write the declared topics as Strimzi KafkaTopic resources (for the topic operator)."""
    declarations = _declarations(path)
    options = StrimziOptions(cluster, namespace, replication_factor, min_insync_replicas)
    words = ["streamproc topics strimzi", f"--cluster {cluster}"]
    if path is not None:
        words.append(f"--file {path}")
    if namespace:
        words.append(f"--namespace {namespace}")
    if replication_factor:
        words.append(f"--replication-factor {replication_factor}")
    if min_insync_replicas:
        words.append(f"--min-insync-replicas {min_insync_replicas}")
    if output is not None:
        words.append(f"--output {output}")
    try:
        text = render_kafka_topics(declarations, options, command=" ".join(words))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {len(declarations)} KafkaTopic resources", err=True)
