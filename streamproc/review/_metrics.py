"""The console's Prometheus metrics (labels are bounded: kinds, queues, results)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["ReviewMetrics"]


class ReviewMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.ingested = Counter(
            "streamproc_review_records",
            "Records read by the console, by kind (decision, outcome, comment, replayed)",
            ["kind"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "streamproc_review_dead_letters",
            "Records the console could not use, sent to moderation.deadletter, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "streamproc_review_queue_depth",
            "Open cases per queue (all roles' view)",
            ["queue"],
            registry=self.registry,
        )
        self.reviews_published = Counter(
            "streamproc_review_reviews_published",
            "Review records published on moderation.reviews",
            registry=self.registry,
        )
        self.actions = Counter(
            "streamproc_review_actions",
            "Actions people took in the console",
            ["action"],
            registry=self.registry,
        )
        self.sign_ins = Counter(
            "streamproc_review_sign_ins",
            "Sign-in attempts by result (ok, wrong, rate_limited)",
            ["result"],
            registry=self.registry,
        )
