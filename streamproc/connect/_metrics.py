"""The connector's Prometheus metrics. Labels are bounded (platform, outcome, reason); no
label ever holds an account, a comment or a person."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["REJECTION_REASONS", "ConnectMetrics"]

REJECTION_REASONS = (
    "missing_signature",
    "bad_signature",
    "bad_verify_token",
    "too_large",
    "invalid_json",
    "invalid_shape",
    "not_configured",
)


class ConnectMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "streamproc_connect_events_total",
            "Platform events received, by what became of them (published: a comment on its "
            "topic; ignored: not a comment, or the institution's own; rejected: refused with "
            "a 4xx; failed: the broker did not take it, answered 503 for the platform to retry)",
            ["platform", "outcome"],
            registry=r,
        )
        self.rejections = Counter(
            "streamproc_connect_rejections_total",
            "Requests refused, by reason",
            ["platform", "reason"],
            registry=r,
        )
        self.publish_seconds = Histogram(
            "streamproc_connect_publish_seconds",
            "From a delivery's arrival to its comments acknowledged by the broker",
            ["platform"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )
        self.polls = Counter(
            "streamproc_connect_polls_total",
            "Poller rounds, by result (ok, rate_limited, error)",
            ["platform", "result"],
            registry=r,
        )
        self.poll_wait = Counter(
            "streamproc_connect_poll_wait_seconds_total",
            "Seconds pollers waited for quota, rate limits and back-off",
            ["platform", "cause"],
            registry=r,
        )
        self.directory_entries = Gauge(
            "streamproc_connect_directory_entries",
            "Accounts the employee directory lists",
            registry=r,
        )
        for platform in ("facebook", "instagram", "twitter"):
            for reason in REJECTION_REASONS:
                self.rejections.labels(platform, reason)
