"""``streamproc demo``: the whole pipeline on the embedded broker, start to finish.

Starts a private single-node Kafka (fresh data, free ports), applies the topics, starts a worker,
replays the bundled week of comments from five channels, then replays it again many times over
under fresh ids to show throughput; prints what was decided and how fast, and stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings, admin_client, apply, load_declarations, topology
from streamproc.local._broker import LocalBroker
from streamproc.local._console import DEMO_USER, ConsoleProcess, demo_console_env
from streamproc.local._jars import ensure_kafka_jars
from streamproc.local._process import free_port
from streamproc.local._promtext import histogram_buckets, histogram_quantile
from streamproc.local._services import WorkerProcess, service_env

__all__ = ["DemoOptions", "run_demo", "sample_lines"]


def sample_lines() -> list[bytes]:
    """The bundled sample: a week of realistic comments on five channels."""
    data = resources.files("streamproc").joinpath("samples/comments.ndjson").read_bytes()
    return [line for line in data.splitlines() if line.strip()]


def _copies(lines: list[bytes], copies: int) -> Iterator[bytes]:
    """The sample again under fresh comment and author ids (so no copy sees another's strikes)."""
    for n in range(1, copies + 1):
        for line in lines:
            comment = orjson.loads(line)
            comment["id"] = f"{comment['id']}~{n}"
            comment["author"]["id"] = f"{comment['author']['id']}~{n}"
            yield orjson.dumps(comment)


@dataclass
class DemoOptions:
    copies: int = 40
    keep_running: bool = False
    data_dir: Path | None = None


@dataclass
class _Tally:
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_decision: float | None = None
    last_decision: float | None = None


async def _follow_decisions(
    settings: KafkaSettings,
    wanted: set[str],
    tally: _Tally,
    on_progress: Callable[[int], None],
    timeout: float,
) -> None:
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        actions = topology().actions
        partitions = [TopicPartition(actions, p) for p in range(topology().partitions_of(actions))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while len(tally.decisions) < len(wanted) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=10000)
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    decision = orjson.loads(record.value)
                    if decision["comment_id"] in wanted:
                        tally.decisions[decision["comment_id"]] = decision
                        tally.first_decision = tally.first_decision or now
                        tally.last_decision = now
            on_progress(len(tally.decisions))
    finally:
        await consumer.stop()


def _replay(
    console: Console,
    settings: KafkaSettings,
    label: str,
    lines: list[bytes],
) -> tuple[_Tally, float]:
    wanted = {orjson.loads(line)["id"] for line in lines}
    tally = _Tally()
    with Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("decisions"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=len(lines))

        async def run() -> float:
            follower = asyncio.create_task(
                _follow_decisions(
                    settings, wanted, tally, lambda n: progress.update(task, completed=n), 300
                )
            )
            started = time.monotonic()
            await publish_lines(settings, lines)
            await follower
            return started

        started = asyncio.run(run())
    return tally, started


def _summary_tables(console: Console, decisions: list[dict[str, Any]]) -> None:
    by_category: dict[str, Counter[str]] = {}
    for d in decisions:
        for category in d["categories"] or ["(none)"]:
            by_category.setdefault(category, Counter())[d["channel"]] += 1
    table = Table(title="Sample: comments by policy category and channel")
    table.add_column("category")
    channels = topology().channels
    for channel in channels:
        table.add_column(channel, justify="right")
    table.add_column("total", justify="right")
    for category in sorted(by_category, key=lambda c: (c == "(none)", c)):
        counts = by_category[category]
        table.add_row(category, *(str(counts[c]) for c in channels), str(sum(counts.values())))
    console.print(table)

    actions: Counter[str] = Counter(a for d in decisions for a in d["actions"])
    queues: Counter[str] = Counter(
        d["escalation"]["queue"] for d in decisions if d.get("escalation")
    )
    table = Table(title="Sample: actions taken")
    table.add_column("action")
    table.add_column("decisions", justify="right")
    for action, count in actions.most_common():
        table.add_row(action, str(count))
    console.print(table)
    console.print(
        "Escalations: "
        + ", ".join(f"{q} {n}" for q, n in sorted(queues.items()))
        + "  (review = within moderation hours; urgent = outside them but urgent; deferred ="
        " waits for the next window)"
    )


def _examples(console: Console, lines: list[bytes], decisions: dict[str, dict[str, Any]]) -> None:
    texts = {orjson.loads(line)["id"]: orjson.loads(line)["text"] for line in lines}

    def is_trap(d: dict[str, Any]) -> bool:
        return d["actions"] == ["allow"] and "Troia" in texts.get(d["comment_id"], "")

    def deferred(d: dict[str, Any]) -> bool:
        return bool((d.get("escalation") or {}).get("queue") == "deferred")

    wanted: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("a warning", lambda d: "warn" in d["actions"]),
        ("a block (second strike)", lambda d: "block" in d["actions"] and not d["escalation"]),
        ("a redirect", lambda d: "redirect" in d["actions"]),
        ("personal data removed", lambda d: "pii" in d["categories"]),
        ("a deferred escalation", deferred),
        ("allowed despite a trap word", is_trap),
    ]  # fmt: skip
    console.print("[bold]Some decisions")
    for label, test in wanted:
        match = next((d for d in decisions.values() if test(d)), None)
        if match is None:
            continue
        text = texts.get(match["comment_id"], "")
        for m in match["matches"]:
            if m["category"] == "pii":
                text = text[: m["start"]] + "▒" * (m["end"] - m["start"]) + text[m["end"] :]
        console.print(f"  [cyan]{label}[/]: {text[:110]!r}")
        console.print(f"     -> {', '.join(match['actions'])}; {'; '.join(match['reasons'])[:200]}")


def _start_broker(console: Console, data_dir: Path) -> tuple[LocalBroker, KafkaSettings]:
    broker = LocalBroker(data_dir / "broker", port=free_port(), controller_port=free_port())
    with console.status("Fetching the Kafka jars from Maven Central (first run only)..."):
        ensure_kafka_jars()
    with console.status("Starting a single-node Kafka broker (KRaft)..."):
        bootstrap = broker.start(timeout=180, die_with_parent=True)
    console.print(f"[green]✓[/] Kafka broker at {bootstrap} (data in {data_dir})")
    settings = KafkaSettings(bootstrap_servers=(bootstrap,))

    async def create_topics() -> None:
        async with admin_client(settings) as admin:
            await apply(load_declarations(), admin)

    asyncio.run(create_topics())
    console.print(f"[green]✓[/] topics from topics.yaml: {', '.join(load_declarations().names)}")
    return broker, settings


def _start_worker(console: Console, settings: KafkaSettings, data_dir: Path) -> WorkerProcess:
    env = service_env(settings.bootstrap, STREAMPROC_WORKER_DIR=str(data_dir / "worker"))
    worker = WorkerProcess(env, data_dir)
    started = time.monotonic()
    with console.status("Starting the worker (Faust) and waiting for its partitions..."):
        worker.start(timeout=120)
    console.print(
        f"[green]✓[/] worker ready in {time.monotonic() - started:.1f}s; "
        f"metrics at http://localhost:{worker.metrics_port}/metrics"
    )
    return worker


def _throughput(
    console: Console,
    settings: KafkaSettings,
    worker: WorkerProcess,
    sample: list[bytes],
    copies: int,
) -> None:
    load = list(_copies(sample, copies))
    tally, started_at = _replay(console, settings, f"throughput ({copies}x sample)", load)
    elapsed = (tally.last_decision or time.monotonic()) - started_at
    samples = worker.samples() or {}
    buckets = histogram_buckets(samples, "streamproc_produce_to_decision_seconds")
    p50, p99 = histogram_quantile(0.5, buckets), histogram_quantile(0.99, buckets)
    console.print(
        f"[bold]Throughput[/]: {len(tally.decisions):,} decisions in {elapsed:.1f}s "
        f"= {len(tally.decisions) / elapsed:,.0f} comments/s (one worker process, from the "
        "first comment published to the last decision read back)"
    )
    if p50 is not None and p99 is not None:
        console.print(
            "[bold]Latency[/] produce -> decision under this burst (worker histogram; "
            "comments queue up when published all at once, see benchmarks/ for latency at "
            f"half the max rate): p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
        )


def _through_platforms(
    console: Console,
    settings: KafkaSettings,
    env: dict[str, str],
    data_dir: Path,
    sample: list[bytes],
) -> dict[str, dict[str, Any]]:
    """The sample in through the connector (webhooks, polls of local platform stand-ins) and
    out through the sink; prints the platform calls it made."""
    from streamproc.local.loop import PlatformLoop

    def follow(wanted: set[str], on_progress: Callable[[int], None]) -> dict[str, Any]:
        tally = _Tally()
        asyncio.run(_follow_decisions(settings, wanted, tally, on_progress, 300))
        return tally.decisions

    loop = PlatformLoop(settings, env, data_dir)
    with console.status("Starting the platform stand-ins, the connector and the sink..."):
        loop.start(sample)
    try:
        decisions = loop.replay(console, sample, follow)
        loop.print_calls(console)
    finally:
        loop.stop()
    return decisions


def _start_console(
    console: Console, settings: KafkaSettings, data_dir: Path, shared: dict[str, str]
) -> ConsoleProcess:
    review = ConsoleProcess({**service_env(settings.bootstrap), **shared}, data_dir)
    with console.status("Starting the review console (SQLite)..."):
        review.add_demo_user()
        review.start(timeout=120)
    console.print(f"[green]✓[/] review console at {review.url}")
    return review


def _console_summary(console: Console, review: ConsoleProcess, keep_running: bool) -> None:
    deadline = time.monotonic() + 20
    depths = review.queue_depths()
    while not any(depths.values()) and time.monotonic() < deadline:
        time.sleep(0.5)  # it reads the decisions in its own group, a moment behind
        depths = review.queue_depths()
    queues = ", ".join(f"{name} {n}" for name, n in depths.items())
    console.print(
        f"[bold]Review console[/]: {review.url} — sign in as [cyan]{DEMO_USER}[/] with password "
        f"[cyan]{review.password}[/] (local only, this demo's database); cases by queue: {queues}"
        + ("" if keep_running else " (use --keep-running to look at it)")
    )


def run_demo(options: DemoOptions, console: Console | None = None) -> int:
    console = console or Console(stderr=False)
    data_dir = options.data_dir or Path(tempfile.mkdtemp(prefix="streamproc-demo-"))
    broker: LocalBroker | None = None
    worker: WorkerProcess | None = None
    review: ConsoleProcess | None = None
    try:
        broker, settings = _start_broker(console, data_dir)
        worker = _start_worker(console, settings, data_dir)
        shared = demo_console_env(data_dir)
        review = _start_console(console, settings, data_dir, shared)
        sample = sample_lines()
        env = {**service_env(settings.bootstrap), **shared}
        decisions = _through_platforms(console, settings, env, data_dir, sample)
        _summary_tables(console, list(decisions.values()))
        _examples(console, sample, decisions)
        _throughput(console, settings, worker, sample, options.copies)
        console.print(
            f"[bold]Metrics[/]: http://localhost:{worker.metrics_port}/metrics "
            "(streamproc_comments_consumed_total, streamproc_decisions_total, ...)"
        )
        _console_summary(console, review, options.keep_running)
        if options.keep_running:
            console.print(
                "Running until Ctrl-C: point Prometheus at the metrics endpoint, or publish more "
                f"with STREAMPROC_BROKER={settings.bootstrap} streamproc publish FILE"
            )
            with contextlib.suppress(KeyboardInterrupt):
                while worker.alive:
                    time.sleep(1)
        return 0
    finally:
        with console.status("Stopping the worker, the console and the broker..."):
            if review is not None:
                review.stop()
            if worker is not None:
                worker.stop()
            if broker is not None:
                broker.stop()
        if options.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
        console.print("[green]✓[/] stopped")
