"""The suite's progress display (rich): one bar over the planned steps, log lines above it."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    """What a benchmark tells the person running it: ``step`` starts the next planned step,
    ``log`` prints a result line. Without a terminal (CI) it prints plain lines."""

    def __init__(self, total_steps: int, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        self._task = self._progress.add_task("benchmarks", total=total_steps)
        self._started = False
        self._step_started = 0.0
        self.steps_seconds: dict[str, float] = {}  # how long each step took, for the results
        self._current = ""

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._finish_step()
        self._progress.stop()

    def _finish_step(self) -> None:
        if self._current:
            self.steps_seconds[self._current] = time.perf_counter() - self._step_started

    def step(self, description: str) -> None:
        self._finish_step()
        self._current, self._step_started = description, time.perf_counter()
        if self._started:
            self._progress.advance(self._task)
        self._started = True
        self._progress.update(self._task, description=description)
        if not self.console.is_terminal:
            self.console.print(f"- {description} ...")

    def log(self, text: str) -> None:
        self.console.print(f"  {text}")

    def extend(self, steps: int) -> None:
        """Plan more steps than announced (a benchmark found it has more to do)."""
        total = self._progress.tasks[0].total or 0
        self._progress.update(self._task, total=total + steps)
