"""The engine against profanity filters a user might pick instead, on the same English texts
(full mode only, and only for the peers that are installed: ``pip install -e ".[bench]"``).

* **better-profanity** (word list with leetspeak variants): ``contains_profanity(text)``.
* **alt-profanity-check** (a linear SVM on bag-of-words): ``predict(texts)``, in batches of
  1,000 as its documentation recommends.
* **engine**: ``Engine.moderate`` with the default pack; flagged = any of the abusive-language
  categories (insult, profanity, hate, threat).

Texts: the English rows of the labelled tables (``tests/data/violations.jsonl``, which should be
caught, and ``precision.jsonl``, which should not), repeated to the throughput sample's size.
What each catches: the share of English violations in the abusive categories it flags
(recall), and the share of the English precision rows it flags (false positives). The ratios
are the engine's comments/s ÷ each peer's.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_engine import one_cpu
from benchmarks.corpus import comments
from benchmarks.progress import Reporter
from benchmarks.report import ratio

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
ABUSIVE = frozenset({"insult", "profanity", "hate", "threat"})
THROUGHPUT_TEXTS = 20_000


def _english(name: str) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x]
    return [row for row in rows if row.get("lang") == "en"]


def _engine_classifier() -> Callable[[list[str]], list[bool]]:
    from streamproc.core import Engine, MemoryStrikeStore, load_pack

    engine = Engine(load_pack(None))
    template = next(comments(1))

    def classify(texts: list[str]) -> list[bool]:
        out = []
        for text in texts:
            decision = engine.moderate({**template, "text": text}, MemoryStrikeStore())
            out.append(bool(ABUSIVE & set(decision["categories"])))
        return out

    return classify


def _better_profanity() -> Callable[[list[str]], list[bool]]:
    from better_profanity import profanity

    profanity.load_censor_words()
    return lambda texts: [bool(profanity.contains_profanity(t)) for t in texts]


def _alt_profanity_check() -> Callable[[list[str]], list[bool]]:
    from profanity_check import predict

    def classify(texts: list[str]) -> list[bool]:
        out: list[bool] = []
        for first in range(0, len(texts), 1000):
            out.extend(bool(x) for x in predict(texts[first : first + 1000]))
        return out

    return classify


PEERS: dict[str, tuple[str, Callable[[], Callable[[list[str]], list[bool]]]]] = {
    "better_profanity": ("better_profanity", _better_profanity),
    "alt_profanity_check": ("profanity_check", _alt_profanity_check),
}


def installed_peers() -> list[str]:
    return [name for name, (module, _) in PEERS.items() if importlib.util.find_spec(module)]


def _measure(
    classify: Callable[[list[str]], list[bool]], sample: list[str], budget: float = 10.0
) -> float:
    """Texts per second over the sample, or over as much of it as ``budget`` seconds allow
    (better-profanity takes tens of milliseconds per text)."""
    done, started = 0, time.perf_counter()
    for first in range(0, len(sample), 100):
        done += len(classify(sample[first : first + 100]))
        if time.perf_counter() - started > budget:
            break
    return done / (time.perf_counter() - started)


def run_peers(quick: bool, reporter: Reporter) -> dict[str, Any]:
    violations = [r for r in _english("violations.jsonl") if ABUSIVE & set(r["categories"])]
    clean = _english("precision.jsonl")
    texts = [r["text"] for r in violations + clean]
    sample = (texts * (THROUGHPUT_TEXTS // len(texts) + 1))[:THROUGHPUT_TEXTS]
    systems = {"engine": _engine_classifier}
    systems.update({name: PEERS[name][1] for name in installed_peers()})
    figures: dict[str, Any] = {
        "english_violations": len(violations),
        "english_clean": len(clean),
        "throughput_texts": len(sample),
    }
    rates: dict[str, float] = {}
    with one_cpu() as cpu:
        figures["pinned"] = cpu
        for name, build in systems.items():
            reporter.step(f"peers: {name}")
            classify = build()
            caught = classify([r["text"] for r in violations])
            flagged_clean = classify([r["text"] for r in clean])
            rates[name] = _measure(classify, sample)
            figures[name] = {
                "per_s": rates[name],
                "recall_abusive": sum(caught) / len(caught),
                "false_positive_share": sum(flagged_clean) / len(flagged_clean),
            }
            reporter.log(
                f"{name}: {rates[name]:,.0f} texts/s, catches {sum(caught)}/{len(caught)} "
                f"English abusive violations, flags {sum(flagged_clean)}/{len(flagged_clean)} "
                "clean texts"
            )
    ratios = {
        f"peers.engine_vs_{name}": ratio(
            rates["engine"] / rates[name],
            f"engine ÷ {name}, texts/s on one core, English labelled texts",
        )
        for name in rates
        if name != "engine"
    }
    notes = [
        "The peers only say whether a text is profane; the engine also decides the action, "
        "the ladder and the reply, and looks for personal data, links and other categories.",
        "The labelled tables are the engine's own test tables, which its lexicons were written "
        "against: its recall and false positives here are an upper bound, not a fair contest.",
    ]
    missing = sorted(set(PEERS) - set(installed_peers()))
    if missing:
        notes.append(f"Not installed, not measured: {', '.join(missing)}.")
    return {"ratios": ratios, "figures": figures, "series": {}, "notes": notes}
