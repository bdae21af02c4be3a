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

Full mode adds other systems to each round (the naive Faust agent, benchmarks/naive_faust.py;
Quix Streams, benchmarks/quix_app.py; the bare loop on librdkafka, benchmarks/confluent_loop.py;
see benchmarks/__main__.py) and measures latency at 25, 50 and 75% of the worker's max; quick
mode at 50%. ``--stream-count`` and ``--stream-rounds`` override the backlog and the rounds.
Nothing is pinned: the worker (or the bare loop) and the broker need both cores of a 2-core
machine. The machine is noisy: compare the ratio of each round, not absolute rates across runs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Any

import orjson
from aiokafka.admin import NewTopic

from benchmarks.corpus import ndjson_lines
from benchmarks.kafka_tools import (
    CpuSampler,
    Output,
    delete_group,
    end_offsets,
    read_window,
    recreate,
)
from benchmarks.latency import bare_latency_phase, latency_phase, latency_section, window_line
from benchmarks.naive_faust import NAIVE_OUT
from benchmarks.progress import Reporter
from benchmarks.report import ratio
from benchmarks.stream_harness import (
    ACTIONS,
    APP_ID,
    BARE_OUT,
    CHANGELOG,
    DEAD_LETTERS,
    Bench,
    BenchWorker,
    children,
    delivered,
    local_bench,
    loop_argv,
)
from benchmarks.systems import SystemFailed
from streamproc.connect import publish_lines
from streamproc.kafka import admin_client, apply, load_declarations
from streamproc.local import (
    ChildProcess,
    metric_total,
    service_env,
)


async def preload(bench: Bench) -> dict[str, Any]:
    lines = ndjson_lines(bench.count)
    chars = statistics.fmean(len(orjson.loads(x)["text"]) for x in lines[:5000])
    summary = await publish_lines(bench.settings, lines, known_topics=set(bench.comment_topics))
    if summary.dead_letters or summary.sent != bench.count:
        raise RuntimeError(f"preload: sent {summary.sent}, dead letters {summary.dead_letters[:3]}")
    return {"comments": summary.sent, "mean_text_chars": chars, "seconds": summary.seconds}


async def bare_round(bench: Bench, index: int) -> dict[str, Any]:
    return await loop_round(bench, index, "bare", "benchmarks.bare_loop", BARE_OUT)


async def loop_round(
    bench: Bench, index: int, kind: str, module: str, output_topic: str
) -> dict[str, Any]:
    """One round of a bare loop (``python -m module``, bare_loop.py's command line): it exits
    once it has consumed the backlog; every comment must have exactly one output record."""
    before = await end_offsets(bench.settings, bench.tps(output_topic))
    result = bench.workdir / f"{kind}-{index}.json"
    log = bench.workdir / f"{kind}-{index}.log"
    group = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
    args = loop_argv(bench, module, group, bench.count, result)
    child = ChildProcess(args, service_env(bench.bootstrap), log)
    children.append(child)
    process = child.launch().process
    assert process is not None
    sampler = CpuSampler({"proc": process.pid, "broker": bench.broker_pid})
    sampler.start()
    deadline = time.monotonic() + 120 + bench.count / 1000
    try:
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} loop timed out:\n{child.log()}")
            await asyncio.sleep(0.2)
    finally:
        await sampler.stop()
        child.stop()
        children.remove(child)
    if process.returncode != 0:
        raise RuntimeError(f"the {kind} loop failed ({process.returncode}):\n{child.log()}")
    own = json.loads(result.read_text())
    out = await read_window(bench.settings, before)
    problem = output_problem(bench.count, out)
    if problem:
        raise RuntimeError(f"the {kind} loop: {problem}")
    return _round_result(kind, bench, out, sampler, extra={"own_clock": own})


def output_problem(count: int, out: Output) -> str | None:
    """What is wrong with a loop's outputs for ``count`` comments, if anything: one output
    record per comment, keyed by its comment id."""
    distinct = len(set(out.keys))
    if out.count < count:
        return f"{out.count:,} output records for {count:,} comments"
    if distinct != out.count:
        return f"{out.count - distinct:,} duplicate outputs ({out.count:,} records)"
    return None


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
        return consumed >= bench.count and delivered(samples) >= bench.count

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


async def setup(bench: Bench, scratch_topics: Sequence[str] = ()) -> None:
    """The packaged topics, the bare loop's and the naive agent's scratch topics and
    ``scratch_topics`` (other systems' outputs), 6 partitions each."""
    declarations = load_declarations()
    async with admin_client(bench.settings) as admin:
        report = await apply(declarations, admin)
        if report.has_errors:
            raise RuntimeError("\n".join(report.lines()))
        scratch = list(dict.fromkeys([BARE_OUT, NAIVE_OUT, *scratch_topics]))
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
    # Unmeasured windows at the first load before the measured ones, until the broker's CPU
    # stops falling from one to the next (see warm_up): its JIT compiles the paths of small
    # produce and fetch requests there.
    warmup_seconds: float = 8.0
    warmup_windows: int = 5  # at most

    @classmethod
    def for_mode(
        cls, quick: bool, count: int | None = None, rounds: int | None = None
    ) -> StreamingOptions:
        """The mode's options; ``count`` and ``rounds`` (``--stream-count``, ``--stream-rounds``)
        override the backlog size and the number of throughput rounds."""
        if quick:
            # Three rounds of 2-3 s windows: one slow second in a round of 20k (under a second)
            # once took the ratio from ~1.0 to 0.61; the median of three rounds absorbs it.
            options = cls(
                count=50_000, rounds=3, latency_seconds=8.0, load_points=(0.5,), warmup_windows=4
            )
        else:
            options = cls(
                count=200_000,
                rounds=3,
                latency_seconds=20.0,
                load_points=(0.25, 0.5, 0.75),
                warmup_seconds=10.0,
            )
        if count is not None:
            if count < 1:
                raise ValueError("the streaming backlog needs at least one comment")
            options = replace(options, count=count)
        if rounds is not None:
            if rounds < 1:
                raise ValueError("the streaming benchmark needs at least one round")
            options = replace(options, rounds=rounds)
        return options


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
    await setup(bench, [topic for system in extra for topic in system.scratch_topics])
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
            try:
                entry[system.name] = await system.round(bench, index)
            except SystemFailed as failure:
                if not getattr(system, "trial", False):
                    raise
                entry[system.name] = {
                    "kind": system.name,
                    "failed": failure.reason,
                    "log": failure.log,
                }
                reporter.log(f"round {index} {system.name}: FAILED, {failure.reason}")
                continue
            reporter.log(f"round {index} {system.name}: {_line(entry[system.name])}")
        rounds.append(entry)
    worker_max = statistics.median(r["worker"]["per_s"] for r in rounds)
    latency: dict[str, Any] = {}
    warmup: list[dict[str, Any]] = []
    if options.load_points:  # warm_up runs none when warmup_windows is 0
        warmup = await warm_up(bench, worker_max * options.load_points[0], options, reporter)
    bare: dict[str, Any] = {}
    for share in options.load_points:
        rate = worker_max * share
        reporter.step(f"streaming: latency at {share:.0%} of the worker's max ({rate:,.0f}/s)")
        latency[f"{share:.0%}"] = point = await latency_phase(bench, rate, options.latency_seconds)
        reporter.log(f"worker at {window_line(point)}")
        reporter.step(f"streaming: the bare loop's latency at the same {rate:,.0f}/s")
        bare[f"{share:.0%}"] = point = await bare_latency_phase(
            bench, rate, options.latency_seconds
        )
        reporter.log(f"bare loop at {window_line(point)}")
    return {
        "preload": loaded,
        "rounds": rounds,
        "latency": latency,
        "latency_bare": bare,
        "latency_warmup": warmup,
    }


#: A warm-up window whose broker CPU is at least this share of the window before it is the last:
#: the broker's cost of a comment no longer falls.
SETTLED = 0.85


async def warm_up(
    bench: Bench, rate: float, options: StreamingOptions, reporter: Reporter
) -> list[dict[str, Any]]:
    """Latency windows at ``rate``, not counted, until the broker has settled.

    A broker that has only served bulk backlogs compiles the code of a steady trickle of small
    requests in its first windows of one (jstat -compiler: ~10 s of JIT time in the first 15 s
    window on a 2-core machine, 1-2 s in the next), taking 0.4-0.9 cores against 0.2-0.3 after
    it, while the worker's p99 was 120-700 ms against 30-70 ms at the same rate: without the
    warm-up the first measured load would measure the JVM, not the worker. The number of
    windows it takes depends on the machine; each is kept for the record.
    """
    windows: list[dict[str, Any]] = []
    while len(windows) < options.warmup_windows:
        reporter.step(
            f"streaming: warm-up window {len(windows) + 1}, {options.warmup_seconds:.0f} s"
            f" at {rate:,.0f}/s"
        )
        point = await latency_phase(bench, rate, options.warmup_seconds)
        windows.append(point)
        reporter.log(
            f"warm-up at {point['published_rate']:,.0f}/s (not counted): p99 "
            f"{point['p99_ms']:.0f} ms, broker {point['broker_cpu_cores']:.2f} cores"
        )
        if settled(windows):
            break
    return windows


def settled(windows: Sequence[dict[str, Any]]) -> bool:
    """Whether the last window's broker CPU no longer fell from the one before."""
    if len(windows) < 2:
        return False
    last, before = float(windows[-1]["broker_cpu_cores"]), float(windows[-2]["broker_cpu_cores"])
    return last >= SETTLED * before


def _section(results: dict[str, Any], systems: Sequence[str]) -> dict[str, Any]:
    rounds = results["rounds"]
    ratios: dict[str, Any] = {}
    throughput: dict[str, float] = {}
    figures: dict[str, Any] = {"preload": results["preload"]}
    failed = {s: [r[s]["failed"] for r in rounds if "failed" in r[s]] for s in systems}
    for system, failures in failed.items():
        if failures:  # a trial system that did not deliver: no figures, no ratios
            figures[system] = {
                "failed_rounds": len(failures),
                "failure": failures[0],
            }
    measured = [s for s in systems if not failed[s]]
    for system in ("bare", "worker", *measured):
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
    for system in measured:  # the worker against the other systems of the same rounds
        ratios[f"streaming.worker_vs_{system}"] = ratio(
            statistics.median(r["worker"]["per_s"] / r[system]["per_s"] for r in rounds),
            f"worker ÷ {system}, comments/s, same round",
            rounds=[r["worker"]["per_s"] / r[system]["per_s"] for r in rounds],
        )
    figures["worker"]["startup_seconds_median"] = statistics.median(
        r["worker"]["startup_seconds"] for r in rounds
    )
    latency_ratios, latency_figures, curves = latency_section(results)
    ratios |= latency_ratios
    figures |= latency_figures
    return {
        "ratios": ratios,
        "figures": figures,
        "series": {"throughput": throughput, "latency": curves},
        "raw": results,
    }


def run_streaming(
    quick: bool,
    reporter: Reporter,
    extra: Sequence[Any] = (),
    options: StreamingOptions | None = None,
) -> dict[str, Any]:
    """The streaming section of the suite: its own broker, always stopped at the end."""
    options = options or StreamingOptions.for_mode(quick)
    with local_bench(options.count, "streaming", options.max_records, reporter.step) as bench:
        results = asyncio.run(_streaming(bench, options, reporter, extra))
    section = _section(results, [system.name for system in extra])
    section["figures"]["versions"] = {
        "faust-streaming": version("faust-streaming"),
        "aiokafka": version("aiokafka"),
    }
    return section
