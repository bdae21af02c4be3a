"""PNG plots of a run (matplotlib, no display needed): what each section's ``series`` holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    """Lay ``fig`` out, write it to ``path`` as PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lexicon_scaling(points: list[dict[str, Any]], path: Path) -> Path:
    plt = _pyplot()
    real = [p for p in points if p.get("real")]
    points = [p for p in points if not p.get("real")]
    terms = [p["terms"] for p in points]
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(terms, [p["engine_per_s"] for p in points], "o-", label="engine")
    ax.plot(terms, [p["baseline_per_s"] for p in points], "s--", label="bare loop (baseline)")
    if real:  # real words instead of pseudo-words: a point each, not part of the line
        ax.plot(
            [p["terms"] for p in real],
            [p["engine_per_s"] for p in real],
            "D",
            color="C0",
            mfc="none",
            label="engine, real words",
        )
        ax.plot(
            [p["terms"] for p in real],
            [p["baseline_per_s"] for p in real],
            "D",
            color="C1",
            mfc="none",
            label="bare loop, real words",
        )
    ax.set_xscale("log")
    ax.set_xlabel("lexicon terms")
    ax.set_ylabel("comments/s on one core")
    ax.set_title("Engine throughput against lexicon size")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(plt, fig, path)


def stage_costs(stages: dict[str, float], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    names = list(stages)
    ax.barh(names, [stages[n] for n in names], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel("µs per comment")
    ax.set_title("Engine time by stage")
    ax.grid(True, axis="x", alpha=0.3)
    return _save(plt, fig, path)


def latency_cdfs(
    curves: dict[str, list[float]],
    path: Path,
    xlabel: str = "produce → decision latency (ms)",
    title: str = "Latency CDF at each load",
) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, values in curves.items():
        if not values:
            continue
        ordered = sorted(values)
        n = len(ordered)
        ax.plot(ordered, [(i + 1) / n for i in range(n)], label=label)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of comments")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _save(plt, fig, path)


def throughput_bars(
    systems: dict[str, float],
    path: Path,
    xlabel: str = "comments/s, one process, local broker",
    title: str = "Streaming throughput, same engine",
) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    names = list(systems)
    ax.barh(names, [systems[n] for n in names], color="tab:green")
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(plt, fig, path)


def swap_timeline(swap: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    step = swap["bin_seconds"]
    rates = swap["rates_per_s"]
    ax.plot([i * step for i in range(len(rates))], rates, drawstyle="steps-post", lw=1)
    publish = swap["publish_bin"] * step
    ax.axvline(publish, color="tab:orange", ls="--", label="policy publish starts")
    if swap.get("seconds_to_swap") is not None:
        ax.axvline(publish + swap["seconds_to_swap"], color="tab:red", ls=":", label="new policy")
    ax.axhline(swap["steady_per_s"] / 2, color="grey", lw=0.8, label="50% of steady")
    ax.set_xlabel(f"seconds (decisions per {step:g} s bin)")
    ax.set_ylabel("decisions/s")
    ax.set_title("One worker on a backlog: 100k-term policy swap")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _save(plt, fig, path)


def draw(sections: dict[str, dict[str, Any]], folder: Path) -> list[Path]:
    """Every plot the sections have data for."""
    made: list[Path] = []
    engine = sections.get("engine", {}).get("series", {})
    if len(engine.get("lexicon", [])) >= 2:
        made.append(lexicon_scaling(engine["lexicon"], folder / "engine-lexicon-scaling.png"))
    if engine.get("stages"):
        made.append(stage_costs(engine["stages"], folder / "engine-stages.png"))
    streaming = sections.get("streaming", {}).get("series", {})
    if streaming.get("throughput"):
        made.append(throughput_bars(streaming["throughput"], folder / "streaming-throughput.png"))
    if streaming.get("latency"):
        made.append(latency_cdfs(streaming["latency"], folder / "streaming-latency-cdf.png"))
    scaleout = sections.get("scaleout", {}).get("series", {})
    if scaleout.get("scaleout"):
        made.append(
            throughput_bars(
                scaleout["scaleout"],
                folder / "scaleout.png",
                xlabel="comments/s, one consumer group, local broker, 2 cores in all",
                title="Scale-out: worker processes on a 30-partition backlog",
            )
        )
    loop = sections.get("loop", {}).get("series", {})
    if loop.get("latency"):
        made.append(
            latency_cdfs(
                loop["latency"],
                folder / "loop-latency-cdf.png",
                xlabel="latency (ms), webhooks through connect, worker and sink",
                title="The whole loop: webhook POST → platform call",
            )
        )
    swap = sections.get("policy_swap", {}).get("raw", {})
    if swap.get("rates_per_s"):
        made.append(swap_timeline(swap, folder / "policy-swap.png"))
    return made
