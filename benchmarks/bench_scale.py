"""Scale-out (1 against 2 worker processes) and a 100k-term policy swap under load (full mode).

    python -m benchmarks --only scaleout
    python -m benchmarks --only policy_swap

Each section starts its own local broker, applies the packaged topics (five ``comments.*``
topics of 6 partitions: 30 partitions to share) and preloads a backlog, as the streaming
section does.

**Scale-out**: in alternating rounds (1 then 2 workers, the next round 2 then 1), the worker
group is deleted and the strikes changelog emptied, then one or two ``streamproc worker``
processes (one consumer group) read the backlog from offset 0. comments/s = N ÷ (CreateTime of
the first decision → the decision that completes the N distinct comment ids; a rebalance may
repeat a few). The ratio is 2 workers ÷ 1 worker of the same round. CPU µs per comment of the
workers and of the broker come from /proc over the same window and feed a model of N machines.

**Policy swap**: one worker reads a backlog at its own steady maximum; once it has decided a
fifth of it, ``streamproc policy publish`` publishes the default pack plus 100k synthetic terms
(as bench_engine's ``lexicon_100k``). From the decisions: the time from the start of the publish
command to the first decision citing the new policy version, and the decisions per 250 ms bin
(their CreateTime) against the steady rate before the publish: the lowest bin and the time
below 50% of it. The backlog must outlast the swap by 2 s at the worker's rate, or the run
says the figures are void (``void_reason``) instead of measuring an idle worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka.errors import GroupCoordinatorNotAvailableError

from benchmarks.bench_engine import big_pack_files, python_argv
from benchmarks.bench_worker import preload, setup
from benchmarks.kafka_tools import CpuSampler, delete_group, end_offsets, read_window, recreate
from benchmarks.progress import Reporter
from benchmarks.report import ratio
from benchmarks.stream_harness import (
    ACTIONS,
    APP_ID,
    CHANGELOG,
    PARTITIONS_WANTED,
    Bench,
    BenchWorker,
    delivered,
    local_bench,
)
from streamproc.kafka import admin_client
from streamproc.local import metric_total, service_env

# Two workers at ~70k/s need ~3 s to settle into their partitions: 300k comments were gone in
# ~4 s, leaving no settled window to measure.
SCALE_COUNT = 1_000_000
SCALE_ROUNDS = 2
# Long enough at ~60k/s for ~5 s of steady rate, the publish (~4-8 s of validation), the paced
# compilation (~10 s) and 2 s after the swap: 500k lasted only ~9 s once the worker reached 55k/s.
SWAP_COUNT = 1_500_000
SWAP_PUBLISH_AT = 0.2  # the share of the backlog decided when the pack is published
SWAP_MIN_STEADY_SECONDS = 2.0  # of decisions before the publish, for the steady rate
SWAP_TERMS = 100_000
BIN = 0.25  # seconds per throughput bin of the swap


async def _prepare(bench: Bench, reporter: Reporter, label: str) -> dict[str, Any]:
    await setup(bench)
    reporter.step(f"{label}: preloading {bench.count:,} comments")
    loaded = await preload(bench)
    reporter.log(f"{loaded['comments']:,} comments preloaded in {loaded['seconds']:.1f} s")
    return loaded


async def _fresh_group(bench: Bench) -> dict[Any, int]:
    async with admin_client(bench.settings) as admin:
        # A fresh broker has no offsets topic yet, hence no group to delete.
        with contextlib.suppress(GroupCoordinatorNotAvailableError):
            await delete_group(admin, APP_ID)  # from offset 0 again ...
        await recreate(admin, CHANGELOG)  # ... with no strikes to recover
    return await end_offsets(bench.settings, bench.tps(ACTIONS))


async def _poll(workers: list[BenchWorker]) -> tuple[float, list[float]]:
    """Decisions delivered by all the workers, and the partitions each holds."""
    total, assigned = 0.0, []
    for worker in workers:
        samples = await worker.metrics()
        if samples is None and worker.process is not None and worker.process.poll() is not None:
            raise RuntimeError(f"a worker exited; log: {worker.log_path}")
        total += delivered(samples or {})
        assigned.append(metric_total(samples or {}, "streamproc_assigned_partitions"))
    return total, assigned


def _completion(keys: list[bytes | None], stamps: list[int], count: int) -> tuple[float, float]:
    """(first decision, the decision completing ``count`` distinct comments), in seconds."""
    seen: set[bytes | None] = set()
    ordered = sorted(zip(stamps, keys, strict=True), key=lambda pair: pair[0])
    for stamp, key in ordered:
        seen.add(key)
        if len(seen) >= count:
            return ordered[0][0] / 1000, stamp / 1000
    return ordered[0][0] / 1000, float("nan")


async def scale_round(bench: Bench, processes: int, index: int) -> dict[str, Any]:
    before = await _fresh_group(bench)
    workers = [BenchWorker(bench, f"scale-{index}-{processes}-{i}") for i in range(processes)]
    pids = {f"w{i}": worker.start() for i, worker in enumerate(workers)}
    sampler = CpuSampler({**pids, "broker": bench.broker_pid})
    sampler.start()
    deadline = time.monotonic() + 180 + bench.count / 500
    settled_at = float("nan")  # when every worker held its share of the partitions
    try:
        while True:
            total, assigned = await _poll(workers)
            share = PARTITIONS_WANTED // processes
            whole = sum(assigned) >= PARTITIONS_WANTED and min(assigned) >= share
            if whole and settled_at != settled_at:  # the first time (NaN until then)
                settled_at = time.time()
            if total >= bench.count:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{processes} worker(s) did not finish; logs in {bench.workdir}")
            await asyncio.sleep(0.25)
        while True:  # a rebalance may repeat decisions: wait for every distinct comment
            out = await read_window(bench.settings, before)
            first, last = _completion(out.keys, out.stamps, bench.count)
            if last == last or time.monotonic() > deadline:  # not NaN, or give up
                break
            await asyncio.sleep(1.0)
    finally:
        await sampler.stop()
        for worker in workers:
            worker.stop()
    seconds = max(last - first, 0.001)
    # After the group settled (the gauge is refreshed every 2 s: settled_at is late, if
    # anything): the rate without the start-up rebalance a second member causes.
    after = {k for k, stamp in zip(out.keys, out.stamps, strict=True) if stamp >= settled_at * 1000}
    settled_seconds = last - settled_at
    workers_cpu = sum(sampler.used(name, first, last) for name in pids)
    broker_cpu = sampler.used("broker", first, last)
    return {
        "processes": processes,
        "outputs": out.count,
        "duplicates": out.count - len(set(out.keys)),
        "seconds": seconds,
        "per_s": bench.count / seconds,
        "settled_after_first_decision_s": settled_at - first,
        "settled_per_s": len(after) / settled_seconds if settled_seconds > 1 else float("nan"),
        "workers_cpu_us_per_msg": workers_cpu / bench.count * 1e6,
        "workers_cpu_cores": workers_cpu / seconds,
        "broker_cpu_us_per_msg": broker_cpu / bench.count * 1e6,
        "broker_cpu_cores": broker_cpu / seconds,
    }


def scale_model(one: dict[str, Any], cpus: int) -> dict[str, Any]:
    """What the CPU per comment measured with one worker predicts.

    On this machine, 2 workers and the broker share ``cpus`` cores: the rate is bounded by one
    core per worker (1e6 / worker µs) and by all cores together (cpus·1e6 / (worker + broker
    µs)). On N machines, one worker each and the broker elsewhere: N times the one-worker rate, up
    to the 30 partitions (a group gives each partition to one member), and up to what the
    broker's cores can serve (1e6 / broker µs per broker core)."""
    worker_us = one["workers_cpu_us_per_msg_median"]
    broker_us = one["broker_cpu_us_per_msg_median"]
    per_worker = 1e6 / worker_us  # one worker with a core of its own
    here = min(2 * per_worker, cpus * 1e6 / (worker_us + broker_us))
    return {
        "worker_cpu_us_per_msg": worker_us,
        "broker_cpu_us_per_msg": broker_us,
        "one_worker_on_a_core_per_s": per_worker,
        "two_workers_here_bound_per_s": here,
        "two_workers_here_ratio_bound": here / one["per_s_median"],  # ÷ the measured one
        "two_workers_here_ratio_bound_cpu_bound": here / per_worker,  # ÷ a CPU-bound one
        "broker_core_per_s": 1e6 / broker_us,
        "n_machines_per_s": {
            str(n): min(n, 30) * one["per_s_median"] for n in (1, 2, 4, 8, 16, 30, 60)
        },
        "broker_cores_needed": {
            str(n): min(n, 30) * one["per_s_median"] * broker_us / 1e6 for n in (1, 2, 4, 8, 16, 30)
        },
    }


async def _scaleout(bench: Bench, reporter: Reporter) -> dict[str, Any]:
    loaded = await _prepare(bench, reporter, "scaleout")
    rounds: list[dict[str, Any]] = []
    for index in range(1, SCALE_ROUNDS + 1):
        reporter.step(f"scaleout: round {index} of {SCALE_ROUNDS}")
        entry: dict[str, Any] = {}
        for processes in (1, 2) if index % 2 else (2, 1):
            entry[str(processes)] = result = await scale_round(bench, processes, index)
            reporter.log(
                f"round {index}, {processes} worker(s): {result['per_s']:>8,.0f} msgs/s "
                f"({result['seconds']:.2f} s) | workers {result['workers_cpu_cores']:.2f} cores, "
                f"{result['workers_cpu_us_per_msg']:.1f} µs/msg | broker "
                f"{result['broker_cpu_cores']:.2f} cores | {result['duplicates']} duplicates | "
                f"settled {result['settled_after_first_decision_s']:.1f} s after the first "
                f"decision, then {result['settled_per_s']:,.0f}/s"
            )
        rounds.append(entry)
    return {"preload": loaded, "rounds": rounds}


def run_scaleout(quick: bool, reporter: Reporter) -> dict[str, Any]:
    import os

    with local_bench(SCALE_COUNT, "scaleout", step=reporter.step) as bench:
        raw = asyncio.run(_scaleout(bench, reporter))
    rounds = raw["rounds"]
    figures: dict[str, Any] = {"preload": raw["preload"]}
    for n in ("1", "2"):
        figures[f"workers_{n}"] = {
            key + "_median": _median_of_measured([r[n][key] for r in rounds])
            for key in ("per_s", "settled_per_s", "workers_cpu_us_per_msg", "workers_cpu_cores",
                        "broker_cpu_us_per_msg", "broker_cpu_cores", "duplicates")
        }  # fmt: skip
        figures[f"workers_{n}"]["per_s_rounds"] = [r[n]["per_s"] for r in rounds]
    per_round = [r["2"]["per_s"] / r["1"]["per_s"] for r in rounds]
    settled = [r["2"]["settled_per_s"] / r["1"]["settled_per_s"] for r in rounds]
    figures["model"] = scale_model(figures["workers_1"], os.cpu_count() or 1)
    ratios = {
        "scaleout.two_vs_one_worker": ratio(
            statistics.median(per_round),
            "2 worker processes ÷ 1, comments/s on a 30-partition backlog, same round",
            rounds=per_round,
        ),
        "scaleout.two_vs_one_worker_settled": ratio(
            _median_of_measured(settled),
            "the same once every worker holds its partitions (no start-up rebalance; median of "
            "the rounds that had a settled window)",
            rounds=settled,
        ),
    }
    throughput = {f"{n} worker(s)": figures[f"workers_{n}"]["per_s_median"] for n in ("1", "2")}
    model = figures["model"]
    notes = [
        f"2 cores shared by the workers and the broker: one worker costs "
        f"{model['worker_cpu_us_per_msg']:.0f} µs and the broker "
        f"{model['broker_cpu_us_per_msg']:.0f} µs of CPU per comment, so two workers here are "
        f"bounded by {model['two_workers_here_bound_per_s']:,.0f}/s "
        f"({model['two_workers_here_ratio_bound']:.2f}x the one worker measured), not 2x.",
        "N machines, one worker each, the broker elsewhere: N x one worker up to the 30 comment "
        "partitions (model.n_machines_per_s), with the broker needing "
        "model.broker_cores_needed cores at the measured broker CPU per comment.",
    ]
    return {
        "ratios": ratios,
        "figures": figures,
        "series": {"scaleout": throughput},
        "notes": notes,
        "raw": raw,
    }


# The policy swap -------------------------------------------------------------------------------


def _write_pack(directory: Path, terms: int) -> Path:
    for name, text in big_pack_files(terms).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


def swap_analysis(
    stamps: list[int], versions: list[str], published_at: float, published_end: float
) -> dict[str, Any]:
    """Time to swap and the dip, from the decisions' CreateTime (ms) and policy versions."""
    old = versions[min(range(len(stamps)), key=stamps.__getitem__)]
    first_new = min((s for s, v in zip(stamps, versions, strict=True) if v != old), default=None)
    start, end = min(stamps) / 1000, max(stamps) / 1000
    bins = [0] * (int((end - start) / BIN) + 1)
    for stamp in stamps:
        bins[int((stamp / 1000 - start) / BIN)] += 1
    rates = [count / BIN for count in bins]
    t0 = int((published_at - start) / BIN)
    steady = statistics.median(rates[int(1 / BIN) : t0]) if t0 > int(1 / BIN) + 2 else rates[0]
    after = rates[t0 : len(rates) - int(1 / BIN)]  # the last second: the backlog running out
    below = [r for r in after if r < 0.5 * steady]
    longest = run = 0  # the longest stretch of consecutive bins below half the steady rate
    for r in after:
        run = run + 1 if r < 0.5 * steady else 0
        longest = max(longest, run)
    swap_bin = int((first_new / 1000 - start) / BIN) if first_new else len(rates)
    through = swap_bin - t0 + int(2 / BIN)
    void_reason = None
    if (published_at - start) < SWAP_MIN_STEADY_SECONDS + 1:
        void_reason = "fewer than 2 s of decisions before the publish: no steady rate"
    elif first_new is None:
        void_reason = "no decision under the new policy: the backlog ran out before the swap"
    elif end - first_new / 1000 < 2.0:
        void_reason = "the backlog ran out less than 2 s after the swap"
    return {
        "void_reason": void_reason,
        "old_version": old,
        "new_version": next((v for v in versions if v != old), None),
        "publish_command_seconds": published_end - published_at,
        "seconds_to_swap": (first_new / 1000 - published_at) if first_new else None,
        # From the record on the topic (the command returns once the broker has it).
        "seconds_to_swap_after_record": (first_new / 1000 - published_end) if first_new else None,
        "steady_per_s": steady,
        "lowest_bin_fraction": min(after) / steady if after else None,
        "seconds_below_half": len(below) * BIN,  # in all, noise of a busy machine included
        "longest_below_half_seconds": longest * BIN,
        "mean_fraction_5s_after_publish": statistics.fmean(after[: int(5 / BIN)]) / steady
        if after
        else None,
        # From the publish to 2 s after the swap: what the whole change-over cost.
        "mean_fraction_publish_to_swap": statistics.fmean(after[:through]) / steady
        if after[:through]
        else None,
        "bin_seconds": BIN,
        "rates_per_s": rates,
        "publish_bin": t0,
    }


async def _policy_swap(bench: Bench, reporter: Reporter) -> dict[str, Any]:
    loaded = await _prepare(bench, reporter, "policy_swap")
    pack = _write_pack(bench.workdir / "pack-100k", SWAP_TERMS)
    before = await _fresh_group(bench)
    reporter.step(f"policy_swap: one worker on the backlog, {SWAP_TERMS:,} terms published")
    worker = BenchWorker(bench, "swap")
    sampler = CpuSampler({"proc": worker.start(), "broker": bench.broker_pid})
    sampler.start()
    publish = [*python_argv(), "-m", "streamproc", "policy", "publish", str(pack)]
    try:
        await worker.wait_until(
            lambda s: delivered(s) >= bench.count * SWAP_PUBLISH_AT, timeout=300, every=0.1
        )
        published_at = time.time()
        done = await asyncio.to_thread(
            subprocess.run, publish, env=service_env(bench.bootstrap), capture_output=True
        )
        published_end = time.time()
        if done.returncode != 0:
            raise RuntimeError(f"policy publish failed: {done.stderr.decode()[-2000:]}")
        await worker.wait_until(lambda s: delivered(s) >= bench.count, timeout=600, every=0.25)
    finally:
        await sampler.stop()
        worker.stop()
    out = await read_window(bench.settings, before, values=True)
    versions = [orjson.loads(v or b"{}").get("policy_version", "") for v in out.values]
    result = swap_analysis(out.stamps, versions, published_at, published_end)
    result["worker_cpu_cores_by_bin"] = [
        round(sampler.used("proc", published_at + i * BIN, published_at + (i + 1) * BIN) / BIN, 2)
        for i in range(int(20 / BIN))
    ]
    if result["void_reason"]:
        reporter.log(f"policy swap figures void: {result['void_reason']}")
    reporter.log(
        f"steady {result['steady_per_s']:,.0f}/s; publish command "
        f"{result['publish_command_seconds']:.1f} s; "
        f"swap after {_or_nan(result['seconds_to_swap']):.1f} s; lowest bin "
        f"{_or_nan(result['lowest_bin_fraction']):.0%}; "
        f"{result['seconds_below_half']:.2f} s below 50% in all, at most "
        f"{result['longest_below_half_seconds']:.2f} s in a row"
    )
    return {"preload": loaded, "terms": SWAP_TERMS, **result}


def _median_of_measured(values: list[float]) -> float:
    """The median of the values that were measured (NaN: a round without that window)."""
    measured = [v for v in values if v == v]
    return statistics.median(measured) if measured else float("nan")


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def run_policy_swap(quick: bool, reporter: Reporter) -> dict[str, Any]:
    with local_bench(SWAP_COUNT, "policy_swap", step=reporter.step) as bench:
        raw = asyncio.run(_policy_swap(bench, reporter))
    figures = {k: v for k, v in raw.items() if k not in ("rates_per_s", "worker_cpu_cores_by_bin")}
    ratios = {}
    if raw["mean_fraction_publish_to_swap"] is not None and not raw["void_reason"]:
        ratios["policy_swap.during_vs_steady"] = ratio(
            raw["mean_fraction_publish_to_swap"],
            "one worker's comments/s from the publish of a 100k-term pack to 2 s after the swap "
            "÷ its steady rate before, same run",
        )
    return {"ratios": ratios, "figures": figures, "series": {}, "raw": raw}
