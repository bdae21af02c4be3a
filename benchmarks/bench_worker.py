"""Streaming throughput and latency of one worker process, against a bare aiokafka loop.

    python -m benchmarks.bench_worker [--count 200000] [--rounds 2] [--quick]

Starts its own local broker (free ports, a temporary data directory; stopped at the end, also on
errors and Ctrl-C), applies the packaged topic declarations and preloads ``--count`` synthetic
comments (benchmarks/corpus.py) into the five ``comments.*`` topics, keyed by author id. Then:

Throughput, in alternating rounds (bare, worker, bare, worker, ...), each consuming the same
preloaded records from the beginning:

* bare: a subprocess running the baseline loop (benchmarks/bare_loop.py): ``AIOKafkaConsumer`` on
  the five topics (fresh group, earliest) -> ``getmany`` -> ``orjson.dumps(Engine.moderate_json)``
  with the default pack and a ``MemoryStrikeStore`` -> ``producer.send`` to a scratch topic
  (acks=all, linger 5 ms), the batch's futures gathered, then a commit.
* worker: one real ``streamproc worker`` subprocess (app id ``streamproc``: its consumer group is
  deleted and the strikes changelog emptied before every round, so each round starts from
  offset 0 with no table to recover).

Both are timed the same way, from their output records: messages/s = N / (CreateTime of the
first output record -> CreateTime of the last one). That excludes start-up (imports, policy
compilation, group join) on both sides and needs no polling of the processes; the bare loop
also reports its own clock (first record consumed -> last output delivered) as a cross-check.
CPU seconds of the process and of the broker JVM are sampled from /proc over the same window.
The worker's start-up (spawn -> first decision) is reported separately.

Latency: a fresh worker resumes the committed offsets (caught up, idle); the actions topic is
switched to LogAppendTime; comments are published at half of the worker's measured max rate
for ``--latency-seconds``; every decision is paired with its comment: latency = the decision's
LogAppendTime (on the broker) - the comment's CreateTime (set by the publisher at send).
Millisecond resolution. The worker's own histogram (comment timestamp -> batch delivered;
bucket-interpolated like Prometheus' histogram_quantile) is reported next to it.

Results go to benchmarks/results/worker.json. Nothing is pinned: the worker (or the bare loop)
and the broker need both cores of a 2-core machine. The machine is noisy: compare the ratio of
each round, not absolute rates across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from benchmarks.corpus import ndjson_lines
from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings, TopicAction, admin_client, apply, load_declarations
from streamproc.local import (
    ChildProcess,
    LocalBroker,
    WorkerProcess,
    free_port,
    histogram_buckets,
    histogram_quantile,
    metric_total,
    service_env,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

APP_ID = "streamproc"  # the worker's app id = consumer group; its changelog topics are declared
ACTIONS = "moderation.actions"
DEAD_LETTERS = "moderation.deadletter"
CHANGELOG = f"{APP_ID}-strikes-changelog"
BARE_OUT = "bench.bare-out"  # scratch output topic of the bare loop
LATENCY_SEED = 4242  # another seed than the preload: other comment ids
PARTITIONS_WANTED = 30  # 5 comment topics x 6 partitions

# Every process this benchmark starts, so that they are stopped whatever happens.
_children: list[subprocess.Popen[bytes]] = []


# Processes ---------------------------------------------------------------------------------

# Every process this benchmark starts, so that they are stopped whatever happens.
_children: list[ChildProcess] = []


def _kill_children() -> None:
    for process in list(_children):
        process.kill()
        _children.remove(process)


class CpuSampler:
    """CPU seconds (all threads) of some processes, sampled from /proc with wall-clock times."""

    def __init__(self, pids: dict[str, int], interval: float = 0.1) -> None:
        self.pids = pids
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._tick = os.sysconf("SC_CLK_TCK")
        self._task: asyncio.Task[None] | None = None

    def _cpu(self, pid: int) -> float:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return float("nan")
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime

    def sample(self) -> None:
        self.samples.append((time.time(), {n: self._cpu(p) for n, p in self.pids.items()}))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self.sample()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def at(self, name: str, when: float) -> float:
        """CPU seconds of ``name`` at wall-clock time ``when``, interpolated linearly."""
        points = [(t, s[name]) for t, s in self.samples if s[name] == s[name]]  # not NaN
        if not points:
            return float("nan")
        if when <= points[0][0]:
            return points[0][1]
        for (t0, c0), (t1, c1) in itertools.pairwise(points):
            if t0 <= when <= t1:
                return c0 + (c1 - c0) * (when - t0) / (t1 - t0) if t1 > t0 else c1
        return points[-1][1]

    def used(self, name: str, start: float, end: float) -> float:
        return self.at(name, end) - self.at(name, start)


# Kafka helpers -----------------------------------------------------------------------------


def _consumer(settings: KafkaSettings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **settings.client_kwargs(),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )


def _partitions(topics: Iterable[str], partitions: dict[str, int]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in range(partitions[t])]


async def end_offsets(settings: KafkaSettings, tps: list[TopicPartition]) -> dict[Any, int]:
    consumer = _consumer(settings)
    await consumer.start()
    try:
        ends: dict[Any, int] = await consumer.end_offsets(tps)
        return ends
    finally:
        await consumer.stop()


@dataclass
class Output:
    """Records of a topic written in one window: keys, values and timestamps (ms)."""

    keys: list[bytes | None] = field(default_factory=list)
    values: list[bytes | None] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    timestamp_types: set[int] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.stamps)

    def span_seconds(self) -> float:
        return (max(self.stamps) - min(self.stamps)) / 1000 if self.stamps else 0.0


async def read_window(
    settings: KafkaSettings,
    start: dict[Any, int],
    *,
    values: bool = False,
    timeout: float = 300.0,
) -> Output:
    """Every record from the ``start`` offsets to the current end of those partitions."""
    out = Output()
    consumer = _consumer(settings)
    await consumer.start()
    try:
        end = await consumer.end_offsets(list(start))
        todo = {tp: end[tp] for tp in start if end[tp] > start[tp]}
        if not todo:
            return out
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, start[tp])
        deadline = time.monotonic() + timeout
        while todo:
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not read back {sum(todo.values())} records in time")
            batch = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            for tp, records in batch.items():
                stop = todo.get(tp)
                if stop is None:
                    continue
                for record in records:
                    if record.offset >= stop:
                        break
                    out.keys.append(record.key)
                    if values:
                        out.values.append(record.value)
                    out.stamps.append(record.timestamp)
                    out.timestamp_types.add(record.timestamp_type)
                if records and records[-1].offset + 1 >= stop:
                    del todo[tp]
                    consumer.pause(tp)
    finally:
        await consumer.stop()
    return out


async def delete_group(admin: Any, group: str, timeout: float = 60.0) -> None:
    """Forget the group's committed offsets (aiokafka 0.14 has no delete_consumer_groups)."""
    from aiokafka.protocol.admin import DeleteGroupsRequest

    retriable = {14, 15, 16, 68}  # loading, not available, not coordinator, group not empty
    deadline = time.monotonic() + timeout
    while True:
        node = await admin.find_coordinator(group)
        response = await admin._send_request_to_node(node, DeleteGroupsRequest([group]))
        code = dict(response.results).get(group, 0)
        if code in (0, 69):  # deleted, or there was no such group
            return
        if code not in retriable or time.monotonic() > deadline:
            raise RuntimeError(f"cannot delete consumer group {group!r}: error code {code}")
        await asyncio.sleep(0.5)


async def recreate(admin: Any, topic: str, timeout: float = 60.0) -> None:
    """Delete a declared topic and create it again, empty, with the project's ``apply``.

    (DeleteRecords is refused on compacted topics such as a table's changelog.)
    """
    if topic in await admin.list_topics():
        await admin.delete_topics([topic])
    deadline = time.monotonic() + timeout
    while True:
        if topic not in await admin.list_topics():
            with contextlib.suppress(Exception):  # may still be marked for deletion
                report = await apply(load_declarations(), admin)
                if any(r.name == topic and r.action is TopicAction.CREATE for r in report.results):
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not recreate {topic}")
        await asyncio.sleep(0.5)


# The benchmark -------------------------------------------------------------------------------


@dataclass
class Bench:
    broker: LocalBroker
    settings: KafkaSettings
    bootstrap: str
    workdir: Path
    count: int
    comment_topics: list[str]
    partitions: dict[str, int]
    max_records: int
    worker_env: dict[str, str] = field(default_factory=dict)  # --worker-env: settings to try

    @property
    def broker_pid(self) -> int:
        pid = self.broker.status().pid
        assert pid is not None, "the broker is not running"
        return pid

    def tps(self, *topics: str) -> list[TopicPartition]:
        return _partitions(topics, self.partitions)


class BenchWorker:
    """A ``streamproc worker`` subprocess with its own metrics port, data dir and log."""

    def __init__(self, bench: Bench, name: str) -> None:
        env = service_env(bench.bootstrap, **bench.worker_env)
        self.service = WorkerProcess(env, bench.workdir / name)
        _children.append(self.service)

    @property
    def process(self) -> Any:
        return self.service.process

    @property
    def spawned(self) -> float:
        return self.service.spawned

    @property
    def log_path(self) -> Path:
        return self.service.log_path

    def start(self) -> int:
        process = self.service.launch().process
        assert process is not None
        return process.pid

    async def metrics(self) -> dict[str, float] | None:
        return await asyncio.to_thread(self.service.samples)

    async def wait_until(self, done: Any, timeout: float, every: float = 0.5) -> dict[str, float]:
        """Poll the metrics until ``done(samples)`` is true; return those samples."""
        return await asyncio.to_thread(self.service.wait_until, done, timeout, every)

    def stop(self) -> int | None:
        code = self.service.stop()
        if self.service in _children:
            _children.remove(self.service)
        return code


def _delivered(samples: dict[str, float]) -> float:
    return metric_total(samples, "streamproc_produce_to_decision_seconds_count") + metric_total(
        samples, "streamproc_dead_letters_total"
    )


async def preload(bench: Bench) -> dict[str, Any]:
    lines = ndjson_lines(bench.count)
    chars = statistics.fmean(len(orjson.loads(x)["text"]) for x in lines[:5000])
    summary = await publish_lines(bench.settings, lines, known_topics=set(bench.comment_topics))
    if summary.dead_letters or summary.sent != bench.count:
        raise RuntimeError(f"preload: sent {summary.sent}, dead letters {summary.dead_letters[:3]}")
    return {"comments": summary.sent, "mean_text_chars": chars, "seconds": summary.seconds}


async def bare_round(bench: Bench, index: int) -> dict[str, Any]:
    before = await end_offsets(bench.settings, bench.tps(BARE_OUT))
    result = bench.workdir / f"bare-{index}.json"
    log = bench.workdir / f"bare-{index}.log"
    args = [
        sys.executable,
        "-m",
        "benchmarks.bare_loop",
        "--bootstrap",
        bench.bootstrap,
        "--group",
        f"bench-bare-{uuid.uuid4().hex[:8]}",
        "--count",
        str(bench.count),
        "--max-records",
        str(bench.max_records),
        "--result",
        str(result),
    ]
    child = ChildProcess(args, service_env(bench.bootstrap), log)
    _children.append(child)
    process = child.launch().process
    assert process is not None
    sampler = CpuSampler({"proc": process.pid, "broker": bench.broker_pid})
    sampler.start()
    deadline = time.monotonic() + 120 + bench.count / 1000
    try:
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bare loop timed out:\n{child.log()}")
            await asyncio.sleep(0.2)
    finally:
        await sampler.stop()
        child.stop()
        _children.remove(child)
    if process.returncode != 0:
        raise RuntimeError(f"the bare loop failed ({process.returncode}):\n{child.log()}")
    own = json.loads(result.read_text())
    out = await read_window(bench.settings, before)
    return _round_result("bare", bench, out, sampler, extra={"own_clock": own})


async def worker_round(bench: Bench, index: int) -> dict[str, Any]:
    async with admin_client(bench.settings) as admin:
        await delete_group(admin, APP_ID)  # from offset 0 again ...
        await recreate(admin, CHANGELOG)  # ... with no strikes to recover
    before = await end_offsets(bench.settings, bench.tps(ACTIONS, DEAD_LETTERS))
    worker = BenchWorker(bench, f"worker-{index}")
    sampler = CpuSampler({"proc": worker.start(), "broker": bench.broker_pid})
    sampler.start()
    assigned_at: list[float] = []

    def finished(samples: dict[str, float]) -> bool:
        if not assigned_at and metric_total(samples, "streamproc_assigned_partitions") >= 30:
            assigned_at.append(time.time())
        consumed = metric_total(samples, "streamproc_comments_consumed_total")
        return consumed >= bench.count and _delivered(samples) >= bench.count

    try:
        await worker.wait_until(finished, timeout=180 + bench.count / 500, every=0.25)
    finally:
        await sampler.stop()
        code = worker.stop()
    if code not in (0, None):
        print(f"  (worker exited with {code} on SIGTERM; log: {worker.log_path})")
    out = await read_window(
        bench.settings, {tp: o for tp, o in before.items() if tp.topic == ACTIONS}
    )
    result = _round_result("worker", bench, out, sampler)
    first_decision = min(out.stamps) / 1000 if out.stamps else float("nan")
    result["startup_seconds"] = first_decision - worker.spawned
    if assigned_at:  # the gauge is refreshed by a 2 s timer: informative only
        result["assigned_gauge_seen_seconds"] = assigned_at[0] - worker.spawned
    dead = await read_window(
        bench.settings, {tp: o for tp, o in before.items() if tp.topic == DEAD_LETTERS}
    )
    result["dead_letters"] = dead.count
    return result


def _round_result(
    kind: str, bench: Bench, out: Output, sampler: CpuSampler, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    if not out.stamps:
        raise RuntimeError(f"{kind}: no output records")
    start, end = min(out.stamps) / 1000, max(out.stamps) / 1000
    seconds = max(end - start, 0.001)
    proc_cpu = sampler.used("proc", start, end)
    broker_cpu = sampler.used("broker", start, end)
    distinct = len(set(out.keys))
    return {
        "kind": kind,
        "outputs": out.count,
        "distinct_keys": distinct,
        "seconds": seconds,
        "per_s": bench.count / seconds,
        "cpu_us_per_msg": proc_cpu / bench.count * 1e6,
        "cpu_cores": proc_cpu / seconds,
        "broker_cpu_us_per_msg": broker_cpu / bench.count * 1e6,
        "broker_cpu_cores": broker_cpu / seconds,
        **(extra or {}),
    }


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
        delivered_before = _delivered(settled)
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
        after = await worker.wait_until(lambda s: _delivered(s) >= wanted, timeout=120, every=0.2)
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
        return float(latencies[min(int(q * len(latencies)), len(latencies) - 1)])

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
        "p99_ms": pct(0.99),
        "max_ms": float(latencies[-1]),
        "mean_ms": statistics.fmean(latencies),
        "p50_ms_by_second": [statistics.median(v) for _, v in sorted(by_second.items())],
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
    }


async def setup(bench: Bench) -> None:
    declarations = load_declarations()
    async with admin_client(bench.settings) as admin:
        report = await apply(declarations, admin)
        if report.has_errors:
            raise RuntimeError("\n".join(report.lines()))
        await admin.create_topics([NewTopic(BARE_OUT, num_partitions=6, replication_factor=1)])
        for _ in range(100):  # visible in the metadata before the first round uses it
            if BARE_OUT in await admin.list_topics():
                break
            await asyncio.sleep(0.1)
    for declaration in declarations:
        bench.partitions[declaration.name] = declaration.partitions
    bench.partitions[BARE_OUT] = 6


async def run(bench: Bench, rounds: int, latency_seconds: float) -> dict[str, Any]:
    await setup(bench)
    print(f"preloading {bench.count:,} comments ...", flush=True)
    loaded = await preload(bench)
    print(
        f"  {loaded['comments']:,} comments (mean text {loaded['mean_text_chars']:.0f} chars) "
        f"in {loaded['seconds']:.1f} s",
        flush=True,
    )
    rounds_out: list[dict[str, Any]] = []
    for index in range(1, rounds + 1):
        bare = await bare_round(bench, index)
        print(f"  round {index} bare:   {_line(bare)}", flush=True)
        work = await worker_round(bench, index)
        print(
            f"  round {index} worker: {_line(work)} | start-up {work['startup_seconds']:.1f} s"
            f" | ratio {work['per_s'] / bare['per_s']:.2f}",
            flush=True,
        )
        rounds_out.append({"bare": bare, "worker": work, "ratio": work["per_s"] / bare["per_s"]})
    worker_max = statistics.median(r["worker"]["per_s"] for r in rounds_out)
    rate = worker_max / 2
    print(
        f"latency at {rate:,.0f} comments/s (half the worker's max) for {latency_seconds:g} s ..."
    )
    latency = await latency_phase(bench, rate, latency_seconds)
    return {"preload": loaded, "rounds": rounds_out, "latency": latency}


def _line(r: dict[str, Any]) -> str:
    text = (
        f"{r['per_s']:>8,.0f} msgs/s ({r['seconds']:.2f} s) | {r['cpu_us_per_msg']:5.1f} CPU µs/msg"
        f" ({r['cpu_cores']:.2f} cores) | broker {r['broker_cpu_us_per_msg']:4.1f} µs/msg"
    )
    if r["outputs"] != r["distinct_keys"]:
        text += f" | {r['outputs'] - r['distinct_keys']} duplicate outputs"
    own = r.get("own_clock")
    if own:
        text += f" | own clock {own['per_s']:,.0f}/s"
    return text


def summarize(results: dict[str, Any], count: int) -> None:
    rounds = results["rounds"]
    print()
    print(f"{'round':>5} | {'bare msgs/s':>11} | {'worker msgs/s':>13} | {'ratio':>5} | "
          f"{'CPU µs/msg bare/worker':>22} | {'CPU ratio':>9} | {'start-up':>8}")  # fmt: skip
    for i, r in enumerate(rounds, start=1):
        b, w = r["bare"], r["worker"]
        print(
            f"{i:>5} | {b['per_s']:>11,.0f} | {w['per_s']:>13,.0f} | {r['ratio']:>5.2f} | "
            f"{b['cpu_us_per_msg']:>10.1f} / {w['cpu_us_per_msg']:<9.1f} | "
            f"{b['cpu_us_per_msg'] / w['cpu_us_per_msg']:>9.2f} | {w['startup_seconds']:>6.1f} s"
        )
    s = results["summary"]
    print(
        f"median ratio worker/bare: {s['ratio_median']:.2f} (target >= 0.5); "
        f"CPU ratio {s['cpu_ratio_median']:.2f}; N = {count:,} per round"
    )
    lat = results["latency"]
    hist = (
        f"; worker histogram p50 ~{lat['histogram_p50_ms']:.0f} ms, "
        f"p99 ~{lat['histogram_p99_ms']:.0f} ms (bucket-interpolated)"
        if lat["histogram_p50_ms"] is not None and lat["histogram_p99_ms"] is not None
        else ""
    )
    print(
        f"latency at {lat['published_rate']:,.0f}/s (target {lat['target_rate']:,.0f}/s, "
        f"{lat['published']:,} comments, {lat['paired']:,} paired): produce -> decision on the "
        f"broker p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, max {lat['max_ms']:.0f} ms"
        f"{hist}; worker {lat['worker_cpu_cores']:.2f} cores busy"
    )
    print(
        "  p50 by second of the window (ms): "
        + " ".join(f"{v:.0f}" for v in lat["p50_ms_by_second"])
    )
    cores = lat["cores_by_second"]
    print("  worker cores by second:  " + " ".join(f"{v:.2f}" for v in cores["proc"]))
    print("  broker cores by second:  " + " ".join(f"{v:.2f}" for v in cores["broker"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, help="comments preloaded [200000; --quick 20000]")
    parser.add_argument("--rounds", type=int, help="alternating rounds [2; --quick 1]")
    parser.add_argument("--latency-seconds", type=float, help="latency window [20; --quick 8]")
    parser.add_argument("--quick", action="store_true", help="small and short, for CI")
    parser.add_argument(
        "--max-records", type=int, default=5000, help="the bare loop's getmany max_records"
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the worker, e.g. STREAMPROC_BATCH_SIZE=5000 (repeatable)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    count = args.count or (20_000 if args.quick else 200_000)
    rounds = args.rounds or (1 if args.quick else 2)
    latency_seconds = args.latency_seconds or (8.0 if args.quick else 20.0)
    topics = [d.name for d in load_declarations() if d.name.startswith("comments.")]
    if any("=" not in item for item in args.worker_env):
        parser.error("--worker-env takes NAME=VALUE")
    worker_env = dict(item.split("=", 1) for item in args.worker_env)

    workdir = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    broker = LocalBroker(workdir / "broker", port=free_port(), controller_port=free_port())
    atexit.register(broker.kill)
    atexit.register(_kill_children)
    started = time.perf_counter()
    load_before = os.getloadavg()
    try:
        bootstrap = broker.start(timeout=300, die_with_parent=True)
        print(
            f"broker {bootstrap} up in {time.perf_counter() - started:.1f} s; "
            f"{os.cpu_count()} CPUs, nothing pinned; Python {platform.python_version()}",
            flush=True,
        )
        bench = Bench(
            broker=broker,
            settings=KafkaSettings(bootstrap_servers=(bootstrap,)),
            bootstrap=bootstrap,
            workdir=workdir,
            count=count,
            comment_topics=topics,
            partitions={},
            max_records=args.max_records,
            worker_env=worker_env,
        )
        results = asyncio.run(run(bench, rounds, latency_seconds))
    except KeyboardInterrupt:
        print("interrupted: stopping the worker and the broker", file=sys.stderr)
        return 130
    finally:
        _kill_children()
        broker.stop(timeout=20)
        atexit.unregister(broker.kill)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    ratios = [r["ratio"] for r in results["rounds"]]
    cpu_ratios = [
        r["bare"]["cpu_us_per_msg"] / r["worker"]["cpu_us_per_msg"] for r in results["rounds"]
    ]
    results["summary"] = {
        "count": count,
        "rounds": rounds,
        "bare_per_s_median": statistics.median(r["bare"]["per_s"] for r in results["rounds"]),
        "worker_per_s_median": statistics.median(r["worker"]["per_s"] for r in results["rounds"]),
        "ratio_median": statistics.median(ratios),
        "ratios": ratios,
        "cpu_ratio_median": statistics.median(cpu_ratios),
        "startup_seconds_median": statistics.median(
            r["worker"]["startup_seconds"] for r in results["rounds"]
        ),
    }
    results["environment"] = {
        "cpus": os.cpu_count(),
        "pinned": False,
        "python": platform.python_version(),
        "faust": version("faust-streaming"),
        "aiokafka": version("aiokafka"),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "bare_max_records": args.max_records,
        "worker_env": worker_env,
        "wall_seconds": time.perf_counter() - started,
    }
    summarize(results, count)
    print(f"total {results['environment']['wall_seconds']:.0f} s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "worker.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
