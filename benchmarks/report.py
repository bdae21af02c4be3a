"""The results of a run, written for machines (JSON), for people (Markdown) and as plots (PNG).

A benchmark returns a section: ``ratios`` (name -> {"value", "what", ...}: candidate against a
baseline measured side by side), ``figures`` (the absolute numbers, for the record) and
``series`` (what the plots draw).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.floors import FloorCheck

RESULTS = Path(__file__).resolve().parent / "results"


def ratio(value: float, what: str, **extra: Any) -> dict[str, Any]:
    return {"value": value, "what": what, **extra}


def ratio_values(sections: dict[str, dict[str, Any]]) -> dict[str, float]:
    return {
        name: float(entry["value"])
        for section in sections.values()
        for name, entry in section.get("ratios", {}).items()
    }


def write_json(folder: Path, results: dict[str, Any]) -> Path:
    path = folder / "results.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=False, default=str) + "\n")
    return path


def _flatten(prefix: str, value: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list) and len(value) > 6:
        return  # long series belong to the JSON and the plots
    else:
        out.append((prefix, value))


def _show(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    return str(value)


def markdown(results: dict[str, Any], checks: list[FloorCheck], plots: list[Path]) -> str:
    env = results["environment"]
    lines = [
        f"# Benchmarks: {results['name']} ({results['mode']} run)",
        "",
        f"- date: {env['date']}; commit `{(env.get('commit') or '?')[:12]}`"
        f"{' (uncommitted changes)' if env.get('dirty') else ''}",
        f"- machine: {env['cpu_model']}, {env['cpus']} CPUs, load average before "
        f"{', '.join(f'{x:.2f}' for x in env['load_average'])}",
        f"- Python {env['python']}; core {env['core']}; "
        + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()),
        f"- wall time {results['seconds']:.0f} s; command `{results['command']}`",
    ]
    options = {k: v for k, v in results.get("options", {}).items() if v not in (None, [], "")}
    if options:
        lines.append("- options: " + "; ".join(f"{k} {_show(v)}" for k, v in options.items()))
    if results.get("note"):
        lines.append(f"- note: {results['note']}")
    floors = {c.ratio: c for c in checks}
    lines += [
        "",
        "## Ratios (candidate ÷ baseline, measured side by side in this run)",
        "",
        "| ratio | value | floor | | what |",
        "|---|---:|---:|---|---|",
    ]
    for section in results["benchmarks"].values():
        for name, entry in section.get("ratios", {}).items():
            check = floors.get(name)
            floor = f"{check.floor:.2f}" if check else "-"
            state = ("ok" if check.passed else "**below**") if check else ""
            lines.append(
                f"| `{name}` | {entry['value']:.2f} | {floor} | {state} | {entry['what']} |"
            )
    missing = [c for c in checks if c.value is None and c.required]
    for check in missing:
        lines.append(f"| `{check.ratio}` | - | {check.floor:.2f} | **missing** | |")
    for title, section in results["benchmarks"].items():
        rows: list[tuple[str, Any]] = []
        _flatten("", section.get("figures", {}), rows)
        if not rows:
            continue
        lines += ["", f"## {title}: absolute figures", "", "| figure | value |", "|---|---:|"]
        lines += [f"| {key} | {_show(value)} |" for key, value in rows]
        for note in section.get("notes", []):
            lines += ["", f"> {note}"]
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{p.stem}]({p.name})" for p in plots]
    return "\n".join(lines) + "\n"
