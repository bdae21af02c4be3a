"""Batch moderation of NDJSON files: the backtest and backfill path, and the CLI's engine loop.

A bad line never stops the run: it goes to the dead-letter output with its line number and the
reason, and the summary counts it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

import orjson

from streamproc._deadletter import dead_letter_json
from streamproc.core import CommentError, Engine, MemoryStrikeStore, StrikeStore

__all__ = ["BatchSummary", "moderate_lines"]


@dataclass
class BatchSummary:
    lines: int = 0
    blank: int = 0
    decided: int = 0
    dead_letters: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.decided / self.seconds if self.seconds > 0 else 0.0

    def render(self) -> str:
        """A human summary for stderr."""
        out = [
            f"{self.decided} decisions from {self.lines} lines in {self.seconds:.2f}s "
            f"({self.rate:,.0f} comments/s); {self.dead_letters} dead letters"
            + (f", {self.blank} blank lines skipped" if self.blank else "")
        ]
        if self.actions:
            out.append("actions: " + ", ".join(f"{k}={v}" for k, v in self.actions.most_common()))
        if self.categories:
            out.append(
                "categories: " + ", ".join(f"{k}={v}" for k, v in self.categories.most_common())
            )
        for reason, count in self.dead_letter_reasons.most_common(5):
            out.append(f"dead letter: {count} x {reason}")
        return "\n".join(out)


def moderate_lines(
    engine: Engine,
    lines: Iterable[bytes],
    output: IO[bytes],
    dead_letters: IO[bytes],
    strikes: StrikeStore | None = None,
    source: str = "stdin",
) -> BatchSummary:
    """Moderate NDJSON ``lines``: one decision per comment to ``output``, in order."""
    store = strikes if strikes is not None else MemoryStrikeStore()
    summary = BatchSummary()
    started = time.perf_counter()
    write = output.write
    moderate = engine.moderate_json
    dumps = orjson.dumps
    for number, line in enumerate(lines, start=1):
        summary.lines = number
        if not line.strip():
            summary.blank += 1
            continue
        try:
            decision = moderate(line, store)
        except CommentError as exc:
            kind, reason = exc.kind, exc.reason
        except Exception as exc:  # a bug must not lose the comment or stop the run
            kind, reason = "engine_error", type(exc).__name__
        else:
            write(dumps(decision, option=orjson.OPT_APPEND_NEWLINE))
            summary.decided += 1
            summary.actions.update(decision["actions"])
            summary.categories.update(decision["categories"])
            continue
        summary.dead_letters += 1
        summary.dead_letter_reasons[kind] += 1
        raw = line.rstrip(b"\r\n")
        record = dead_letter_json(kind, reason, f"{source}:{number}", raw, line=number)
        dead_letters.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    summary.seconds = time.perf_counter() - started
    return summary
