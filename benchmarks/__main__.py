"""The benchmark suite: ``python -m benchmarks [--quick] [--only engine,streaming]``.

Each benchmark reports ratios against a baseline measured side by side in the same run, plus
the absolute figures. The results go to ``benchmarks/results/<name>/``: ``results.json``
(figures, machine, versions, commit), ``summary.md`` and PNG plots. The run exits with 1 when a
ratio is below its floor in ``benchmarks/floors.toml``.
"""

from __future__ import annotations

import argparse
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


def _benchmarks() -> dict[str, Callable[[bool, Reporter], dict[str, Any]]]:
    from benchmarks.bench_engine import run_engine
    from benchmarks.bench_loop import run_loop
    from benchmarks.bench_peers import run_peers
    from benchmarks.bench_scale import run_policy_swap, run_scaleout
    from benchmarks.bench_worker import run_streaming
    from benchmarks.naive_faust import NaiveFaust
    from benchmarks.quix_app import QuixStreams

    def streaming(quick: bool, reporter: Reporter) -> dict[str, Any]:
        # The naive agent needs ~30 s per 20k comments here: too slow for CI's quick run; Quix
        # Streams is an optional dependency (the `bench` extra) that CI does not install.
        if quick:
            return run_streaming(quick, reporter)
        import importlib.util

        quix = importlib.util.find_spec("quixstreams") is not None
        if not quix:
            reporter.log("quixstreams is not installed (the bench extra): no Quix Streams rounds")
        extra: list[Any] = [NaiveFaust(), *([QuixStreams()] if quix else [])]
        section = run_streaming(quick, reporter, extra=extra)
        if quix:
            section["figures"]["versions"]["quixstreams"] = QuixStreams.version()
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


def main(argv: Sequence[str] | None = None) -> int:
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
    args = parser.parse_args(argv)

    available = _benchmarks()
    default = QUICK if args.quick else tuple(available)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or list(default)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available)}")
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

    checks = check_floors(ratio_values(sections), floors, quick=args.quick)
    results: dict[str, Any] = {
        "name": name,
        "mode": mode,
        "command": shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])]),
        "note": args.note,
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
