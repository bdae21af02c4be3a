"""Streaming throughput and latency of one worker process, against a bare aiokafka loop.

    python -m benchmarks --only streaming [--quick]

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
switched to LogAppendTime; comments are published at a share of the worker's measured max rate
for ``--latency-seconds``; every decision is paired with its comment: latency = the decision's
LogAppendTime (on the broker) - the comment's CreateTime (set by the publisher at send).
Millisecond resolution. The worker's own histogram (comment timestamp -> batch delivered;
bucket-interpolated like Prometheus' histogram_quantile) is reported next to it.

Full mode adds the naive Faust agent (benchmarks/naive_faust.py) to each round and measures
latency at 25, 50 and 75% of the worker's max; quick mode at 50%. Nothing is pinned: the worker
(or the bare loop) and the broker need both cores of a 2-core machine. The machine is noisy:
compare the ratio of each round, not absolute rates across runs.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from benchmarks.bench_engine import python_argv
from benchmarks.corpus import ndjson_lines
from benchmarks.kafka_tools import (
    CpuSampler,
    Output,
    delete_group,
    end_offsets,
    partitions_of,
    read_window,
    recreate,
)
from benchmarks.naive_faust import NAIVE_OUT
from benchmarks.progress import Reporter
from benchmarks.report import ratio
from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings, admin_client, apply, load_declarations
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

# Processes ---------------------------------------------------------------------------------

# Every process this benchmark starts, so that they are stopped whatever happens.
_children: list[ChildProcess] = []


def _kill_children() -> None:
    for process in list(_children):
        process.kill()
        _children.remove(process)


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
        return partitions_of(topics, self.partitions)


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
        *python_argv(),
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
        "p95_ms": pct(0.95),
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
        "latencies_ms": latencies[:: max(len(latencies) // 1000, 1)],  # for the CDF plot
    }


async def setup(bench: Bench) -> None:
    declarations = load_declarations()
    async with admin_client(bench.settings) as admin:
        report = await apply(declarations, admin)
        if report.has_errors:
            raise RuntimeError("\n".join(report.lines()))
        scratch = [BARE_OUT, NAIVE_OUT]
        await admin.create_topics(
            [NewTopic(name, num_partitions=6, replication_factor=1) for name in scratch]
        )
        for _ in range(100):  # visible in the metadata before the first round uses them
            if set(scratch) <= set(await admin.list_topics()):
                break
            await asyncio.sleep(0.1)
    for declaration in declarations:
        bench.partitions[declaration.name] = declaration.partitions
    for name in scratch:
        bench.partitions[name] = 6


@dataclass(frozen=True)
class StreamingOptions:
    count: int
    rounds: int
    latency_seconds: float
    load_points: tuple[float, ...]  # shares of the worker's own max rate
    max_records: int = 5000

    @classmethod
    def for_mode(cls, quick: bool) -> StreamingOptions:
        if quick:
            return cls(count=20_000, rounds=1, latency_seconds=8.0, load_points=(0.5,))
        return cls(count=200_000, rounds=3, latency_seconds=20.0, load_points=(0.25, 0.5, 0.75))


def _line(r: dict[str, Any]) -> str:
    text = (
        f"{r['per_s']:>8,.0f} msgs/s ({r['seconds']:.2f} s) | {r['cpu_us_per_msg']:5.1f} CPU µs/msg"
        f" ({r['cpu_cores']:.2f} cores) | broker {r['broker_cpu_us_per_msg']:4.1f} µs/msg"
    )
    if r["outputs"] != r["distinct_keys"]:
        text += f" | {r['outputs'] - r['distinct_keys']} duplicate outputs"
    return text


async def _streaming(
    bench: Bench, options: StreamingOptions, reporter: Reporter, extra: Sequence[Any]
) -> dict[str, Any]:
    await setup(bench)
    reporter.step(f"streaming: preloading {bench.count:,} comments")
    loaded = await preload(bench)
    reporter.log(f"{loaded['comments']:,} comments preloaded in {loaded['seconds']:.1f} s")
    rounds: list[dict[str, Any]] = []
    for index in range(1, options.rounds + 1):
        reporter.step(f"streaming: round {index} of {options.rounds}")
        entry: dict[str, Any] = {"bare": await bare_round(bench, index)}
        reporter.log(f"round {index} bare:   {_line(entry['bare'])}")
        entry["worker"] = await worker_round(bench, index)
        reporter.log(f"round {index} worker: {_line(entry['worker'])}")
        for system in extra:  # other systems, each in the same round
            entry[system.name] = await system.round(bench, index)
            reporter.log(f"round {index} {system.name}: {_line(entry[system.name])}")
        rounds.append(entry)
    worker_max = statistics.median(r["worker"]["per_s"] for r in rounds)
    latency: dict[str, Any] = {}
    for share in options.load_points:
        rate = worker_max * share
        reporter.step(f"streaming: latency at {share:.0%} of the worker's max ({rate:,.0f}/s)")
        point = await latency_phase(bench, rate, options.latency_seconds)
        latency[f"{share:.0%}"] = point
        reporter.log(
            f"at {point['published_rate']:,.0f}/s: p50 {point['p50_ms']:.0f} ms, p95 "
            f"{point['p95_ms']:.0f} ms, p99 {point['p99_ms']:.0f} ms, max {point['max_ms']:.0f} ms"
        )
    return {"preload": loaded, "rounds": rounds, "latency": latency}


def _section(results: dict[str, Any], systems: Sequence[str]) -> dict[str, Any]:
    rounds = results["rounds"]
    ratios: dict[str, Any] = {}
    throughput: dict[str, float] = {}
    figures: dict[str, Any] = {"preload": results["preload"]}
    for system in ("bare", "worker", *systems):
        per_s = [r[system]["per_s"] for r in rounds]
        cpu = [r[system]["cpu_us_per_msg"] for r in rounds]
        throughput[system] = statistics.median(per_s)
        figures[system] = {
            "per_s_median": statistics.median(per_s),
            "per_s_rounds": per_s,
            "cpu_us_per_msg_median": statistics.median(cpu),
            "broker_cpu_us_per_msg_median": statistics.median(
                r[system]["broker_cpu_us_per_msg"] for r in rounds
            ),
        }
        if system == "bare":
            continue
        ratios[f"streaming.{system}_vs_bare"] = ratio(
            statistics.median(r[system]["per_s"] / r["bare"]["per_s"] for r in rounds),
            f"{system} ÷ bare aiokafka consume→engine→produce loop, comments/s, same round",
            rounds=[r[system]["per_s"] / r["bare"]["per_s"] for r in rounds],
        )
        ratios[f"streaming.{system}_vs_bare_cpu"] = ratio(
            statistics.median(
                r["bare"]["cpu_us_per_msg"] / r[system]["cpu_us_per_msg"] for r in rounds
            ),
            f"bare loop's CPU µs per comment ÷ {system}'s (steadier on a busy machine)",
        )
    for system in systems:  # the worker against the other systems of the same rounds
        ratios[f"streaming.worker_vs_{system}"] = ratio(
            statistics.median(r["worker"]["per_s"] / r[system]["per_s"] for r in rounds),
            f"worker ÷ {system}, comments/s, same round",
        )
    figures["worker"]["startup_seconds_median"] = statistics.median(
        r["worker"]["startup_seconds"] for r in rounds
    )
    latency_figures = {
        share: {
            key: point[key]
            for key in ("target_rate", "published_rate", "paired", "p50_ms", "p95_ms", "p99_ms",
                        "max_ms", "histogram_p99_ms", "worker_cpu_cores", "broker_cpu_cores")
        }
        for share, point in results["latency"].items()
    }  # fmt: skip
    figures["latency"] = latency_figures
    curves = {
        f"worker at {share} of its max ({point['published_rate']:,.0f}/s)": point["latencies_ms"]
        for share, point in results["latency"].items()
    }
    return {
        "ratios": ratios,
        "figures": figures,
        "series": {"throughput": throughput, "latency": curves},
        "raw": results,
    }


def run_streaming(quick: bool, reporter: Reporter, extra: Sequence[Any] = ()) -> dict[str, Any]:
    """The streaming section of the suite: its own broker, always stopped at the end."""
    options = StreamingOptions.for_mode(quick)
    topics = [d.name for d in load_declarations() if d.name.startswith("comments.")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    broker = LocalBroker(workdir / "broker", port=free_port(), controller_port=free_port())
    atexit.register(broker.kill)
    atexit.register(_kill_children)
    try:
        reporter.step("streaming: starting a local broker")
        bootstrap = broker.start(timeout=300, die_with_parent=True)
        bench = Bench(
            broker=broker,
            settings=KafkaSettings(bootstrap_servers=(bootstrap,)),
            bootstrap=bootstrap,
            workdir=workdir,
            count=options.count,
            comment_topics=topics,
            partitions={},
            max_records=options.max_records,
        )
        results = asyncio.run(_streaming(bench, options, reporter, extra))
    finally:
        _kill_children()
        broker.stop(timeout=20)
        atexit.unregister(broker.kill)
        shutil.rmtree(workdir, ignore_errors=True)
    section = _section(results, [system.name for system in extra])
    section["figures"]["versions"] = {
        "faust-streaming": version("faust-streaming"),
        "aiokafka": version("aiokafka"),
    }
    return section
