"""A worker that stays in its group holding partitions but reads none of them (a rebalance that
left its flow stopped) rejoins the group by itself, and every comment gets its decision."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from streamproc.kafka import KafkaSettings, TopicDeclarations

from ._streaming import Worker, comment, publish, read_decisions, unique
from .test_worker import worker_env

pytestmark = pytest.mark.kafka

FILLER = "Buongiorno, quando escono i dati sugli infortuni del 2025? Grazie."
REJOINED = 'streamproc_idle_recoveries_total{action="rejoin"}'
RESTARTED = 'streamproc_idle_recoveries_total{action="restart"}'


class StallingWorker(Worker):
    """The real worker, whose consumer stops reading when ``stall()`` is called."""

    def __init__(self, env: dict[str, str], directory: Path, instance_id: str) -> None:
        self.flag = directory / "stall-now"
        env = {**env, "STREAMPROC_TEST_STALL_FLAG": str(self.flag)}
        super().__init__(env, directory, instance_id=instance_id)
        script = Path(__file__).with_name("_stalling_worker.py")
        self.argv = [sys.executable, str(script), *self.argv[1:]]

    def stall(self, timeout: float = 30.0, *, always: bool = False) -> None:
        self.flag.parent.mkdir(parents=True, exist_ok=True)
        if always:
            self.flag.with_name(self.flag.name + "-always").touch()
        self.flag.touch()
        deadline = time.monotonic() + timeout
        while self.flag.exists():  # the worker takes the flag when it stops its consumer
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.1)


def test_a_member_that_reads_none_of_its_partitions_rejoins_and_loses_nothing(
    kafka_topics: TopicDeclarations,
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    run = unique()
    env = {**worker_env(kafka_bootstrap), "STREAMPROC_IDLE_TIMEOUT": "3"}
    worker = StallingWorker(env, tmp_path / "worker", instance_id=f"idle-{run}").start()
    try:
        before = [comment(FILLER, author=f"{run}-{i % 40}") for i in range(200)]
        publish(kafka_settings, before)
        assert len(read_decisions(kafka_settings, [c["id"] for c in before])) == len(before)
        assert worker.metric(REJOINED) == 0

        worker.stall()
        # Past its last fetch (a 1 s wait at most): what comes now waits for a reader.
        time.sleep(1.5)
        after = [comment(FILLER, author=f"{run}-{i % 40}") for i in range(300)]
        publish(kafka_settings, after)

        decisions = read_decisions(kafka_settings, [c["id"] for c in after], timeout=120)
        missing = [c["id"] for c in after if c["id"] not in decisions]
        assert missing == [], f"{len(missing)} comments never got a decision\n{worker.log()}"
        assert worker.metric(REJOINED) == 1, worker.log()
        assert worker.metric(RESTARTED) == 0
        assert worker.alive
        warnings = [line for line in worker.log(200_000).splitlines() if "rejoining" in line]
        assert len(warnings) == 1, warnings  # logged once, with counts, no comment content
        assert run not in warnings[0] and FILLER not in warnings[0]
    finally:
        assert worker.stop() == 0, worker.log()


def test_a_member_a_rejoin_does_not_help_exits_and_its_restart_reads_everything(
    kafka_topics: TopicDeclarations,
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    run = unique()
    instance = f"idle-{run}"
    env = {**worker_env(kafka_bootstrap), "STREAMPROC_IDLE_TIMEOUT": "3"}
    worker = StallingWorker(env, tmp_path / "worker", instance_id=instance).start()
    try:
        worker.stall(always=True)  # stops again after every rejoin
        time.sleep(1.5)
        comments = [comment(FILLER, author=f"{run}-{i % 40}") for i in range(300)]
        publish(kafka_settings, comments)
        assert worker.process is not None
        code = worker.process.wait(120)  # rejoins, stops again, and exits for its supervisor
        assert code == 70, worker.log()
        log = worker.log(200_000)
        assert log.count("rejoining the group") == 1, log
        assert log.count("exiting to be restarted") == 1, log
    finally:
        worker.kill()
    # What its supervisor does: the same instance id, a plain worker this time.
    restarted = Worker(worker_env(kafka_bootstrap), tmp_path / "again", instance_id=instance)
    restarted.start()
    try:
        decisions = read_decisions(kafka_settings, [c["id"] for c in comments], timeout=120)
        missing = [c["id"] for c in comments if c["id"] not in decisions]
        assert missing == [], f"{len(missing)} comments never got a decision\n{restarted.log()}"
    finally:
        assert restarted.stop() == 0, restarted.log()
