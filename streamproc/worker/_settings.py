"""Worker settings: each field from its ``STREAMPROC_*`` variable (or a ``worker`` option).

The topics come from the topology (``topics/topics.yaml``), not from settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamproc._paths import cache_dir
from streamproc._settings import env_field, from_env, settings_help
from streamproc.kafka import KafkaSettings, Topology, topology

__all__ = ["WorkerSettings"]


@dataclass(frozen=True)
class WorkerSettings:
    """Everything a worker needs to know."""

    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    topology: Topology = field(default_factory=topology)
    app_id: str = env_field(
        "STREAMPROC_APP_ID", "streamproc", "consumer group, and prefix of the worker's own topics"
    )
    policy_path: Path | None = env_field(
        "STREAMPROC_POLICY", None, "pack used while the policy topic holds none", shown="bundled"
    )
    metrics_port: int = env_field(
        "STREAMPROC_METRICS_PORT", 9464, "/metrics, /healthz, /readyz (0: none)"
    )
    metrics_address: str = env_field("STREAMPROC_METRICS_ADDRESS", "0.0.0.0", "their address")
    batch_size: int = env_field("STREAMPROC_BATCH_SIZE", 1000, "records per fetch at most")
    max_in_flight: int = env_field(
        "STREAMPROC_MAX_IN_FLIGHT", 4, "batches decided and awaiting the broker's acknowledgement"
    )
    commit_interval: float = env_field(
        "STREAMPROC_COMMIT_INTERVAL", 1.0, "seconds between commits (a crash re-reads this much)"
    )
    session_timeout: float = env_field(
        "STREAMPROC_SESSION_TIMEOUT", 10.0, "seconds until a silent worker's partitions move"
    )
    idle_timeout: float = env_field(
        "STREAMPROC_IDLE_TIMEOUT",
        15.0,
        "seconds between two looks that find a group member reading none of the records "
        "waiting, before it rejoins (0: never)",
    )
    shutdown_timeout: float = env_field(
        "STREAMPROC_SHUTDOWN_TIMEOUT", 20.0, "seconds a graceful stop may take"
    )
    data_dir: Path = env_field(
        "STREAMPROC_WORKER_DIR",
        default_factory=lambda: cache_dir() / "worker",
        help="local state",
        shown="$STREAMPROC_CACHE/worker",
    )
    instance_id: str | None = env_field(
        "STREAMPROC_INSTANCE_ID", None, "static group membership: restarts without a rebalance"
    )
    log_level: str = env_field(
        "STREAMPROC_LOG_LEVEL", "WARNING", "DEBUG, INFO, WARNING or ERROR", parse=str.upper
    )

    @property
    def topics(self) -> tuple[str, ...]:
        return self.topology.comment_topics

    @property
    def partitions(self) -> int:
        return self.topology.partitions

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> WorkerSettings:
        return from_env(cls, environ, kafka=KafkaSettings.from_env(environ), **overrides)

    @classmethod
    def help(cls) -> str:
        return settings_help(cls)
