"""The soak's verdict and its table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from benchmarks.soak_parts import console

RESULTS = Path(__file__).parent / "results" / "soak"


# --- report ----------------------------------------------------------------------------------


def failures(r: dict[str, Any]) -> list[str]:
    found = []
    if r["missing"]:
        found.append(f"{r['missing']} comments without a decision")
    if r["duplicates_differing"]:
        found.append(f"{r['duplicates_differing']} comments decided differently in a replay")
    if r["replies_sent_twice"]:
        found.append(f"{r['replies_sent_twice']} replies sent twice")
    if any(r["actions_not_carried_out"].values()):
        found.append(f"actions never carried out: {r['actions_not_carried_out']}")
    if r["publish_error"]:
        found.append(f"the load failed: {r['publish_error']}")
    return found


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    undone = r["actions_not_carried_out"]
    out = [
        ("load", f"{r['rate']:.0f} comments/s for {r['load_seconds']:.0f} s (Facebook + X)"),
        ("comments in (distinct, on the input topics)", f"{r['comments_in']:,}"),
        ("input records published twice", str(r["input_records_repeated"])),
        ("decisions out (records)", f"{r['decisions_out']:,}"),
        ("comments decided (distinct)", f"{r['comments_decided']:,}"),
        ("missing (must be 0)", str(r["missing"])),
        (
            "duplicates: comments / extra copies",
            f"{r['duplicated_comments']:,} / {r['duplicate_copies']:,}",
        ),
        ("duplicates not identical apart from decided_at", str(r["duplicates_differing"])),
        (
            "decisions by actions",
            ", ".join(f"{k} {v:,}" for k, v in r["decisions_by_actions"].items()),
        ),
        (
            "platform actions due: hide / reply / ban (users)",
            " / ".join(f"{v:,}" for v in r["expected_platform_actions"].values()),
        ),
        ("actions never carried out", " / ".join(str(v) for v in undone.values())),
        ("platform calls (all)", f"{r['platform_calls']:,}"),
        (
            "hide calls / comments hidden more than once",
            f"{r['hide_calls']:,} / {r['hides_repeated']}",
        ),
        (
            "ban calls / users banned more than once",
            f"{r['ban_calls']:,} / {r['bans_repeated']} ({r['ban_calls_beyond_block_decisions']} "
            "beyond their block decisions)",
        ),
        (
            "reply calls / comments with a repeated reply call",
            f"{r['reply_calls']:,} / {r['reply_calls_repeated']}",
        ),
        ("replies sent", f"{r['replies_sent']:,}"),
        ("replies sent twice (must be 0)", str(r["replies_sent_twice"])),
        (
            "max consumer lag: all partitions / one partition",
            f"{r['max_lag_total']:,.0f} / {r['max_lag_partition']:,.0f}",
        ),
        ("drain after the load stopped", f"{r['drain_seconds'] or 0:.1f} s"),
        (
            "partitions held / consumed, per worker process at the end",
            ", ".join(
                f"{p:.0f} / {c:,.0f}"
                for p, c in zip(
                    r["partitions_held_at_end"], r["consumed_by_worker_since_start"], strict=True
                )
            ),
        ),
    ]
    if "idle_recoveries_by_worker" in r:
        out.append(
            (
                "fetch stalls read again / idle-member recoveries, per worker",
                ", ".join(
                    f"{a:.0f} / {b:.0f}"
                    for a, b in zip(
                        r["fetch_stalls_by_worker"], r["idle_recoveries_by_worker"], strict=True
                    )
                ),
            )
        )
    for idle in r.get("idle_stretches", []):
        where = "" if idle["from_s"] is None else f" from {idle['from_s']} s"
        held = "/".join(f"{h:.0f}" for h in idle["held"]) or "-"
        out.append(
            (
                f"longest time worker {idle['worker']} answered but decided nothing",
                f"{idle['seconds']} s{where} (partitions it held meanwhile: {held})",
            )
        )
    for e in r["events"]:
        back = "not recovered" if e["recovered_s"] is None else f"{e['recovered_s']} s"
        extra = f" (broker answering after {e['broker_back_s']} s)" if "broker_back_s" in e else ""
        if "caught_up_s" in e:
            extra += f"; lag < 2 s of load after {e['caught_up_s']} s"
        out.append((f"recovery at {e['at_s']} s: {e['event']}", back + extra))
    return out


def report(r: dict[str, Any], command: str, label: str) -> None:
    table = Table(title="Soak: steady load, SIGKILLs of workers and sink, one broker restart")
    table.add_column("measure")
    table.add_column("result", justify="right")
    for name, value in rows(r):
        table.add_row(name, value)
    console.print(table)
    bad = failures(r)
    console.print(
        "[red]FAILED: " + "; ".join(bad) if bad else "[green]nothing lost, no reply sent twice"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"soak-{label}.json").write_bytes(orjson.dumps(r, option=orjson.OPT_INDENT_2))
    lines = [
        "# Soak results",
        "",
        f"`{command}` — {r['finished']}, load average {r['loadavg']} (2 shared cores).",
        "",
        "| measure | result |",
        "|---|---:|",
        *(f"| {n} | {v} |" for n, v in rows(r)),
        "",
        "Verdict: " + ("; ".join(bad) if bad else "nothing lost, no reply sent twice."),
        "",
    ]
    (RESULTS / f"soak-{label}.md").write_text("\n".join(lines))
