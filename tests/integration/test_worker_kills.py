"""Workers killed with SIGKILL mid-stream, again and again: every comment still gets its decision.

Each run feeds comments steadily, kills the worker several times while it works (no graceful
shutdown, no last commit), restarts it, and then checks every input record: its comment has a
decision on moderation.actions, every copy of that decision (a replay after a kill) is the same
apart from ``decided_at``, and it is the decision ``streamproc moderate`` gives on the same
input, so strikes stayed exact (an author's third insult is a block, whichever worker process
saw the first two). Before the hand-off of ``streamproc.worker._handoff`` this lost whole ranges
of comments in about one run in three.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from streamproc.kafka import KafkaSettings, TopicDeclarations

from ._faults import Feed, assert_every_comment_decided_as_in_batch
from ._streaming import Worker, declare_app_topics, streamproc_env, unique

pytestmark = pytest.mark.kafka


def kill_while_working(
    env: dict[str, str], directory: Path, instance_id: str | None, kills: int, seed: int
) -> Worker:
    """Start a worker, kill it ``kills`` times at random moments while it decides comments,
    restart it each time; returns the last one, running."""
    rng = random.Random(seed)
    worker = Worker(env, directory, instance_id=instance_id).start()
    for _ in range(kills):
        deadline = time.monotonic() + 20
        while worker.metric("streamproc_comments_consumed_total") == 0:
            assert time.monotonic() < deadline, f"the worker decides nothing\n{worker.log()}"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.05, 1.5))
        worker.kill()
        worker = Worker(env, directory, instance_id=instance_id).start()
    return worker


def worker_group_env(bootstrap: str, settings: KafkaSettings, run: str) -> dict[str, str]:
    """Environment for workers of a consumer group of their own (from the topics' start)."""
    env = streamproc_env(bootstrap)
    env["STREAMPROC_APP_ID"] = app_id = f"faults-{run}"
    env["STREAMPROC_SESSION_TIMEOUT"] = "6"  # the broker's minimum: faster failover
    asyncio.run(declare_app_topics(settings, app_id))
    return env


@pytest.mark.parametrize(
    ("static_membership", "kills"),
    # Without an instance id a restarted worker waits for the group to drop the killed one
    # (the session timeout): fewer kills.
    [(True, 4), (False, 3)],
    ids=["instance-id", "dynamic"],
)
def test_every_comment_is_decided_once_in_substance_across_repeated_kills(
    static_membership: bool,
    kills: int,
    kafka_topics: TopicDeclarations,
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    run = unique()
    seed = int(run[:6], 16)
    env = worker_group_env(kafka_bootstrap, kafka_settings, run)
    instance_id = f"kills-{run}" if static_membership else None
    feed = Feed(kafka_settings, run, rate=3000, seed=seed)
    feed.start()
    try:
        worker = kill_while_working(env, tmp_path / "worker", instance_id, kills, seed)
    finally:
        comments = feed.finish()
    try:
        assert_every_comment_decided_as_in_batch(kafka_settings, comments, tmp_path)
    finally:
        assert worker.stop() == 0, worker.log()
