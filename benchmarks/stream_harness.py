"""What the streaming benchmarks share: the topics they read and write, the run's state (the
broker, the preloaded topics), and worker subprocesses that are stopped whatever happens."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from benchmarks.bench_engine import python_argv
from benchmarks.kafka_tools import (
    partitions_of,
)
from streamproc.kafka import KafkaSettings, load_declarations
from streamproc.local import (
    ChildProcess,
    LocalBroker,
    WorkerProcess,
    free_port,
    metric_total,
    service_env,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

APP_ID = "streamproc"  # the worker's app id = consumer group; its changelog topics are declared
ACTIONS = "moderation.actions"
DEAD_LETTERS = "moderation.deadletter"
CHANGELOG = f"{APP_ID}-strikes-changelog"
BARE_OUT = "bench.bare-out"  # scratch output topic of the bare loop
LATENCY_SEED = 4242  # another seed than the preload: other comment ids
PARTITIONS_WANTED = 30  # 5 comment topics x 6 partitions

# Processes ---------------------------------------------------------------------------------

# Every process this benchmark starts, so that they are stopped whatever happens.
children: list[ChildProcess] = []


def kill_children() -> None:
    for process in list(children):
        process.kill()
        children.remove(process)


# The benchmark -------------------------------------------------------------------------------


@dataclass
class Bench:
    broker: LocalBroker
    settings: KafkaSettings
    bootstrap: str
    workdir: Path
    count: int
    comment_topics: list[str]
    partitions: dict[str, int]
    max_records: int
    worker_env: dict[str, str] = field(default_factory=dict)  # --worker-env: settings to try

    @property
    def broker_pid(self) -> int:
        pid = self.broker.status().pid
        assert pid is not None, "the broker is not running"
        return pid

    def tps(self, *topics: str) -> list[TopicPartition]:
        return partitions_of(topics, self.partitions)


class BenchWorker:
    """A ``streamproc worker`` subprocess with its own metrics port, data dir and log."""

    def __init__(self, bench: Bench, name: str) -> None:
        env = service_env(bench.bootstrap, None, **bench.worker_env)
        self.service = WorkerProcess(env, bench.workdir / name)
        children.append(self.service)

    @property
    def process(self) -> Any:
        return self.service.process

    @property
    def spawned(self) -> float:
        return self.service.spawned

    @property
    def log_path(self) -> Path:
        return self.service.log_path

    def start(self) -> int:
        process = self.service.launch().process
        assert process is not None
        return process.pid

    async def metrics(self) -> dict[str, float] | None:
        return await asyncio.to_thread(self.service.samples)

    async def wait_until(self, done: Any, timeout: float, every: float = 0.5) -> dict[str, float]:
        """Poll the metrics until ``done(samples)`` is true; return those samples."""
        return await asyncio.to_thread(self.service.wait_until, done, timeout, every)

    def stop(self) -> int | None:
        code = self.service.stop()
        if self.service in children:
            children.remove(self.service)
        return code


def delivered(samples: dict[str, float]) -> float:
    return metric_total(samples, "streamproc_produce_to_decision_seconds_count") + metric_total(
        samples, "streamproc_dead_letters_total"
    )


@contextmanager
def local_bench(
    count: int,
    label: str,
    max_records: int = 5000,
    step: Callable[[str], None] | None = None,
) -> Iterator[Bench]:
    """A private local broker and the run's state on it; the broker, every child process and
    the scratch folder gone at the end, whatever happens."""
    topics = [d.name for d in load_declarations() if d.name.startswith("comments.")]
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    broker = LocalBroker(workdir / "broker", port=free_port(), controller_port=free_port())
    atexit.register(broker.kill)
    atexit.register(kill_children)
    try:
        if step is not None:
            step(f"{label}: starting a local broker")
        bootstrap = broker.start(timeout=300, die_with_parent=True)
        yield Bench(
            broker=broker,
            settings=KafkaSettings(bootstrap_servers=(bootstrap,)),
            bootstrap=bootstrap,
            workdir=workdir,
            count=count,
            comment_topics=topics,
            partitions={},
            max_records=max_records,
        )
    finally:
        kill_children()
        broker.stop(timeout=20)
        atexit.unregister(broker.kill)
        shutil.rmtree(workdir, ignore_errors=True)


def loop_argv(bench: Bench, module: str, group: str, count: int, result: Path) -> list[str]:
    """The command line of a bare loop (``python -m module``, bare_loop.py's options) that
    consumes ``count`` comments in the consumer group ``group``."""
    return [*python_argv(), "-m", module, "--bootstrap", bench.bootstrap, "--group", group,
            "--count", str(count), "--max-records", str(bench.max_records),
            "--result", str(result)]  # fmt: skip
