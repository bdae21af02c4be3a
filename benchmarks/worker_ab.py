"""Two builds of the worker side by side on one broker: before (say, main) against after.

    pip install --no-deps --target /tmp/ab-before <main's checkout>
    pip install --no-deps --target /tmp/ab-after .
    PYTHONPATH=/tmp/ab-after:. python -P -m benchmarks.worker_ab \
        --before /tmp/ab-before --after /tmp/ab-after [--count N] [--loads 0.25,0.5]

Each build is an install directory put first on the worker's PYTHONPATH (a ``pip install
--target`` of a source tree: the core compiled as users get it). One local broker, one
preloaded backlog; each throughput round runs the suite's bare aiokafka loop, then both builds
(before, after; the next round after, before), each from offset 0 and timed like the suite's
streaming section, from the output records' CreateTime. Then latency
at the given shares of the *before* worker's median max rate, both builds at the same rates,
alternating. The machine is shared and noisy: compare the ratios of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from pathlib import Path
from typing import Any

from benchmarks.bench_worker import _line, bare_round, preload, setup, worker_round
from benchmarks.latency import latency_phase
from benchmarks.stream_harness import Bench, local_bench


def _env(install: Path, extra: list[str]) -> dict[str, str]:
    env = {"PYTHONPATH": str(install)}
    for item in extra:
        name, _, value = item.partition("=")
        env[name] = value
    return env


async def _run(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    builds = {
        "before": _env(args.before, args.before_env),
        "after": _env(args.after, args.after_env),
    }
    await setup(bench)
    loaded = await preload(bench)
    print(f"{loaded['comments']:,} comments preloaded in {loaded['seconds']:.1f} s", flush=True)
    rounds: list[dict[str, Any]] = []
    for index in range(1, args.rounds + 1):
        # The bare aiokafka loop of the suite, as a reference (its first run also creates the
        # broker's offsets topic, which the worker rounds' group deletion needs).
        entry: dict[str, Any] = {"bare": await bare_round(bench, index)}
        print(f"round {index}   bare: {_line(entry['bare'])}", flush=True)
        order = ("before", "after") if index % 2 else ("after", "before")
        for name in order:
            bench.worker_env = builds[name]
            entry[name] = await worker_round(bench, index)
            print(f"round {index} {name:>6}: {_line(entry[name])}", flush=True)
        rounds.append(entry)
    result: dict[str, Any] = {"preload": loaded, "rounds": rounds}
    for name in builds:
        result[f"{name}_vs_bare_median"] = statistics.median(
            r[name]["per_s"] / r["bare"]["per_s"] for r in rounds
        )
        result[f"{name}_per_s_median"] = statistics.median(r[name]["per_s"] for r in rounds)
        result[f"{name}_cpu_us_median"] = statistics.median(
            r[name]["cpu_us_per_msg"] for r in rounds
        )
    result["throughput_ratio_rounds"] = [r["after"]["per_s"] / r["before"]["per_s"] for r in rounds]
    result["cpu_ratio_rounds"] = [
        r["before"]["cpu_us_per_msg"] / r["after"]["cpu_us_per_msg"] for r in rounds
    ]
    print(
        f"÷ bare loop, median of rounds: before {result['before_vs_bare_median']:.2f}, after "
        f"{result['after_vs_bare_median']:.2f}",
        flush=True,
    )
    print(
        f"after ÷ before, comments/s per round: "
        f"{', '.join(f'{x:.2f}' for x in result['throughput_ratio_rounds'])}; "
        f"CPU per comment, before ÷ after: "
        f"{', '.join(f'{x:.2f}' for x in result['cpu_ratio_rounds'])}",
        flush=True,
    )
    latency: dict[str, Any] = {}
    for share in args.loads:
        rate = result["before_per_s_median"] * share
        for name in ("before", "after"):
            bench.worker_env = builds[name]
            point = await latency_phase(bench, rate, args.latency_seconds)
            point.pop("latencies_ms", None)
            latency[f"{share:.0%} {name}"] = point
            print(
                f"latency {name:>6} at {point['published_rate']:,.0f}/s ({share:.0%} of before's "
                f"max): p50 {point['p50_ms']:.0f}, p95 {point['p95_ms']:.0f}, p99 "
                f"{point['p99_ms']:.0f}, max {point['max_ms']:.0f} ms; worker "
                f"{point['worker_cpu_cores']:.2f} cores",
                flush=True,
            )
    result["latency"] = latency
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker_ab", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="install dir of the baseline")
    parser.add_argument("--after", type=Path, required=True, help="install dir of the candidate")
    parser.add_argument("--count", type=int, default=100_000, help="preloaded comments")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--loads",
        type=lambda s: [float(x) for x in s.split(",") if x],
        default=[0.5],
        help="latency loads, shares of the before worker's max (e.g. 0.25,0.5)",
    )
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--before-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--after-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args()
    with local_bench(args.count, "worker-ab") as bench:
        result = asyncio.run(_run(bench, args))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
