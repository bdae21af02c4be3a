"""The worker process: Faust's Worker, with a bounded shutdown and no spinner off a terminal.

Relies on mode-streaming 0.7 / faust-streaming 0.15.3 (checked by tests/unit/test_faust_seams.py):
``Worker._on_sigterm`` and ``_on_sigint`` are the signal handlers the loop calls, and
``Worker.spinner`` is the progress spinner (which writes terminal escape codes to whatever
stdout is, a log file included).

A graceful stop finishes the batches in flight, commits and leaves the group. If it cannot
(a broker that does not answer), the process exits anyway after ``shutdown_timeout`` seconds
with status 143, as if killed by SIGTERM: nothing is lost, the uncommitted comments are decided
again by the next owner of their partitions.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import faust

__all__ = ["SHUTDOWN_EXIT_STATUS", "WorkerProcess"]

SHUTDOWN_EXIT_STATUS = 143  # 128 + SIGTERM


class WorkerProcess(faust.Worker):  # type: ignore[misc,unused-ignore]  # faust is untyped
    def __init__(self, *args: Any, shutdown_timeout: float = 20.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shutdown_timeout = shutdown_timeout
        self._deadline: threading.Timer | None = None
        if not (getattr(self.stdout, "isatty", None) and self.stdout.isatty()):
            self.spinner = None

    def _arm_deadline(self) -> None:
        if self._deadline is None:
            self._deadline = threading.Timer(self.shutdown_timeout, self._give_up)
            self._deadline.daemon = True
            self._deadline.start()

    def _give_up(self) -> None:
        print(
            f"streamproc worker: not stopped after {self.shutdown_timeout:.0f} s; exiting "
            "without a last commit (the comments in hand will be decided again)",
            file=sys.stderr,
            flush=True,
        )
        os._exit(SHUTDOWN_EXIT_STATUS)

    def _on_sigterm(self) -> None:
        self._arm_deadline()
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self._arm_deadline()
        super()._on_sigint()
