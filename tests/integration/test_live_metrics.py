"""The series the rules and the dashboard name are really served: ``streamproc connect``,
``streamproc sink`` and ``streamproc review serve`` run against the session's broker (the
platform stand-ins, a SQLite review database) and each one's /metrics, scraped over HTTP right
after start, has a sample of every name the rules and the dashboard take from that service (the
worker's are checked inside the image, tests/ops/test_image.py)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from streamproc.connect._metrics import ConnectMetrics
from streamproc.kafka import TopicDeclarations
from streamproc.local import ChildProcess, free_port, service_env
from streamproc.local.platforms import StandIns
from streamproc.review._metrics import ReviewMetrics
from streamproc.sink._metrics import SinkMetrics
from tests.integration._platforms import Service, wait_for
from tests.integration._streaming import streamproc_command, unique
from tests.ops.test_monitoring import _dashboard_exprs, _rules, _series_in

pytestmark = pytest.mark.kafka

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def _names(registry: CollectorRegistry) -> set[str]:
    return {
        family.name + suffix
        for family in registry.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def _referenced() -> set[str]:
    exprs = [rule["expr"] for rule in _rules()] + list(_dashboard_exprs())
    return set().union(*map(_series_in, exprs))


def _scrape(port: int) -> set[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture(scope="module")
def services(
    kafka_bootstrap: str, kafka_topics: TopicDeclarations, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, int]]:
    """The metrics port of each running service."""
    directory = tmp_path_factory.mktemp("live-metrics")
    stand_ins = StandIns().start()
    env = {
        **service_env(kafka_bootstrap),
        **stand_ins.env(),
        "STREAMPROC_SINK_GROUP": unique("sink-"),
    }
    connect, sink = Service("connect", env, directory), Service("sink", env, directory)
    review_metrics = free_port()
    review = ChildProcess(
        [*streamproc_command(), "review", "serve"],
        service_env(
            kafka_bootstrap,
            STREAMPROC_REVIEW_DATABASE=f"sqlite:///{directory / 'review.db'}",
            STREAMPROC_REVIEW_PORT=str(free_port()),
            STREAMPROC_REVIEW_METRICS_PORT=str(review_metrics),
            STREAMPROC_REVIEW_GROUP=unique("review-"),
        ),
        Path(directory / "review.log"),
    )
    try:
        review.launch()
        connect.start()
        sink.start()

        def review_ready() -> bool:
            review.check_alive()
            try:
                url = f"http://127.0.0.1:{review_metrics}/readyz"
                with urllib.request.urlopen(url, timeout=2) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        wait_for(review_ready, 60, "the review console to be ready")
        yield {"connect": connect.port, "sink": sink.port, "review": review_metrics}
    finally:
        connect.stop()
        sink.stop()
        review.stop()
        stand_ins.stop()


REGISTRIES = {
    "connect": ConnectMetrics,
    "sink": SinkMetrics,
    "review": ReviewMetrics,
}


@pytest.mark.parametrize("service", sorted(REGISTRIES))
def test_every_series_the_rules_and_dashboard_name_is_served_live(
    service: str, services: dict[str, int]
) -> None:
    expected = _referenced() & _names(REGISTRIES[service]().registry)
    assert expected, f"the rules and the dashboard name nothing of {service}"
    missing = expected - _scrape(services[service])
    assert not missing, f"{service} serves no sample of {sorted(missing)}"
