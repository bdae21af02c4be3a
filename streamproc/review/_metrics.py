"""The console's Prometheus metrics (labels are bounded: kinds, queues, results)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["ReviewMetrics"]

MAX_RULES_PER_CASE = 20  # a bound on the labels one case adds
# What people can do in the console (the routes of _web.ReviewApp.act).
CONSOLE_ACTIONS = (
    "reveal", "confirm", "overturn", "claim", "note", "appeal", "appeal_upheld", "appeal_rejected",
    "evidence", "escalate",
)  # fmt: skip


APPEAL_RESULTS = (
    "accepted", "duplicate", "invalid", "too_long", "rate_limited", "csrf", "forged", "expired",
    "unknown",
)  # fmt: skip


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
        self.oldest_case = Gauge(
            "streamproc_review_oldest_case_seconds",
            "How long the oldest open case of each queue has waited (0: empty)",
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
        self.reviewed = Counter(
            "streamproc_review_reviewed_rules",
            "Rules of decisions people confirmed or overturned (overturned / all: the overturn "
            "rate of a rule, the sign that it is wrong)",
            ["rule", "result"],
            registry=self.registry,
        )
        self.sign_ins = Counter(
            "streamproc_review_sign_ins",
            "Sign-in attempts by result (ok, wrong, rate_limited)",
            ["result"],
            registry=self.registry,
        )
        self.first_review = Histogram(
            "streamproc_review_time_to_first_review_seconds",
            "From a case's arrival in the console to its first confirmation or overturn",
            buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800),
            registry=self.registry,
        )
        self.purged = Counter(
            "streamproc_review_purged_cases",
            "Cases emptied to their decision skeleton by the retention period",
            registry=self.registry,
        )
        self.notifications = Counter(
            "streamproc_review_notifications",
            "Out-of-hours webhook deliveries for urgent cases, by result (sent, failed)",
            ["result"],
            registry=self.registry,
        )
        self.appeals_open = Gauge(
            "streamproc_review_appeals_open",
            "Appeals waiting for a person's answer",
            registry=self.registry,
        )
        self.appeals_decided = Counter(
            "streamproc_review_appeals_decided",
            "Appeals people answered, by outcome (upheld, rejected)",
            ["outcome"],
            registry=self.registry,
        )
        self.appeals_received = Counter(
            "streamproc_review_appeals_received",
            "Submissions on the public appeal page, by result (accepted, duplicate, invalid, "
            "too_long, rate_limited, csrf, forged, expired, unknown)",
            ["result"],
            registry=self.registry,
        )

        # Known label values start at zero, so that increase() sees the first action too.
        for action in CONSOLE_ACTIONS:
            self.actions.labels(action)
        for result in ("sent", "failed"):
            self.notifications.labels(result)
        for outcome in ("upheld", "rejected"):
            self.appeals_decided.labels(outcome)
        for result in APPEAL_RESULTS:
            self.appeals_received.labels(result)

    def count_review(self, decision: dict[str, object], result: str) -> None:
        """One confirmed or overturned decision, once for each rule it matched."""
        matches = decision.get("matches")
        rules = {
            str(m.get("rule"))
            for m in (matches if isinstance(matches, list) else [])
            if isinstance(m, dict) and m.get("rule")
        }
        for rule in sorted(rules)[:MAX_RULES_PER_CASE]:
            self.reviewed.labels(rule, result).inc()
