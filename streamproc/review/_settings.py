"""Settings of ``streamproc review``, from ``STREAMPROC_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamproc._appeal import AppealSettings
from streamproc._paths import cache_dir
from streamproc._settings import env_field, from_env, settings_help
from streamproc.kafka import KafkaSettings

__all__ = ["ReviewSettings", "default_database_url"]


def default_database_url() -> str:
    """An SQLite file in the cache directory: zero set-up on one machine."""
    return f"sqlite:///{cache_dir() / 'review' / 'review.db'}"


#: Shorter than a complaint stays open (DSA art. 20: six months) would purge what an appeal
#: has to show.
MIN_RETENTION_DAYS = 183


@dataclass(frozen=True)
class ReviewSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    #: STREAMPROC_APPEAL_*: the signed appeal links the public appeal page opens.
    appeal: AppealSettings = field(default_factory=AppealSettings)
    database_url: str = env_field(
        "STREAMPROC_REVIEW_DATABASE",
        default_factory=default_database_url,
        help="SQLAlchemy URL: sqlite:///FILE, or postgresql+psycopg://user:pw@host/db",
        shown="sqlite:///$STREAMPROC_CACHE/review/review.db",
    )
    group_id: str = env_field("STREAMPROC_REVIEW_GROUP", "streamproc-review", "consumer group")
    port: int = env_field("STREAMPROC_REVIEW_PORT", 8470, "the console (HTTP)")
    address: str = env_field("STREAMPROC_REVIEW_ADDRESS", "127.0.0.1", "the console's address")
    metrics_port: int = env_field(
        "STREAMPROC_REVIEW_METRICS_PORT", 9467, "/metrics, /healthz, /readyz (0: none)"
    )
    metrics_address: str = env_field("STREAMPROC_METRICS_ADDRESS", "0.0.0.0", "their address")
    secure_cookies: int = env_field(
        "STREAMPROC_REVIEW_SECURE_COOKIES",
        1,
        "1: cookies only over HTTPS (0: local HTTP)",
    )
    session_hours: float = env_field(
        "STREAMPROC_REVIEW_SESSION_HOURS", 10.0, "hours a sign-in lasts"
    )
    login_attempts: int = env_field(
        "STREAMPROC_REVIEW_LOGIN_ATTEMPTS", 5, "failed sign-ins per name and address per 15 min"
    )
    orphan_hours: float = env_field(
        "STREAMPROC_REVIEW_ORPHAN_HOURS", 24.0, "hours a comment without a case is kept"
    )
    retention_days: int = env_field(
        "STREAMPROC_REVIEW_RETENTION_DAYS",
        400,
        "days after which a case keeps only its decision skeleton (0: never purge)",
    )
    urgent_webhook: str = env_field(
        "STREAMPROC_REVIEW_URGENT_WEBHOOK",
        "",
        "URL to POST an urgent case that arrives outside moderation hours to (once per case)",
    )
    webhook_secret: str = env_field(
        "STREAMPROC_REVIEW_WEBHOOK_SECRET",
        "",
        "key of the webhook's X-Streamproc-Signature (HMAC-SHA256 of the body)",
        secret=True,
    )
    policy_path: Path | None = env_field(
        "STREAMPROC_POLICY",
        None,
        "the pack whose strike windows the case pages show (the workers' pack)",
        shown="bundled",
    )
    actions_topic: str = "moderation.actions"
    outcomes_topic: str = "moderation.outcomes"
    comment_topics: tuple[str, ...] = ()
    reviews_topic: str = "moderation.reviews"
    dead_letter_topic: str = "moderation.deadletter"
    commit_interval: float = 1.0
    log_level: str = env_field(
        "STREAMPROC_LOG_LEVEL", "WARNING", "DEBUG, INFO, WARNING or ERROR", parse=str.upper
    )

    @property
    def public_url(self) -> str:
        """The console's address as people reach it (STREAMPROC_APPEAL_BASE_URL, which the
        sink's appeal links use too), else its own address."""
        base = self.appeal.base_url
        return base.rstrip("/") if base else f"http://{self.address}:{self.port}"

    def __post_init__(self) -> None:
        if self.retention_days != 0 and not self.retention_days >= MIN_RETENTION_DAYS:
            raise ValueError(
                f"STREAMPROC_REVIEW_RETENTION_DAYS={self.retention_days}: at least "
                f"{MIN_RETENTION_DAYS} (appeals stay open six months), or 0 to never purge"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ReviewSettings:
        from streamproc.kafka import topology

        env = os.environ if environ is None else environ
        overrides.setdefault("comment_topics", topology().comment_topics)
        return from_env(
            cls,
            env,
            kafka=KafkaSettings.from_env(env),
            appeal=AppealSettings.from_env(env),
            **overrides,
        )

    @classmethod
    def help(cls) -> str:
        return "\n".join([settings_help(cls), AppealSettings.help()])
