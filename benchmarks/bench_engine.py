"""Engine throughput on one core, as a ratio to a bare baseline run side by side.

    python -m benchmarks --only engine [--quick]

Baseline (what a bare pipeline costs): orjson.loads -> NFKC -> lower -> pyahocorasick iter ->
orjson.dumps, with the same terms in its automaton. Engine: Engine.moderate_json (decoding and
validation, evasion-proof normalization, matching, PII, decision) -> orjson.dumps. Both run on
the same NDJSON lines, in alternating rounds in one process pinned to one CPU; the ratio of each
round is reported (the machine is noisy, ratios are what compare). A second estimate is steadier
on a busy machine: the corpus in chunks of 10,000, each timed --repeats times for the baseline
and the engine in turn, keeping each side's fastest time per chunk (the run least disturbed by
other load, as timeit does). Build time and memory of the large automaton are measured in a
fresh subprocess.

It measures the core it imports: scripts/dev.sh runs it on a compiled (non-editable) install,
the form `pip install .` deploys; from a source checkout or an editable install it measures the
pure Python core. The first line of the output says which.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick
import orjson

from benchmarks.corpus import DICTIONARIES, ndjson_lines, real_terms, synthetic_terms
from benchmarks.progress import Reporter
from benchmarks.report import ratio
from streamproc.core import (
    COMPILED,
    DEFAULT_PACK_PATH,
    Engine,
    MemoryStrikeStore,
    parse_pack,
    read_pack_files,
)

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def one_cpu() -> Iterator[str]:
    """This process on one CPU for the block, then back on all of them (the streaming
    benchmarks that follow, and their subprocesses, need both cores)."""
    try:
        before = os.sched_getaffinity(0)
        cpu = min(before)
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        yield "not pinned"
        return
    try:
        yield f"cpu {cpu}"
    finally:
        os.sched_setaffinity(0, before)


def big_pack_files(terms: int, real: bool = False) -> dict[str, str]:
    """The default pack with ``terms`` more lexicon entries: pseudo-words, or real Italian and
    English words (:func:`benchmarks.corpus.real_terms`) that the benchmark comments do not use."""
    files = read_pack_files(DEFAULT_PACK_PATH)
    extra = "\n".join(real_terms(terms) if real else synthetic_terms(terms))
    files["lexicons/en/off_topic.txt"] = files.get("lexicons/en/off_topic.txt", "") + "\n" + extra
    return files


def baseline_automaton(words: Sequence[str]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for index, word in enumerate(words):
        automaton.add_word(word, index)
    automaton.make_automaton()
    return automaton


def baseline_loop(automaton: ahocorasick.Automaton) -> Callable[[list[bytes]], int]:
    def run(lines: list[bytes]) -> int:
        loads, dumps, nfkc, it = orjson.loads, orjson.dumps, unicodedata.normalize, automaton.iter
        out = 0
        for line in lines:
            comment = loads(line)
            text = nfkc("NFKC", comment["text"]).lower()
            hits = [value for _, value in it(text)]
            out += len(dumps({"comment_id": comment["id"], "hits": hits}))
        return out

    return run


def engine_loop(engine: Engine) -> Callable[[list[bytes]], int]:
    def run(lines: list[bytes]) -> int:
        dumps, moderate = orjson.dumps, engine.moderate_json
        store = MemoryStrikeStore()
        out = 0
        for line in lines:
            out += len(dumps(moderate(line, store)))
        return out

    return run


def timed(run: Callable[[list[bytes]], int], lines: list[bytes]) -> float:
    started = time.perf_counter()
    run(lines)
    return len(lines) / (time.perf_counter() - started)


def fastest_per_chunk(
    baseline: Callable[[list[bytes]], int],
    engine: Callable[[list[bytes]], int],
    lines: list[bytes],
    repeats: int,
    chunk: int = 10_000,
) -> tuple[float, float]:
    """(baseline, engine) comments/s from each side's fastest of ``repeats`` runs per chunk,
    the two sides alternating so that both see the same moments of the machine."""
    base_seconds = engine_seconds = 0.0
    for first in range(0, len(lines), chunk):
        part = lines[first : first + chunk]
        base_best = engine_best = float("inf")
        for _ in range(repeats):
            base_best = min(base_best, len(part) / timed(baseline, part))
            engine_best = min(engine_best, len(part) / timed(engine, part))
        base_seconds += base_best
        engine_seconds += engine_best
    return len(lines) / base_seconds, len(lines) / engine_seconds


_BUILD_PROBE = """
import json, resource, sys, time
from benchmarks.bench_engine import big_pack_files
from streamproc.core import Matcher, parse_pack
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
pack = parse_pack(big_pack_files(int(sys.argv[1]), sys.argv[2] == "real"))
before = rss()
started = time.perf_counter()
matcher = Matcher(pack.entries, link_words=pack.links.shorteners)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss_bytes": rss() - before,
                  "automaton_bytes": matcher.automaton.get_stats()["total_size"],
                  "keys": matcher.key_count, "entries": len(pack.entries)}))
"""


def measure_build(terms: int, real: bool = False) -> dict[str, float]:
    """Automaton build time and memory for the big lexicon, in a fresh interpreter."""
    out = subprocess.run(
        [*python_argv(), "-c", _BUILD_PROBE, str(terms), "real" if real else "synthetic"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def python_argv() -> list[str]:
    """How to start a Python that imports the same streamproc as this one (``-P`` when this
    process runs with it: the compiled install on PYTHONPATH, not the checkout's sources)."""
    return [sys.executable, "-P"] if sys.flags.safe_path else [sys.executable]


@dataclass(frozen=True)
class EngineOptions:
    count: int
    rounds: int
    repeats: int
    lexicons: tuple[int, ...]  # synthetic terms added to the default pack
    stage_count: int
    real_lexicons: tuple[int, ...] = ()  # real words added instead (the Debian word lists)

    @classmethod
    def for_mode(cls, quick: bool) -> EngineOptions:
        if quick:
            return cls(count=20_000, rounds=1, repeats=3, lexicons=(100_000,), stage_count=5_000)
        return cls(
            count=200_000,
            rounds=3,
            repeats=5,
            lexicons=(1_000, 10_000, 100_000, 1_000_000),
            stage_count=50_000,
            real_lexicons=(100_000,) if all(Path(d).exists() for d in DICTIONARIES) else (),
        )


def _lexicon_label(terms: int, real: bool = False) -> str:
    size = f"{terms // 1_000_000}m" if terms >= 1_000_000 else f"{terms // 1000}k"
    return f"lexicon_{'real_' if real else ''}{size}"


def measure_setup(pack: Any, lines: list[bytes], options: EngineOptions) -> dict[str, Any]:
    words = sorted({e.words for e in pack.entries if not e.is_allow})
    engine = Engine(pack)
    sample = lines[:5000]  # the share of comments with a match, from a sample
    flagged = sum(
        1 for x in sample if engine.moderate(orjson.loads(x), MemoryStrikeStore())["matches"]
    )
    baseline, candidate = baseline_loop(baseline_automaton(words)), engine_loop(engine)
    round_ratios, base_rates, engine_rates = [], [], []
    for _ in range(options.rounds):
        b, e = timed(baseline, lines), timed(candidate, lines)
        base_rates.append(b)
        engine_rates.append(e)
        round_ratios.append(e / b)
    fast_base, fast_engine = fastest_per_chunk(baseline, candidate, lines, options.repeats)
    return {
        "terms": len(words),
        "flagged_share": flagged / len(sample),
        "baseline_per_s": fast_base,
        "engine_per_s": fast_engine,
        "engine_us_per_comment": 1e6 / fast_engine,
        "ratio": fast_engine / fast_base,
        "round_ratios": round_ratios,
        "round_baseline_per_s": statistics.median(base_rates),
        "round_engine_per_s": statistics.median(engine_rates),
    }


def stage_costs(engine: Engine, lines: list[bytes], repeats: int) -> dict[str, float]:
    """µs per comment of each stage, from cumulative pipelines (each one stage longer than the
    last) timed on the same lines, fastest of ``repeats``: a stage's cost is the difference."""
    from streamproc.core import decode_comment, find_pii
    from streamproc.core._normalize import scan_form
    from streamproc.core._pii import MIN_DIGITS

    limit, region, automaton = engine._max_chars, engine.pack.phone_region, engine._automaton

    def decode(raw: bytes) -> object:
        return decode_comment(raw, limit)

    def normalize(raw: bytes) -> object:
        return scan_form(decode_comment(raw, limit).text)

    def match(raw: bytes) -> object:
        form = scan_form(decode_comment(raw, limit).text)
        return list(automaton.iter(form.prepared))

    def validate(raw: bytes) -> object:
        text = decode_comment(raw, limit).text
        form = scan_form(text)
        hits = list(automaton.iter(form.prepared))
        suspect = "@" in text or form.digits >= MIN_DIGITS
        return hits, find_pii(form.text, region) if suspect else []

    def decide(raw: bytes) -> object:
        return engine.decide(decode_comment(raw, limit), MemoryStrikeStore())

    def serialize(raw: bytes) -> object:
        return orjson.dumps(engine.decide(decode_comment(raw, limit), MemoryStrikeStore()))

    pipelines = {
        "decode": decode,
        "normalize": normalize,
        "match": match,
        "validate": validate,
        "decide": decide,
        "serialize": serialize,
    }
    cumulative: dict[str, float] = {}
    for name, step in pipelines.items():
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            for raw in lines:
                step(raw)
            best = min(best, time.perf_counter() - started)
        cumulative[name] = best / len(lines) * 1e6
    stages, previous = {}, 0.0
    for name, total in cumulative.items():
        stages[name] = max(total - previous, 0.0)
        previous = max(previous, total)
    return stages


def comment_path(engine: Engine, comment: Any) -> str:
    """Which way ``engine`` decides a validated comment: ``allowed`` at once (no hit, or only
    hits that cannot change a decision), ``weighed`` (a lexicon or rule hit goes through the
    policy) or ``personal_data`` (the text may hold some, so the validators run)."""
    _form, hits, suspect = engine._scan(comment.text)
    if suspect:
        return "personal_data"
    inert = engine._inert[comment.author.role or "public"]
    if not hits or engine.matcher.quiet(hits, inert, engine._corroborate):
        return "allowed"
    return "weighed"


def path_costs(engine: Engine, lines: list[bytes], repeats: int) -> dict[str, dict[str, float]]:
    """Share of the comments, µs per comment and share of the engine's time of each way a
    comment is decided (see :func:`comment_path`), fastest of ``repeats``: where the time goes
    that the bare loop does not spend, since it neither weighs a match nor validates a number."""
    from streamproc.core import decode_comment

    groups: dict[str, list[Any]] = {"allowed": [], "weighed": [], "personal_data": []}
    for raw in lines:
        comment = decode_comment(raw, engine._max_chars)
        groups[comment_path(engine, comment)].append(comment)
    out: dict[str, dict[str, float]] = {}
    for name, comments in groups.items():
        best = float("inf")
        for _ in range(repeats):
            store = MemoryStrikeStore()
            started = time.perf_counter()
            for comment in comments:
                engine.decide(comment, store)
            best = min(best, time.perf_counter() - started)
        out[name] = {
            "share": len(comments) / len(lines),
            "us_per_comment": best / len(comments) * 1e6 if comments else 0.0,
            "us_per_comment_of_all": best / len(lines) * 1e6,
        }
    total = sum(v["us_per_comment_of_all"] for v in out.values())
    for v in out.values():
        v["share_of_time"] = v["us_per_comment_of_all"] / total if total else 0.0
    return out


_CORE_PROBE = """
import json, sys, time
from benchmarks.bench_engine import engine_loop
from benchmarks.corpus import ndjson_lines
from streamproc.core import COMPILED, DEFAULT_PACK_PATH, Engine, parse_pack, read_pack_files
lines = ndjson_lines(int(sys.argv[1]))
run = engine_loop(Engine(parse_pack(read_pack_files(DEFAULT_PACK_PATH))))
best = float("inf")
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    run(lines)
    best = min(best, time.perf_counter() - started)
print(json.dumps({"compiled": COMPILED, "per_s": len(lines) / best}))
"""


def _core_probe(pure: bool, count: int, repeats: int, cpu: str) -> dict[str, Any]:
    env = dict(os.environ)
    if pure:  # the checkout's sources first: the pure Python core
        argv, env["PYTHONPATH"] = [sys.executable], str(ROOT)
    else:
        argv = python_argv()
    if cpu.startswith("cpu "):
        argv = ["taskset", "-c", cpu.split()[1], *argv]
    out = subprocess.run(
        [*argv, "-c", _CORE_PROBE, str(count), str(repeats)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def compiled_against_pure(count: int, repeats: int, rounds: int, cpu: str) -> dict[str, Any]:
    """The compiled install against the pure sources, in alternating subprocesses."""
    compiled, pure = [], []
    for _ in range(rounds):
        compiled.append(_core_probe(False, count, repeats, cpu)["per_s"])
        pure.append(_core_probe(True, count, repeats, cpu)["per_s"])
    return {
        "compiled_per_s": statistics.median(compiled),
        "pure_per_s": statistics.median(pure),
        "ratio": statistics.median(c / p for c, p in zip(compiled, pure, strict=True)),
    }


def run_engine(quick: bool, reporter: Reporter) -> dict[str, Any]:
    """The engine section of the suite (see the module docstring)."""
    options = EngineOptions.for_mode(quick)
    lines = ndjson_lines(options.count)
    mean_chars = statistics.fmean(len(orjson.loads(x)["text"]) for x in lines[:5000])
    ratios: dict[str, Any] = {}
    figures: dict[str, Any] = {
        "comments": len(lines),
        "mean_text_chars": mean_chars,
        "core": "compiled with mypyc" if COMPILED else "pure Python",
    }
    lexicon: list[dict[str, Any]] = []
    with one_cpu() as cpu:
        figures["pinned"] = cpu
        reporter.step("engine: default pack against the bare loop")
        default = measure_setup(parse_pack(read_pack_files(DEFAULT_PACK_PATH)), lines, options)
        figures["default_pack"] = default
        ratios["engine.default_pack"] = ratio(
            default["ratio"],
            "engine (default pack) ÷ bare orjson→NFKC→lower→pyahocorasick→orjson loop, "
            "comments/s on one core, fastest run per 10k chunk",
        )
        reporter.log(
            f"default pack: engine {default['engine_per_s']:,.0f}/s "
            f"({default['engine_us_per_comment']:.1f} µs/comment), baseline "
            f"{default['baseline_per_s']:,.0f}/s, ratio {default['ratio']:.2f}"
        )
        lexicon.append({**default, "label": "default pack"})
        sizes = [(t, False) for t in options.lexicons] + [(t, True) for t in options.real_lexicons]
        for terms, real in sizes:
            label = _lexicon_label(terms, real)
            words = "real Italian and English words" if real else "extra lexicon terms"
            reporter.step(f"engine: {terms:,} {words}")
            setup = measure_setup(parse_pack(big_pack_files(terms, real)), lines, options)
            build = measure_build(terms, real)
            setup["build"] = build
            figures[label] = setup
            lexicon.append(
                {**setup, "label": label, "build_seconds": build["seconds"], "real": real}
            )
            ratios[f"engine.{label}"] = ratio(
                setup["ratio"],
                f"engine ÷ bare loop, both with {terms:,} {words} in their automaton",
            )
            reporter.log(
                f"{label}: engine {setup['engine_per_s']:,.0f}/s, baseline "
                f"{setup['baseline_per_s']:,.0f}/s, ratio {setup['ratio']:.2f}; automaton built "
                f"in {build['seconds']:.2f} s, +{build['rss_bytes'] / 2**20:.0f} MiB RSS"
            )
        reporter.step("engine: time by stage")
        stages = stage_costs(
            Engine(parse_pack(read_pack_files(DEFAULT_PACK_PATH))),
            lines[: options.stage_count],
            options.repeats,
        )
        figures["stages_us_per_comment"] = stages
        reporter.log("stages (µs/comment): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
        reporter.step("engine: time by path")
        paths = path_costs(
            Engine(parse_pack(read_pack_files(DEFAULT_PACK_PATH))),
            lines[: options.stage_count],
            options.repeats,
        )
        figures["paths"] = paths
        reporter.log(
            "paths: "
            + ", ".join(
                f"{k} {v['share']:.1%} of comments at {v['us_per_comment']:.1f} µs "
                f"({v['share_of_time']:.0%} of the time)"
                for k, v in paths.items()
            )
        )
        if COMPILED and not quick:  # one quick probe scattered 0.94-1.86: full mode only
            reporter.step("engine: compiled core against pure Python")
            versus = compiled_against_pure(
                options.stage_count, options.repeats, options.rounds, cpu
            )
            figures["compiled_against_pure"] = versus
            ratios["engine.compiled_vs_pure"] = ratio(
                versus["ratio"], "compiled core ÷ pure Python core, comments/s, default pack"
            )
            reporter.log(
                f"compiled {versus['compiled_per_s']:,.0f}/s against pure "
                f"{versus['pure_per_s']:,.0f}/s: {versus['ratio']:.2f}x"
            )
    notes = (
        []
        if COMPILED
        else [
            "The core was pure Python in this run (an editable install): run it on a compiled "
            "install (scripts/dev.sh does) to measure what `pip install .` deploys."
        ]
    )
    return {
        "ratios": ratios,
        "figures": figures,
        "series": {"lexicon": lexicon, "stages": stages},
        "notes": notes,
    }
