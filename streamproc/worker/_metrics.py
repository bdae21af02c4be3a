"""Prometheus metrics for the worker, with prometheus-client.

Names follow Prometheus conventions: one ``streamproc_`` prefix, base units (seconds), counters
ending in ``_total``, and labels only for bounded dimensions (channel, action, category, reason,
topic, partition) — never an author or comment id.

The per-comment histograms are fed in bulk, once per batch: ``prometheus_client.Histogram``
takes a lock per observation, which at tens of thousands of comments a second is a measurable
share of the work. :class:`BatchHistogram` keeps plain bucket counts and exposes them through a
custom collector.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from streamproc._deadletter import KINDS
from streamproc._health import Health, serve_http
from streamproc.core import ACTIONS, CATEGORIES

__all__ = [
    "DEAD_LETTER_KINDS",
    "IDLE_ACTIONS",
    "POLICY_RELOAD_RESULTS",
    "REVIEW_RESULTS",
    "BatchHistogram",
    "WorkerMetrics",
]

DEAD_LETTER_KINDS = KINDS
POLICY_RELOAD_RESULTS = ("applied", "invalid")
REVIEW_RESULTS = ("strike_removed", "no_strike", "ignored", "invalid")
IDLE_ACTIONS = ("rejoin", "restart")  # what the idle-member watchdog did (._idle)

PROCESSING_BUCKETS = (
    0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1,
)  # fmt: skip
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0,
)  # fmt: skip


class BatchHistogram(Collector):
    """A histogram observed a batch at a time; thread-safe for the scrape thread."""

    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = tuple(buckets)
        self._counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe_many(self, values: Iterable[float]) -> None:
        bounds = self.bounds
        local = [0] * (len(bounds) + 1)
        total = 0.0
        for value in values:
            local[bisect_left(bounds, value)] += 1
            total += value
        with self._lock:
            for index, count in enumerate(local):
                if count:
                    self._counts[index] += count
            self._sum += total

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            counts = list(self._counts)
            total = self._sum
        cumulative = 0
        buckets = []
        for bound, count in zip((*map(str, self.bounds), "+Inf"), counts, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        family = HistogramMetricFamily(self.name, self.documentation)
        family.add_metric([], buckets, total)
        yield family


class WorkerMetrics:
    """Every metric the worker exposes, registered in one registry."""

    def __init__(
        self, channels: Iterable[str] = (), registry: CollectorRegistry | None = None
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.comments = Counter(
            "streamproc_comments_consumed",
            "Comments consumed, by channel.",
            ["channel"],
            registry=r,
        )
        self.decisions = Counter(
            "streamproc_decisions",
            "Decisions published, by action (a decision counts once for each of its actions).",
            ["action"],
            registry=r,
        )
        self.categories = Counter(
            "streamproc_decision_categories",
            "Decisions published, by policy category found.",
            ["category"],
            registry=r,
        )
        self.dead_letters = Counter(
            "streamproc_dead_letters",
            "Records sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=r,
        )
        self.channel_mismatches = Counter(
            "streamproc_channel_mismatches",
            "Comments whose own channel is not their topic's (decided under their own channel).",
            ["topic"],
            registry=r,
        )
        self.reviews = Counter(
            "streamproc_reviews",
            "Review records from people, by what they did to the strikes.",
            ["result"],
            registry=r,
        )
        self.policy_info = Gauge(
            "streamproc_policy_info",
            "The policy pack in force (value 1, version in the label).",
            ["version"],
            registry=r,
        )
        self.policy_reloads = Counter(
            "streamproc_policy_reloads",
            "Policy packs received on the policy topic, by result.",
            ["result"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "streamproc_consumer_lag",
            "Records between the consumer's position and the end of the partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.stalls = Counter(
            "streamproc_fetch_stalls",
            "Partitions found with records waiting but no progress, and fetched again.",
            ["topic"],
            registry=r,
        )
        self.idle_recoveries = Counter(
            "streamproc_idle_recoveries",
            "A group member that read none of its partitions (or held none while the group's "
            "went unread) with records waiting: rejoined the group, or exited to be restarted.",
            ["action"],
            registry=r,
        )
        self.assigned_partitions = Gauge(
            "streamproc_assigned_partitions",
            "Comment-topic partitions assigned to this worker.",
            registry=r,
        )
        self.processing = BatchHistogram(
            "streamproc_processing_seconds",
            "Engine time per comment (parse, match, decide, serialize).",
            PROCESSING_BUCKETS,
        )
        self.latency = BatchHistogram(
            "streamproc_produce_to_decision_seconds",
            "From the comment's Kafka timestamp to its decision being handed to the producer.",
            LATENCY_BUCKETS,
        )
        r.register(self.processing)
        r.register(self.latency)
        self._policy_version: str | None = None
        # Every known label value starts at zero, so that rate() and increase() see the first
        # comments too (a series born with its first increment shows no increase).
        for channel in channels:
            self.comments.labels(channel)
        for action in ACTIONS:
            self.decisions.labels(action)
        for category in CATEGORIES:
            self.categories.labels(category)
        for kind in DEAD_LETTER_KINDS:
            self.dead_letters.labels(kind)
        for result in POLICY_RELOAD_RESULTS:
            self.policy_reloads.labels(result)
        for result in REVIEW_RESULTS:
            self.reviews.labels(result)
        for action in IDLE_ACTIONS:
            self.idle_recoveries.labels(action)

    def set_policy(self, version: str) -> None:
        if self._policy_version is not None:
            self.policy_info.remove(self._policy_version)
        self.policy_info.labels(version).set(1)
        self._policy_version = version

    def serve(self, port: int, address: str, health: Health) -> None:
        """Expose ``/metrics``, ``/healthz`` and ``/readyz`` on ``port`` from a thread."""
        serve_http(port, address, self.registry, health)
