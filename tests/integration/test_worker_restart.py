"""A worker killed mid-stream: strikes survive the restart and no comment is left undecided."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from streamproc.kafka import KafkaSettings, TopicDeclarations

from ._streaming import Worker, comment, publish, read_decisions, unique
from .test_worker import worker_env

pytestmark = pytest.mark.kafka

FILLER = "Buongiorno, quando escono i dati sugli infortuni del 2025? Grazie."


def test_strikes_survive_a_kill_and_every_comment_gets_a_decision(
    kafka_topics: TopicDeclarations,
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    env = worker_env(kafka_bootstrap)
    run = unique()
    offender = f"{run}-offender"
    first = comment("Sei un idiota.", author=offender, channel="youtube")
    filler = [
        comment(FILLER, author=f"{run}-{i % 50}", channel=("facebook", "twitter")[i % 2])
        for i in range(6000)
    ]
    second = comment(
        "Sei proprio un idiota, te l'ho già detto.", author=offender, channel="youtube"
    )

    worker = Worker(env, tmp_path / "one", instance_id=f"restart-{run}").start()
    try:
        publish(kafka_settings, [first])
        (warned,) = read_decisions(kafka_settings, [first["id"]])[first["id"]]
        assert warned["actions"] == ["remove", "warn"]

        # Kill it (SIGKILL: no graceful shutdown, no last commit) while it works through these.
        publish(kafka_settings, filler)
        deadline = time.monotonic() + 60
        while worker.metric('streamproc_comments_consumed_total{channel="facebook"}') < 500:
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.05)
    finally:
        worker.kill()

    restarted = Worker(env, tmp_path / "two", instance_id=f"restart-{run}").start()
    try:
        publish(kafka_settings, [second])
        decisions = read_decisions(
            kafka_settings, [c["id"] for c in [first, *filler, second]], timeout=120
        )
        (blocked,) = decisions[second["id"]][-1:]
        assert blocked["actions"] == ["remove", "block"], blocked["reasons"]
        assert "second conduct violation" in " ".join(blocked["reasons"])

        missing = [c["id"] for c in filler if c["id"] not in decisions]
        state = "\n".join(
            line
            for line in restarted.metrics().splitlines()
            if line.startswith(("streamproc_consumer_lag", "streamproc_comments_consumed_total"))
        )
        if missing:
            assert restarted.process is not None
            os.kill(restarted.process.pid, signal.SIGUSR1)  # mode's Worker logs every task
            time.sleep(3)
            state += "\n" + restarted.log_path.read_text(errors="replace")[-60000:]
        assert missing == [], f"{len(missing)} comments never got a decision\n{state}"
        # At-least-once: some comments may have been decided twice around the kill, never with
        # different outcomes.
        for c in filler:
            assert {tuple(d["actions"]) for d in decisions[c["id"]]} == {("allow",)}
    finally:
        assert restarted.stop() == 0, restarted.log()
