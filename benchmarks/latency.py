"""Produce -> decision latency at a given rate, of one worker and of the bare loop at the same
rate (its baseline, measured side by side).

The worker: a fresh one resumes the committed offsets (caught up, idle). The bare loop
(bare_loop.py) starts at the topics' ends and says when it holds them. Then the output topic is
switched to LogAppendTime, comments are published at ``rate`` for ``seconds``, and every decision
is paired with its comment (the decision's LogAppendTime on the broker minus the comment's
CreateTime at send)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from benchmarks.corpus import ndjson_lines
from benchmarks.kafka_tools import (
    CpuSampler,
    end_offsets,
    read_window,
)
from benchmarks.report import ratio
from benchmarks.stream_harness import (
    ACTIONS,
    BARE_OUT,
    LATENCY_SEED,
    PARTITIONS_WANTED,
    Bench,
    BenchWorker,
    children,
    delivered,
    loop_argv,
)
from streamproc.connect import publish_lines
from streamproc.kafka import admin_client, load_declarations
from streamproc.local import (
    ChildProcess,
    histogram_buckets,
    histogram_quantile,
    metric_total,
    service_env,
)


def _quantile(ordered: list[int], q: float) -> float:
    """The ``q`` quantile of ``ordered`` (sorted), as the nearest rank below."""
    return float(ordered[min(int(q * len(ordered)), len(ordered) - 1)])


def window_size(rate: float, seconds: float) -> int:
    """How many comments a window at ``rate`` for ``seconds`` publishes."""
    return max(int(rate * seconds), 1)


async def stamp_on_append(bench: Bench, topic: str) -> None:
    """Switch ``topic`` to LogAppendTime: a decision's time is its append on the broker."""
    declared = load_declarations().get(topic)
    configs = {k: v for k, v in declared.configs.items() if v is not None} if declared else {}
    configs["message.timestamp.type"] = "LogAppendTime"
    async with admin_client(bench.settings) as admin:
        # AlterConfigs (not incremental) replaces the topic's set: keep the declared values.
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs=configs)]
        )


async def latency_phase(bench: Bench, rate: float, seconds: float) -> dict[str, Any]:
    """The worker's window."""
    await stamp_on_append(bench, ACTIONS)
    worker = BenchWorker(bench, "worker-latency")
    worker.start()
    try:
        # Resumes the committed offsets of the last round; wait until it is caught up and idle.
        caught_up: list[float] = []

        def idle(samples: dict[str, float]) -> bool:
            ready = metric_total(samples, "streamproc_assigned_partitions") >= PARTITIONS_WANTED
            lag = metric_total(samples, "streamproc_consumer_lag")
            reported = any(k.startswith("streamproc_consumer_lag{") for k in samples)
            if not (ready and reported and lag == 0):
                caught_up.clear()
                return False
            caught_up.append(time.monotonic())
            return caught_up[-1] - caught_up[0] >= 2.5  # two lag reports (2 s timer) at zero

        await worker.wait_until(idle, timeout=300)
        startup = time.time() - worker.spawned
        await asyncio.sleep(1.0)
        settled = await worker.metrics()
        assert settled is not None
        delivered_before = delivered(settled)
        hist_before = histogram_buckets(settled, "streamproc_produce_to_decision_seconds")
        hist_after: list[tuple[float, float]] = []

        async def finished(sent: int) -> None:
            wanted = delivered_before + sent
            after = await worker.wait_until(lambda s: delivered(s) >= wanted, 120, every=0.2)
            hist_after.extend(histogram_buckets(after, "streamproc_produce_to_decision_seconds"))

        assert worker.process is not None
        point = await _window(bench, rate, seconds, worker.process.pid, ACTIONS, finished)
    finally:
        worker.stop()
    delta = [(bound, count - dict(hist_before).get(bound, 0.0)) for bound, count in hist_after]
    hist_p50, hist_p99 = histogram_quantile(0.5, delta), histogram_quantile(0.99, delta)
    return point | {
        "histogram_p50_ms": hist_p50 * 1000 if hist_p50 is not None else None,
        "histogram_p99_ms": hist_p99 * 1000 if hist_p99 is not None else None,
        "worker_startup_to_idle_seconds": startup,
    }


async def bare_latency_phase(bench: Bench, rate: float, seconds: float) -> dict[str, Any]:
    """The bare loop's window at the same rate: the baseline of the worker's."""
    await stamp_on_append(bench, BARE_OUT)
    count = window_size(rate, seconds)
    ready = bench.workdir / f"bare-latency-{uuid.uuid4().hex[:8]}.ready"
    group = f"bench-bare-latency-{uuid.uuid4().hex[:8]}"
    args = loop_argv(bench, "benchmarks.bare_loop", group, count, ready.with_suffix(".json"))
    args += ["--ready", str(ready)]
    child = ChildProcess(args, service_env(bench.bootstrap), ready.with_suffix(".log"))
    children.append(child)
    process = child.launch().process
    assert process is not None

    async def exited(timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"latency: the bare loop timed out:\n{child.log()}")
            await asyncio.sleep(0.1)
        if process.returncode != 0:
            raise RuntimeError(f"latency: the bare loop failed:\n{child.log()}")

    async def finished(sent: int) -> None:
        if sent != count:
            raise RuntimeError(f"latency: published {sent} of {count} comments")
        await exited(120)  # it exits once all were consumed and their outputs delivered

    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"latency: the bare loop never held the ends:\n{child.log()}")
            await asyncio.sleep(0.1)
        started = time.time() - child.spawned
        point = await _window(bench, rate, seconds, process.pid, BARE_OUT, finished)
    finally:
        child.stop()
        children.remove(child)
    return point | {"startup_seconds": started}


async def _window(
    bench: Bench,
    rate: float,
    seconds: float,
    pid: int,
    output_topic: str,
    finished: Callable[[int], Awaitable[None]],
) -> dict[str, Any]:
    """Publish at ``rate`` for ``seconds`` to a system (process ``pid``) writing its decisions to
    ``output_topic``; ``finished(sent)`` returns once it has decided them all. Pairs each decision
    with its comment."""
    comments_before = await end_offsets(bench.settings, bench.tps(*bench.comment_topics))
    outputs_before = await end_offsets(bench.settings, bench.tps(output_topic))
    lines = ndjson_lines(window_size(rate, seconds), seed=LATENCY_SEED)
    sampler = CpuSampler({"proc": pid, "broker": bench.broker_pid})
    sampler.start()
    published_at = time.time()
    try:
        summary = await publish_lines(
            bench.settings, lines, rate=rate, known_topics=set(bench.comment_topics)
        )
        await finished(summary.sent)
    finally:
        await sampler.stop()
    window = time.time() - published_at
    comments = await read_window(bench.settings, comments_before, values=True)
    decisions = await read_window(bench.settings, outputs_before)
    sent_at: dict[bytes, int] = {}
    for value, stamp in zip(comments.values, comments.stamps, strict=True):
        sent_at[orjson.loads(value or b"{}").get("id", "").encode()] = stamp
    latencies: list[int] = []
    by_second: dict[int, list[int]] = {}  # p50 per second of the window: is it steady?
    seen: set[bytes | None] = set()
    first_sent = min(sent_at.values(), default=0)
    for key, stamp in zip(decisions.keys, decisions.stamps, strict=True):
        if key in sent_at and key not in seen:
            seen.add(key)
            latency = stamp - sent_at[key]
            latencies.append(latency)
            by_second.setdefault((sent_at[key] - first_sent) // 1000, []).append(latency)
    latencies.sort()
    if not latencies:
        raise RuntimeError("latency: no decision could be paired with its comment")

    def pct(q: float) -> float:
        return _quantile(latencies, q)

    def cores(name: str) -> float:
        return sampler.used(name, published_at, published_at + summary.seconds) / summary.seconds

    return {
        "target_rate": rate,
        "published": summary.sent,
        "published_rate": summary.rate,
        "paired": len(latencies),
        "decision_timestamp": (
            "LogAppendTime" if decisions.timestamp_types == {1} else str(decisions.timestamp_types)
        ),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": float(latencies[-1]),
        "mean_ms": statistics.fmean(latencies),
        "p50_ms_by_second": [statistics.median(v) for _, v in sorted(by_second.items())],
        # Where the tail sits: a stall shows as one second's max, a steady tail in every one.
        "p99_ms_by_second": [_quantile(sorted(v), 0.99) for _, v in sorted(by_second.items())],
        "max_ms_by_second": [max(v) for _, v in sorted(by_second.items())],
        "cores_by_second": {
            name: [
                round(sampler.used(name, published_at + i, published_at + i + 1), 2)
                for i in range(int(summary.seconds))
            ]
            for name in ("proc", "broker")
        },
        "worker_cpu_cores": cores("proc"),
        "broker_cpu_cores": cores("broker"),
        "window_seconds": window,
        "latencies_ms": latencies[:: max(len(latencies) // 1000, 1)],  # for the CDF plot
    }


def window_line(point: dict[str, Any]) -> str:
    """One latency window for the progress log."""
    return (
        f"{point['published_rate']:,.0f}/s: p50 {point['p50_ms']:.0f} ms, p95 "
        f"{point['p95_ms']:.0f} ms, p99 {point['p99_ms']:.0f} ms, max {point['max_ms']:.0f} ms"
    )


#: The load of the issue's latency target (half the worker's maximum), where the bare loop's
#: tail is the worker's baseline.
TARGET_SHARE = "50%"
_FIGURE_KEYS = ("target_rate", "published_rate", "paired", "p50_ms", "p95_ms", "p99_ms", "max_ms",
                "worker_cpu_cores", "broker_cpu_cores")  # fmt: skip


def latency_section(
    results: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[int]]]:
    """The ratios, figures and CDF curves of the latency windows in ``results``."""
    figures: dict[str, Any] = {
        "latency": {
            share: {key: point.get(key) for key in (*_FIGURE_KEYS, "histogram_p99_ms")}
            for share, point in results["latency"].items()
        }
    }
    bare = results.get("latency_bare") or {}
    if bare:  # the bare loop's CPU is its process's, under the same key
        figures["latency_bare"] = {
            share: {key: point[key] for key in _FIGURE_KEYS} for share, point in bare.items()
        }
    warmup = results.get("latency_warmup") or []
    if warmup:  # for the record: what the first windows give on a cold broker
        figures["latency_warmup"] = {
            "windows": len(warmup),
            "window_seconds": [w["window_seconds"] for w in warmup],
            "published_rate": warmup[0]["published_rate"],
            "p99_ms": [w["p99_ms"] for w in warmup],
            "broker_cpu_cores": [w["broker_cpu_cores"] for w in warmup],
            "worker_cpu_cores": [w["worker_cpu_cores"] for w in warmup],
        }
    ratios: dict[str, Any] = {}
    worker_point, bare_point = results["latency"].get(TARGET_SHARE), bare.get(TARGET_SHARE)
    if worker_point and bare_point:
        ratios["streaming.latency_p99_bare_vs_worker"] = ratio(
            bare_point["p99_ms"] / max(worker_point["p99_ms"], 1.0),
            "bare loop's p99 ÷ worker's, produce → decision at half the worker's max, same rate"
            " (above 1: the worker's tail is the shorter)",
            worker_p99_ms=worker_point["p99_ms"],
            bare_p99_ms=bare_point["p99_ms"],
        )
    curves = {
        f"{name} at {share} of the worker's max ({point['published_rate']:,.0f}/s)": point[
            "latencies_ms"
        ]
        for name, windows in (("worker", results["latency"]), ("bare loop", bare))
        for share, point in windows.items()
    }
    return ratios, figures, curves
