"""Several workers in one group: started at the same moment, joining and leaving under load.

Scaling out is the first thing ops do, so it must neither crash a worker (a rebalance used to
kill both with a TypeError in the lag timer) nor lose or change a decision: every comment is
decided as ``streamproc moderate`` decides it, strikes included, while partitions move between
processes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streamproc.kafka import KafkaSettings, TopicDeclarations

from ._faults import Feed, assert_every_comment_decided_as_in_batch
from ._streaming import Worker, unique
from .test_worker_kills import worker_group_env

pytestmark = pytest.mark.kafka


def wait_for_partitions(workers: list[Worker], total: int = 30, timeout: float = 60.0) -> None:
    """Until the running ``workers`` hold all ``total`` partitions between them, none twice."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for w in workers:
            assert w.process is not None and w.process.poll() is None, w.log()
        try:
            held = [w.metric("streamproc_assigned_partitions") for w in workers]
        except OSError:
            held = []
        if held and sum(held) == total and all(held):
            return
        time.sleep(0.2)
    raise AssertionError(f"partitions not shared out: {held}\n" + workers[0].log())


def test_workers_started_together_then_scaled_in_and_out_lose_nothing(
    kafka_topics: TopicDeclarations,
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    run = unique()
    env = worker_group_env(kafka_bootstrap, kafka_settings, run)
    feed = Feed(kafka_settings, run, rate=2000, seed=int(run[:6], 16))
    workers = [Worker(env, tmp_path / f"w{i}").launch() for i in range(3)]  # the same moment
    everyone = list(workers)
    try:
        feed.start()
        wait_for_partitions(workers)
        time.sleep(1.0)

        # One leaves cleanly, one dies; the survivor takes every partition.
        assert workers[0].stop() == 0, workers[0].log()
        workers[1].kill()
        survivor = workers[2]
        wait_for_partitions([survivor])
        time.sleep(1.0)

        # Two join at once while comments keep coming.
        joined = [Worker(env, tmp_path / f"j{i}").launch() for i in range(2)]
        everyone += joined
        wait_for_partitions([survivor, *joined])
        time.sleep(1.0)
        comments = feed.finish()
        assert_every_comment_decided_as_in_batch(kafka_settings, comments, tmp_path)
        for w in [survivor, *joined]:
            assert w.process is not None and w.process.poll() is None, w.log()
    finally:
        feed.finish()
        codes = {w.log_path.name: w.stop() for w in everyone}
    assert codes[survivor.log_path.name] == 0 and all(codes[j.log_path.name] == 0 for j in joined)
