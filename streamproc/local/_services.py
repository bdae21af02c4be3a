"""Running ``streamproc`` services as processes on this machine: the demo, the benchmarks and
the tests all start workers (and the other services) through :class:`ServiceProcess`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Self

from streamproc.local._process import free_port, kill_me_with_parent
from streamproc.local._promtext import metric_total, parse_metrics

__all__ = ["ChildProcess", "ServiceProcess", "WorkerProcess", "service_env", "streamproc_command"]


def streamproc_command() -> list[str]:
    """How to run this installation's ``streamproc`` command."""
    script = Path(sys.executable).with_name("streamproc")
    if script.exists():
        return [str(script)]
    found = shutil.which("streamproc")
    return [found] if found else [sys.executable, "-m", "streamproc"]


def service_env(
    bootstrap: str, base: Mapping[str, str] | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a service that must talk to the broker at ``bootstrap``: this
    process's environment without any other ``STREAMPROC_`` setting (but the cache), plus
    ``extra`` (``STREAMPROC_...=value``)."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith("STREAMPROC_")}
    if source.get("STREAMPROC_CACHE"):
        env["STREAMPROC_CACHE"] = source["STREAMPROC_CACHE"]
    env["STREAMPROC_BROKER"] = bootstrap
    env.update(extra)
    return env


class ChildProcess:
    """A subprocess in a session of its own (Ctrl-C is the caller's to handle), its output in a
    log file; with ``die_with_parent`` the kernel kills it if the caller dies."""

    def __init__(
        self,
        argv: list[str],
        env: Mapping[str, str],
        log_path: Path,
        *,
        die_with_parent: bool = True,
    ) -> None:
        self.argv = argv
        self.env = dict(env)
        self.log_path = log_path
        self.die_with_parent = die_with_parent
        self.process: subprocess.Popen[bytes] | None = None
        self.spawned = 0.0

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name

    def launch(self) -> Self:
        """Start it without waiting."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.spawned = time.time()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=kill_me_with_parent if self.die_with_parent else None,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_alive(self) -> None:
        if not self.alive:
            code = self.process.returncode if self.process is not None else None
            raise RuntimeError(f"{self.name} exited with {code}:\n{self.log()}")

    def log(self, chars: int = 5000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; its exit status (None if it was killed)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no last commit."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class ServiceProcess(ChildProcess):
    """One ``streamproc <command>`` process with its own metrics port and directory."""

    command = "worker"

    def __init__(
        self,
        env: Mapping[str, str],
        directory: Path,
        *,
        args: tuple[str, ...] = (),
        die_with_parent: bool = True,
    ) -> None:
        port = free_port()
        super().__init__(
            [*streamproc_command(), self.command, *args],
            {**env, "STREAMPROC_METRICS_PORT": str(port)},
            directory / f"{self.command}-{port}.log",
            die_with_parent=die_with_parent,
        )
        self.metrics_port = port
        self.directory = directory

    @property
    def name(self) -> str:
        return self.command

    def metrics_text(self, timeout: float = 5.0) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text: str = response.read().decode()
            return text

    def samples(self) -> dict[str, float] | None:
        """Its metrics, or None while it does not answer."""
        try:
            return parse_metrics(self.metrics_text())
        except OSError:
            return None

    def metric(self, name: str) -> float:
        """The sum of every sample of ``name`` (0 while it does not answer)."""
        samples = self.samples()
        return metric_total(samples, name) if samples is not None else 0.0

    def ready(self, timeout: float = 2.0) -> bool:
        """Whether it answers ``/readyz`` with 200 on its metrics port."""
        url = f"http://127.0.0.1:{self.metrics_port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def start_ready(self, timeout: float = 90.0) -> Self:
        """Start it and wait until it is ready; raises if it exits or is not ready in time."""
        self.launch()
        deadline = time.monotonic() + timeout
        while not self.ready(timeout=1.0):
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready in {timeout:.0f} s\n{self.log()}")
            time.sleep(0.2)
        return self

    def wait_until(
        self, done: Callable[[dict[str, float]], bool], timeout: float, every: float = 0.1
    ) -> dict[str, float]:
        """Poll its metrics until ``done(samples)``; those samples. Raises if it exits."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            samples = self.samples()
            if samples is not None and done(samples):
                return samples
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: not there after {timeout:.0f} s\n{self.log()}")
            time.sleep(every)


class WorkerProcess(ServiceProcess):
    """A ``streamproc worker`` subprocess with its own data directory."""

    command = "worker"

    def __init__(
        self,
        env: Mapping[str, str],
        directory: Path,
        *,
        instance_id: str | None = None,
        log_level: str = "WARNING",
        die_with_parent: bool = True,
    ) -> None:
        super().__init__(env, directory, die_with_parent=die_with_parent)
        self.env.setdefault("STREAMPROC_WORKER_DIR", str(directory / "worker-data"))
        self.env.setdefault("STREAMPROC_LOG_LEVEL", log_level)
        if instance_id:
            self.env["STREAMPROC_INSTANCE_ID"] = instance_id

    def start(self, timeout: float = 90.0, partitions: int | None = None) -> WorkerProcess:
        """Start it and wait until it holds ``partitions`` comment partitions (default: all of
        them, as a worker alone in its group does)."""
        if partitions is None:
            from streamproc.kafka import topology

            partitions = topology().comment_partitions
        self.launch()
        self.wait_ready(timeout, partitions)
        return self

    def wait_ready(self, timeout: float, partitions: int) -> None:
        wanted = float(partitions)
        self.wait_until(
            lambda s: metric_total(s, "streamproc_assigned_partitions") >= wanted, timeout
        )
