"""``streamproc demo``: the whole pipeline on the embedded broker, start to finish.

Starts a private single-node Kafka (fresh data, free ports), applies the topics, starts a worker,
replays the bundled week of comments from five channels, then replays it again many times over
under fresh ids to show throughput; prints what was decided and how fast, and stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
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
from streamproc.kafka import (
    KafkaSettings,
    LocalBroker,
    admin_client,
    apply,
    ensure_kafka_jars,
    free_port,
    load_declarations,
)

__all__ = ["DemoOptions", "run_demo", "sample_lines"]

CHANNELS = ("facebook", "instagram", "twitter", "youtube", "linkedin")


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


class _Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.metrics_port = free_port()
        self.env = {**env, "STREAMPROC_METRICS_PORT": str(self.metrics_port)}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "streamproc", "worker"]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as response:
            text: str = response.read().decode()
            return text

    def gauge(self, name: str) -> float:
        try:
            lines = self.metrics().splitlines()
        except OSError:
            return 0.0
        return sum(float(x.rsplit(" ", 1)[1]) for x in lines if x.startswith(name + " "))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def _quantile(metrics: str, name: str, q: float) -> float | None:
    """``histogram_quantile`` over the cumulative buckets of one histogram, as Prometheus does."""
    buckets: list[tuple[float, float]] = []
    for line in metrics.splitlines():
        if line.startswith(name + "_bucket{"):
            bound_text = line.split('le="', 1)[1].split('"', 1)[0]
            bound = float("inf") if bound_text == "+Inf" else float(bound_text)
            buckets.append((bound, float(line.split()[-1])))
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return None


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
        declared = load_declarations().get("moderation.actions")
        assert declared is not None
        partitions = [TopicPartition("moderation.actions", p) for p in range(declared.partitions)]
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
    for channel in CHANNELS:
        table.add_column(channel, justify="right")
    table.add_column("total", justify="right")
    for category in sorted(by_category, key=lambda c: (c == "(none)", c)):
        counts = by_category[category]
        table.add_row(category, *(str(counts[c]) for c in CHANNELS), str(sum(counts.values())))
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


def run_demo(options: DemoOptions, console: Console | None = None) -> int:
    console = console or Console(stderr=False)
    data_dir = options.data_dir or Path(tempfile.mkdtemp(prefix="streamproc-demo-"))
    fresh = options.data_dir is None
    broker = LocalBroker(data_dir / "broker", port=free_port(), controller_port=free_port())
    worker: _Worker | None = None
    try:
        with console.status("Fetching the Kafka jars from Maven Central (first run only)..."):
            ensure_kafka_jars()
        with console.status("Starting a single-node Kafka broker (KRaft)..."):
            bootstrap = broker.start(timeout=180)
        console.print(f"[green]✓[/] Kafka broker at {bootstrap} (data in {data_dir})")
        settings = KafkaSettings(bootstrap_servers=(bootstrap,))

        async def create_topics() -> list[str]:
            async with admin_client(settings) as admin:
                report = await apply(load_declarations(), admin)
            return report.lines()

        asyncio.run(create_topics())
        console.print(
            f"[green]✓[/] topics from topics.yaml: {', '.join(load_declarations().names)}"
        )

        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
        env.update(
            STREAMPROC_BROKER=bootstrap,
            STREAMPROC_WORKER_DIR=str(data_dir / "worker"),
            STREAMPROC_CACHE=os.environ.get("STREAMPROC_CACHE", ""),
        )
        env = {k: v for k, v in env.items() if v != ""}
        worker = _Worker(env, data_dir / "worker.log")
        worker.start()
        started = time.monotonic()
        with console.status("Starting the worker (Faust) and waiting for its partitions..."):
            while worker.gauge("streamproc_assigned_partitions") < 30:
                if worker.process is not None and worker.process.poll() is not None:
                    console.print((data_dir / "worker.log").read_text()[-3000:])
                    raise RuntimeError("the worker exited")
                if time.monotonic() - started > 120:
                    raise RuntimeError("the worker did not get its partitions in 120 s")
                time.sleep(0.3)
        console.print(
            f"[green]✓[/] worker ready in {time.monotonic() - started:.1f}s; "
            f"metrics at http://localhost:{worker.metrics_port}/metrics"
        )

        sample = sample_lines()
        decisions = _through_platforms(console, settings, env, data_dir, sample)
        _summary_tables(console, list(decisions.values()))
        _examples(console, sample, decisions)

        load = list(_copies(sample, options.copies))
        tally, started_at = _replay(
            console, settings, f"throughput ({options.copies}x sample)", load
        )
        elapsed = (tally.last_decision or time.monotonic()) - started_at
        metrics = worker.metrics()
        p50 = _quantile(metrics, "streamproc_produce_to_decision_seconds", 0.5)
        p99 = _quantile(metrics, "streamproc_produce_to_decision_seconds", 0.99)
        console.print(
            f"[bold]Throughput[/]: {len(tally.decisions):,} decisions in {elapsed:.1f}s "
            f"= {len(tally.decisions) / elapsed:,.0f} comments/s (one worker process, from the "
            "first comment published to the last decision read back)"
        )
        if p50 is not None and p99 is not None:
            console.print(
                "[bold]Latency[/] produce -> decision under this burst (worker histogram; "
                "comments queue up when published all at once, see benchmarks/ for latency at "
                f"half the max rate): "
                f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
            )
        console.print(
            f"[bold]Metrics[/]: http://localhost:{worker.metrics_port}/metrics "
            "(streamproc_comments_consumed_total, streamproc_decisions_total, ...)"
        )
        if options.keep_running:
            console.print(
                "Running until Ctrl-C: point Prometheus at the metrics endpoint, or publish more "
                f"with STREAMPROC_BROKER={bootstrap} streamproc publish FILE"
            )
            with contextlib.suppress(KeyboardInterrupt):
                while worker.process is not None and worker.process.poll() is None:
                    time.sleep(1)
        return 0
    finally:
        with console.status("Stopping the worker and the broker..."):
            if worker is not None:
                worker.stop()
            broker.stop()
        if fresh:
            shutil.rmtree(data_dir, ignore_errors=True)
        console.print("[green]✓[/] stopped")
