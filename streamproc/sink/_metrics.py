"""The sink's Prometheus metrics; labels are bounded (channel, action, status, operation,
result, cause), never an account, a comment or a person."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["CALL_RESULTS", "DEAD_LETTER_KINDS", "SinkMetrics"]

CALL_RESULTS = ("ok", "transient", "permanent")
DEAD_LETTER_KINDS = ("invalid_json", "invalid_comment")


class SinkMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.outcomes = Counter(
            "streamproc_sink_outcomes_total",
            "Outcomes recorded, by channel, action and status",
            ["channel", "action", "status"],
            registry=r,
        )
        self.duplicates = Counter(
            "streamproc_sink_duplicates_total",
            "Actions read again (a redelivered decision, a restart) and skipped as already done",
            ["channel"],
            registry=r,
        )
        self.calls = Counter(
            "streamproc_sink_platform_calls_total",
            "Platform API calls, by result (ok, transient, permanent)",
            ["channel", "operation", "result"],
            registry=r,
        )
        self.call_seconds = Histogram(
            "streamproc_sink_platform_call_seconds",
            "Duration of platform API calls",
            ["channel"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=r,
        )
        self.wait_seconds = Counter(
            "streamproc_sink_rate_limit_wait_seconds_total",
            "Seconds spent waiting for a platform's rate limit or quota, by cause",
            ["channel", "cause"],
            registry=r,
        )
        self.waits = Histogram(
            "streamproc_sink_rate_limit_pause_seconds",
            "Each wait for a platform's rate limit or quota",
            ["channel"],
            buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 86400.0),
            registry=r,
        )
        self.quota_spent = Gauge(
            "streamproc_sink_youtube_quota_units_spent",
            "YouTube quota units the sink spent today (Pacific time)",
            registry=r,
        )
        self.dead_letters = Counter(
            "streamproc_sink_dead_letters_total",
            "Records the sink could not read (sent to moderation.deadletter)",
            ["reason"],
            registry=r,
        )
        self.assigned = Gauge(
            "streamproc_sink_assigned_partitions",
            "Partitions of moderation.actions (and moderation.reviews) this sink owns",
            registry=r,
        )

        for kind in DEAD_LETTER_KINDS:
            self.dead_letters.labels(kind)

    def start_channel(
        self,
        channel: str,
        actions: Iterable[str],
        statuses: Iterable[str],
        operations: Iterable[str],
        causes: Iterable[str],
    ) -> None:
        """Every known label value of a configured channel starts at zero, so that rate() and
        increase() (the alerts on failed and unknown outcomes) see the first event too."""
        statuses = tuple(statuses)
        for action in actions:
            for status in statuses:
                self.outcomes.labels(channel, action, status)
        for operation in operations:
            for result in CALL_RESULTS:
                self.calls.labels(channel, operation, result)
        for cause in causes:
            self.wait_seconds.labels(channel, cause)

    def waited(self, channel: str, cause: str, seconds: float) -> None:
        self.wait_seconds.labels(channel, cause).inc(seconds)
        self.waits.labels(channel).observe(seconds)
