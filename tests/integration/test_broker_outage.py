"""The broker stopped under load and restarted: everyone reconnects, nothing is lost.

These tests run a broker of their own (the session's must stay up for the other tests): killed
with SIGKILL while comments stream through a worker, restarted on the same port at once (the
killed broker's TIME_WAIT connections must not block it), or after 15 seconds.
"""

from __future__ import annotations

import asyncio
import atexit
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from streamproc.kafka import KafkaSettings, admin_client, apply, load_declarations
from streamproc.local import LocalBroker, free_port

from ._faults import Feed, assert_every_comment_decided_as_in_batch
from ._streaming import Worker, comment, streamproc_command, streamproc_env, unique

pytestmark = pytest.mark.kafka


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    broker = LocalBroker(tmp_path / "broker", port=free_port(), controller_port=free_port())
    atexit.register(broker.kill)
    broker.start(timeout=120, die_with_parent=True)

    async def topics() -> None:
        settings = KafkaSettings(bootstrap_servers=(broker.status().bootstrap or "",))
        async with admin_client(settings) as admin:
            report = await apply(load_declarations(), admin)
        assert not report.has_errors, report.lines()

    asyncio.run(topics())
    yield broker
    broker.kill()
    atexit.unregister(broker.kill)


def restart(broker: LocalBroker) -> float:
    """Start ``broker`` again on its port; seconds it took to answer."""
    started = time.monotonic()
    broker.start(timeout=120, die_with_parent=True)
    return time.monotonic() - started


def log_lines_between(worker: Worker, start: float, end: float) -> int:
    """Lines the worker logged between two wall-clock times (its log lines carry a stamp)."""
    count = 0
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if line.startswith("[20"):
            stamp = time.mktime(time.strptime(line[1:20], "%Y-%m-%d %H:%M:%S"))
            if start - 1 <= stamp <= end + 1:
                count += 1
    return count


def test_a_broker_killed_under_load_and_back_15_s_later_loses_nothing(
    own_broker: LocalBroker, tmp_path: Path
) -> None:
    bootstrap = own_broker.status().bootstrap
    assert bootstrap is not None
    settings = KafkaSettings(bootstrap_servers=(bootstrap,))
    run = unique()
    env = streamproc_env(bootstrap)
    worker = Worker(env, tmp_path / "worker").start()
    feed = Feed(settings, run, rate=1500, seed=int(run[:6], 16))
    feed.start()
    try:
        deadline = time.monotonic() + 30
        while worker.metric("streamproc_comments_consumed_total") < 3000:
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.1)
        own_broker.kill()  # SIGKILL: no controlled shutdown
        down_at = time.time()
        time.sleep(15)
        up_after = restart(own_broker)
        up_at = time.time()
        # Decisions resume: the worker reconnected by itself.
        before = worker.metric("streamproc_decisions_total")
        deadline = time.monotonic() + 60
        while worker.metric("streamproc_decisions_total") <= before:
            assert time.monotonic() < deadline, f"no decision after the restart\n{worker.log()}"
            time.sleep(0.1)
        recovered = time.time() - up_at
        time.sleep(2)
        comments = feed.finish()
        assert_every_comment_decided_as_in_batch(settings, comments, tmp_path)
        lines = log_lines_between(worker, down_at, up_at)
        print(f"broker back in {up_after:.1f} s; first decision {recovered:.1f} s after that")
        print(f"worker log lines during the 15 s outage: {lines}")
        assert lines < 200, "a failing connection must be logged once per back-off period"
    finally:
        feed.finish()
        assert worker.stop() == 0, worker.log()


def test_a_killed_broker_restarts_on_its_port_at_once(own_broker: LocalBroker) -> None:
    own_broker.kill()
    took = restart(own_broker)  # "port already in use" for 60 s before SO_REUSEADDR
    assert own_broker.status().running and took < 60


def test_a_worker_stops_within_its_shutdown_timeout_with_the_broker_gone(
    own_broker: LocalBroker, tmp_path: Path
) -> None:
    bootstrap = own_broker.status().bootstrap
    assert bootstrap is not None
    env = {**streamproc_env(bootstrap), "STREAMPROC_SHUTDOWN_TIMEOUT": "8"}
    worker = Worker(env, tmp_path / "worker").start()
    own_broker.kill()
    time.sleep(3)
    assert worker.process is not None
    worker.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = worker.process.wait(30)
    assert time.monotonic() - started < 12, worker.log()
    assert code in (0, 143), worker.log()
    assert "\x1b[" not in worker.log()  # no terminal escape codes in a log file


def test_publish_keeps_trying_through_an_outage_and_says_where_it_stopped(
    own_broker: LocalBroker, tmp_path: Path
) -> None:
    bootstrap = own_broker.status().bootstrap
    assert bootstrap is not None
    source = tmp_path / "comments.ndjson"
    source.write_bytes(
        b"\n".join(orjson.dumps(comment("Grazie!", author=f"a{i}")) for i in range(50)) + b"\n"
    )
    env = streamproc_env(bootstrap)
    own_broker.kill()
    # Down for good: it gives up after --retry-for and says from which line to resume.
    gave_up = subprocess.run(
        [*streamproc_command(), "publish", "--retry-for", "5", str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gave_up.returncode == 75, gave_up.stderr
    assert "NOT SENT from line 1" in gave_up.stderr and "--from-line 1" in gave_up.stderr
    assert "Traceback" not in gave_up.stderr
    assert gave_up.stderr.count("\n") < 40, gave_up.stderr  # one line per back-off, not a flood

    # Back after a few seconds: the same command just takes longer.
    publisher = subprocess.Popen(
        [*streamproc_command(), "publish", "--retry-for", "120", str(source)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)
    restart(own_broker)
    _, stderr = publisher.communicate(timeout=150)
    assert publisher.returncode == 0, stderr
    assert "published 50 comments from 50 lines" in stderr


def test_connect_sink_and_review_ride_out_an_outage(
    own_broker: LocalBroker, tmp_path: Path
) -> None:
    """The broker killed for 15 s under the connector, the sink and the review console: they stay
    alive and healthy, a delivery during the outage is answered 503 (the platform delivers it
    again), and after the restart the same delivery is accepted and its comment published."""
    import urllib.request

    from streamproc.local.platforms import StandIns, deliver, facebook_comment, sign

    from ._platforms import Service, read_json, wait_for

    bootstrap = own_broker.status().bootstrap
    assert bootstrap is not None
    settings = KafkaSettings(bootstrap_servers=(bootstrap,))
    stand_ins = StandIns().start()
    env = {**streamproc_env(bootstrap), **stand_ins.env(), "STREAMPROC_SINK_GROUP": unique("s-")}
    connect, sink = Service("connect", env, tmp_path), Service("sink", env, tmp_path)
    review_port = free_port()
    review = subprocess.Popen(
        [*streamproc_command(), "review", "serve"],
        env={
            **env,
            "STREAMPROC_REVIEW_DATABASE": f"sqlite:///{tmp_path / 'review.db'}",
            "STREAMPROC_REVIEW_PORT": str(free_port()),
            "STREAMPROC_REVIEW_METRICS_PORT": str(review_port),
            "STREAMPROC_REVIEW_GROUP": unique("r-"),
        },
        stdout=(tmp_path / "review.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def status(port: int, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    comment_id = f"{unique('9')}_{unique('8')}"
    body = facebook_comment(
        stand_ins.accounts,
        comment_id=comment_id,
        post_id="901097836652708",
        user_id=unique("10"),
        name="Test",
        text="Grazie per le informazioni",
        created_at="2026-11-18T10:30:00+01:00",
    )
    url = f"{connect.url}/webhooks/facebook"
    try:
        connect.start()
        sink.start()
        wait_for(lambda: status(review_port, "/readyz") == 200, 90, "the review console")
        own_broker.kill()
        time.sleep(3)
        assert deliver(url, body, sign("facebook", stand_ins.accounts, body)) == 503
        time.sleep(12)
        for port in (connect.port, sink.port, review_port):
            assert status(port, "/healthz") == 200, f"port {port} unhealthy in the outage"
        assert review.poll() is None, (tmp_path / "review.log").read_text()[-3000:]
        restart(own_broker)
        # The platform delivers again; once the connector has its broker back, it is accepted.
        wait_for(
            lambda: deliver(url, body, sign("facebook", stand_ins.accounts, body)) == 200,
            60,
            "the delivery to be accepted after the restart",
        )
        published = read_json(
            settings, "comments.facebook", lambda d: d["id"] == f"facebook:{comment_id}"
        )
        assert len(published) >= 1
        for port in (sink.port, review_port):
            wait_for(lambda p=port: status(p, "/readyz") == 200, 60, f"port {port} ready again")
        assert connect.process is not None and connect.process.poll() is None
        assert sink.process is not None and sink.process.poll() is None
        assert review.poll() is None
    finally:
        connect.stop()
        sink.stop()
        if review.poll() is None:
            review.send_signal(signal.SIGTERM)
            try:
                review.wait(30)
            except subprocess.TimeoutExpired:
                review.kill()
        stand_ins.stop()
