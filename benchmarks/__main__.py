"""The benchmark suite: ``python -m benchmarks [--quick] [--only engine,streaming]``.

The streaming section's backlog and rounds can be shortened (``--stream-count``,
``--stream-rounds``); ``--naive-transport kafka,confluent`` adds the naive Faust agent on Faust's
confluent:// driver to the full streaming rounds (a trial: recorded, not fatal, if it fails).

Each benchmark reports ratios against a baseline measured side by side in the same run, plus
the absolute figures. The results go to ``benchmarks/results/<name>/``: ``results.json``
(figures, machine, versions, commit), ``summary.md`` and PNG plots. The run exits with 1 when a
ratio is below its floor in ``benchmarks/floors.toml``.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.environment import environment
from benchmarks.floors import FLOORS_PATH, check_floors, failures, load_floors
from benchmarks.progress import Reporter
from benchmarks.report import RESULTS, markdown, ratio_values, write_json

# The steps each benchmark announces to the progress bar, by mode (quick, full).
PLANNED_STEPS = {
    "engine": (3, 6),
    "streaming": (4, 8),
    "peers": (3, 3),
    "scaleout": (4, 4),
    "policy_swap": (3, 3),
    "loop": (4, 4),
}
QUICK = ("engine", "streaming")  # what a quick run measures when --only does not say


def streaming_systems(naive_transports: Sequence[str], *, quix: bool, confluent: bool) -> list[Any]:
    """The other systems of the full streaming rounds: the naive Faust agent on each of
    ``naive_transports``, then Quix Streams and the librdkafka bare loop where their optional
    packages (the `bench` extra) are installed."""
    from benchmarks.confluent_loop import ConfluentBare
    from benchmarks.naive_faust import NaiveFaust
    from benchmarks.quix_app import QuixStreams

    systems: list[Any] = [NaiveFaust(transport) for transport in naive_transports]
    if quix:
        systems.append(QuixStreams())
    if confluent:
        systems.append(ConfluentBare())
    return systems


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _benchmarks(
    stream_count: int | None = None,
    stream_rounds: int | None = None,
    naive_transports: Sequence[str] = ("kafka",),
) -> dict[str, Callable[[bool, Reporter], dict[str, Any]]]:
    from benchmarks.bench_engine import run_engine
    from benchmarks.bench_loop import run_loop
    from benchmarks.bench_peers import run_peers
    from benchmarks.bench_scale import run_policy_swap, run_scaleout
    from benchmarks.bench_worker import StreamingOptions, run_streaming
    from benchmarks.confluent_loop import ConfluentBare
    from benchmarks.quix_app import QuixStreams

    def streaming(quick: bool, reporter: Reporter) -> dict[str, Any]:
        options = StreamingOptions.for_mode(quick, stream_count, stream_rounds)
        # The naive agent needs ~30 s per 20k comments here: too slow for CI's quick run; Quix
        # Streams (the `bench` extra) and confluent-kafka (the `test` extra) are optional.
        if quick:
            section = run_streaming(quick, reporter, options=options)
        else:
            quix, confluent = installed("quixstreams"), installed("confluent_kafka")
            if not quix:
                reporter.log("quixstreams is not installed (the bench extra): no Quix rounds")
            if not confluent:
                reporter.log("confluent-kafka is not installed (the test extra): no librdkafka")
            extra = streaming_systems(naive_transports, quix=quix, confluent=confluent)
            section = run_streaming(quick, reporter, extra=extra, options=options)
            versions = section["figures"]["versions"]
            if quix:
                versions["quixstreams"] = QuixStreams.version()
            if confluent:
                versions["confluent-kafka"] = ConfluentBare.version()
        section["figures"]["options"] = {
            "count": options.count,
            "rounds": options.rounds,
            "latency_seconds": options.latency_seconds,
            "latency_warmup_seconds": options.warmup_seconds,
            "latency_warmup_windows_at_most": options.warmup_windows,
            "load_points": list(options.load_points),
            "naive_transports": [] if quick else list(naive_transports),
        }
        return section

    def peers(quick: bool, reporter: Reporter) -> dict[str, Any]:
        return run_peers(quick, reporter)

    return {
        "engine": run_engine,
        "streaming": streaming,
        "peers": peers,
        "scaleout": run_scaleout,  # full mode: ~4 minutes
        "policy_swap": run_policy_swap,  # full mode: ~2 minutes
        "loop": run_loop,  # full mode: ~2 minutes
    }


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _transports(text: str) -> tuple[str, ...]:
    from benchmarks.naive_faust import TRANSPORTS

    chosen = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    unknown = sorted(set(chosen) - set(TRANSPORTS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown Faust transport(s) {', '.join(unknown) or '(none)'}; known: "
            + ", ".join(TRANSPORTS)
        )
    return chosen


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small and short: CI's run")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: engine, streaming, peers, scaleout, policy_swap, loop",
    )
    parser.add_argument(
        "--name", help="results folder under benchmarks/results/ [<UTC date>-quick|full]"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where result folders go")
    parser.add_argument("--floors", type=Path, default=FLOORS_PATH, help="the floors file")
    parser.add_argument("--note", default="", help="a remark stored with the results")
    parser.add_argument(
        "--stream-count",
        type=_positive,
        help="comments in the streaming backlog [50,000 quick, 200,000 full]",
    )
    parser.add_argument(
        "--stream-rounds", type=_positive, help="streaming throughput rounds [3 in either mode]"
    )
    parser.add_argument(
        "--naive-transport",
        type=_transports,
        default=("kafka",),
        help="comma-separated Faust transports of the naive agent in the full streaming rounds:"
        " kafka (aiokafka), confluent (Faust's confluent:// driver, a trial) [kafka]",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)

    available = _benchmarks(args.stream_count, args.stream_rounds, args.naive_transport)
    default = QUICK if args.quick else tuple(available)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or list(default)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        cli.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available)}")
    mode = "quick" if args.quick else "full"
    name = args.name or f"{datetime.now(UTC):%Y-%m-%dT%H%M}-{mode}"
    floors = load_floors(args.floors)
    folder = args.results / name
    folder.mkdir(parents=True, exist_ok=True)

    env = environment()
    started = time.perf_counter()
    sections: dict[str, dict[str, Any]] = {}
    steps = sum(PLANNED_STEPS[n][0 if args.quick else 1] for n in chosen)
    with Reporter(steps) as reporter:
        reporter.console.print(
            f"[bold]benchmarks ({mode})[/]: {', '.join(chosen)}; {env['cpu_model']}, "
            f"{env['cpus']} CPUs; Python {env['python']}; core {env['core']}"
        )
        for bench in chosen:
            sections[bench] = available[bench](args.quick, reporter)

    checks = check_floors(ratio_values(sections), floors, quick=args.quick, sections=chosen)
    results: dict[str, Any] = {
        "name": name,
        "mode": mode,
        "command": shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])]),
        "note": args.note,
        "options": {
            "only": chosen,
            "stream_count": args.stream_count,
            "stream_rounds": args.stream_rounds,
            "naive_transports": list(args.naive_transport),
        },
        "seconds": time.perf_counter() - started,
        "steps_seconds": reporter.steps_seconds,
        "environment": env,
        "benchmarks": sections,
        "floors": [
            {"ratio": c.ratio, "floor": c.floor, "value": c.value, "passed": c.passed}
            for c in checks
        ],
    }
    write_json(folder, results)
    from benchmarks.plots import draw

    plots = draw(sections, folder)
    (folder / "summary.md").write_text(markdown(results, checks, plots))
    print(f"\nresults in {folder} ({results['seconds']:.0f} s)")
    for check in checks:
        print(f"  {check.describe()}")
    failed = failures(checks)
    if failed:
        print(f"{len(failed)} ratio(s) below their floor or missing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
