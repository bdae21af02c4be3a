"""End to end with a real Prometheus: it scrapes a running worker and its API shows the
throughput counters moving."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamproc.kafka import KafkaSettings, TopicDeclarations
from streamproc.local import free_port

from ._streaming import Worker, comment, publish, unique
from .test_worker import worker_env

pytestmark = pytest.mark.kafka

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


class Prometheus:
    def __init__(self, directory: Path, target: str) -> None:
        self.port = free_port()
        config = directory / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: streamproc\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        self.log = directory / "prometheus.log"
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        url = f"http://127.0.0.1:{self.port}{path}{query}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"Prometheus not ready: {self.log.read_text()}")

    def value(self, promql: str) -> float | None:
        result = self.get("/api/v1/query", query=promql)["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, minimum: float, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.value(promql)
            if value is not None and value >= minimum:
                return value
            time.sleep(0.5)
        raise AssertionError(f"{promql} = {value}, expected >= {minimum}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def scraped_worker(
    kafka_topics: TopicDeclarations, kafka_bootstrap: str, tmp_path: Path
) -> Iterator[tuple[Worker, Prometheus]]:
    assert Path(PROMETHEUS).exists(), "prometheus is missing: the test command installs it"
    worker = Worker(worker_env(kafka_bootstrap), tmp_path / "worker").start()
    prometheus = Prometheus(tmp_path, f"127.0.0.1:{worker.metrics_port}")
    try:
        prometheus.wait_ready()
        yield worker, prometheus
    finally:
        prometheus.stop()
        worker.stop()


def test_prometheus_sees_the_counters_move(
    scraped_worker: tuple[Worker, Prometheus], kafka_settings: KafkaSettings
) -> None:
    worker, prometheus = scraped_worker
    up = prometheus.wait_for('up{job="streamproc"}', 1)
    assert up == 1
    before = prometheus.value("sum(streamproc_comments_consumed_total)") or 0.0

    run = unique()
    comments = [
        comment("Grazie per il webinar sulla prevenzione.", author=f"{run}-{i % 40}")
        for i in range(1500)
    ] + [comment("sei un idiota", author=f"{run}-x{i}") for i in range(20)]
    publish(kafka_settings, comments)

    prometheus.wait_for("sum(streamproc_comments_consumed_total)", before + len(comments))
    assert prometheus.wait_for('sum(streamproc_decisions_total{action="remove"})', 20) >= 20
    assert prometheus.wait_for('sum(streamproc_decision_categories_total{category="insult"})', 20)
    # Throughput as a dashboard shows it: the counter's increase over the last two minutes.
    moved = prometheus.wait_for("sum(increase(streamproc_comments_consumed_total[2m]))", 100)
    assert moved > 0
    latency = prometheus.wait_for("streamproc_produce_to_decision_seconds_count", len(comments))
    assert latency >= len(comments)
    p99 = prometheus.value(
        "histogram_quantile(0.99, rate(streamproc_produce_to_decision_seconds_bucket[30s]))"
    )
    assert p99 is not None and p99 > 0
    assert prometheus.value("sum(streamproc_assigned_partitions)") == 30
    assert worker.metric("streamproc_policy_info") == 1


def test_the_worker_serves_health_and_readiness_beside_its_metrics(
    kafka_topics: object, kafka_bootstrap: str, tmp_path: Path
) -> None:
    import urllib.error
    import urllib.request

    from ._streaming import Worker, streamproc_env

    worker = Worker(streamproc_env(kafka_bootstrap), tmp_path / "w").start()
    try:
        base = f"http://127.0.0.1:{worker.metrics_port}"
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            assert response.status == 200 and response.read() == b"ok\n"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
                    assert response.read() == b"ready\n"
                    break
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                assert time.monotonic() < deadline, worker.log()
                time.sleep(0.2)
    finally:
        assert worker.stop() == 0, worker.log()
