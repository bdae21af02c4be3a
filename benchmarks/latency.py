"""Produce -> decision latency of one worker at a given rate: a fresh worker resumes the committed
offsets (caught up, idle), the actions topic is switched to LogAppendTime, comments are published
at ``rate`` for ``seconds``, and every decision is paired with its comment (the decision's
LogAppendTime on the broker minus the comment's CreateTime at send)."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import orjson
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from benchmarks.corpus import ndjson_lines
from benchmarks.kafka_tools import (
    CpuSampler,
    end_offsets,
    read_window,
)
from benchmarks.stream_harness import (
    ACTIONS,
    LATENCY_SEED,
    PARTITIONS_WANTED,
    Bench,
    BenchWorker,
    delivered,
)
from streamproc.connect import publish_lines
from streamproc.kafka import admin_client, load_declarations
from streamproc.local import (
    histogram_buckets,
    histogram_quantile,
    metric_total,
)


def _quantile(ordered: list[int], q: float) -> float:
    """The ``q`` quantile of ``ordered`` (sorted), as the nearest rank below."""
    return float(ordered[min(int(q * len(ordered)), len(ordered) - 1)])


async def latency_phase(bench: Bench, rate: float, seconds: float) -> dict[str, Any]:
    declared = load_declarations().get(ACTIONS)
    assert declared is not None
    configs = {k: v for k, v in declared.configs.items() if v is not None}
    configs["message.timestamp.type"] = "LogAppendTime"  # decision time = on the broker
    async with admin_client(bench.settings) as admin:
        # AlterConfigs (not incremental) replaces the topic's set: keep the declared values.
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, ACTIONS, configs=configs)]
        )
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
        comments_before = await end_offsets(bench.settings, bench.tps(*bench.comment_topics))
        actions_before = await end_offsets(bench.settings, bench.tps(ACTIONS))
        lines = ndjson_lines(max(int(rate * seconds), 1), seed=LATENCY_SEED)
        assert worker.process is not None
        sampler = CpuSampler({"proc": worker.process.pid, "broker": bench.broker_pid})
        sampler.start()
        published_at = time.time()
        summary = await publish_lines(
            bench.settings, lines, rate=rate, known_topics=set(bench.comment_topics)
        )
        wanted = delivered_before + summary.sent
        after = await worker.wait_until(lambda s: delivered(s) >= wanted, timeout=120, every=0.2)
        await sampler.stop()
        hist_after = histogram_buckets(after, "streamproc_produce_to_decision_seconds")
    finally:
        worker.stop()
    window = time.time() - published_at
    comments = await read_window(bench.settings, comments_before, values=True)
    decisions = await read_window(bench.settings, actions_before)
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

    delta = [(bound, count - dict(hist_before).get(bound, 0.0)) for bound, count in hist_after]
    hist_p50, hist_p99 = histogram_quantile(0.5, delta), histogram_quantile(0.99, delta)
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
        "histogram_p50_ms": hist_p50 * 1000 if hist_p50 is not None else None,
        "histogram_p99_ms": hist_p99 * 1000 if hist_p99 is not None else None,
        "worker_cpu_cores": sampler.used("proc", published_at, published_at + summary.seconds)
        / summary.seconds,
        "broker_cpu_cores": sampler.used("broker", published_at, published_at + summary.seconds)
        / summary.seconds,
        "worker_startup_to_idle_seconds": startup,
        "window_seconds": window,
        "latencies_ms": latencies[:: max(len(latencies) // 1000, 1)],  # for the CDF plot
    }
