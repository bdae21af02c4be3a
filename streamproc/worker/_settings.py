"""Worker settings: from the environment (and the ``streamproc worker`` options)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from streamproc.kafka import KafkaSettings, cache_dir

__all__ = ["CHANNEL_TOPICS", "WorkerSettings"]

CHANNEL_TOPICS = (
    "comments.facebook",
    "comments.instagram",
    "comments.twitter",
    "comments.youtube",
    "comments.linkedin",
)


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None


@dataclass(frozen=True)
class WorkerSettings:
    """Everything a worker needs to know. Every field has a ``STREAMPROC_*`` variable."""

    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    app_id: str = "streamproc"  # also the consumer group and the prefix of Faust's topics
    topics: tuple[str, ...] = CHANNEL_TOPICS
    partitions: int = 6  # of the comment topics, hence of the strikes table's changelog
    actions_topic: str = "moderation.actions"
    dead_letter_topic: str = "moderation.deadletter"
    policy_topic: str = "moderation.policy"
    policy_path: Path | None = None  # used when the policy topic holds no pack yet
    metrics_port: int = 9464  # 0 disables the metrics endpoint
    metrics_address: str = "0.0.0.0"
    batch_size: int = 1000  # records per fetch at most
    max_in_flight: int = 4  # batches decided and awaiting the broker's acknowledgement
    commit_interval: float = 1.0  # seconds between offset commits (a crash re-reads this much)
    shutdown_timeout: float = 20.0  # seconds a graceful stop may take before the process exits
    session_timeout: float = 10.0  # seconds until a silent worker's partitions move
    data_dir: Path = field(default_factory=lambda: cache_dir() / "worker")
    instance_id: str | None = None  # static group membership: fast restarts, no double rebalance
    log_level: str = "WARNING"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> WorkerSettings:
        env = os.environ if environ is None else environ
        policy = env.get("STREAMPROC_POLICY", "").strip()
        settings = cls(
            kafka=KafkaSettings.from_env(env),
            app_id=env.get("STREAMPROC_APP_ID", "").strip() or "streamproc",
            partitions=_env_int(env, "STREAMPROC_PARTITIONS", 6),
            policy_path=Path(policy) if policy else None,
            metrics_port=_env_int(env, "STREAMPROC_METRICS_PORT", 9464),
            batch_size=_env_int(env, "STREAMPROC_BATCH_SIZE", 1000),
            max_in_flight=_env_int(env, "STREAMPROC_MAX_IN_FLIGHT", 4),
            commit_interval=_env_float(env, "STREAMPROC_COMMIT_INTERVAL", 1.0),
            session_timeout=_env_float(env, "STREAMPROC_SESSION_TIMEOUT", 10.0),
            shutdown_timeout=_env_float(env, "STREAMPROC_SHUTDOWN_TIMEOUT", 20.0),
            metrics_address=env.get("STREAMPROC_METRICS_ADDRESS", "").strip() or "0.0.0.0",
            data_dir=Path(env.get("STREAMPROC_WORKER_DIR", "").strip() or cache_dir() / "worker"),
            instance_id=env.get("STREAMPROC_INSTANCE_ID", "").strip() or None,
            log_level=env.get("STREAMPROC_LOG_LEVEL", "").strip().upper() or "WARNING",
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})
