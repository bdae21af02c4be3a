"""Settings of ``streamproc connect``: each field from its ``STREAMPROC_*`` variable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streamproc._platforms import PlatformConfigs
from streamproc._settings import env_field, from_env, settings_help
from streamproc.kafka import KafkaSettings

__all__ = ["ConnectSettings"]


@dataclass(frozen=True)
class ConnectSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    platforms: PlatformConfigs = field(default_factory=PlatformConfigs.from_env)
    port: int = env_field("STREAMPROC_CONNECT_PORT", 8080, "webhooks, /metrics, /healthz, /readyz")
    address: str = env_field("STREAMPROC_CONNECT_ADDRESS", "0.0.0.0", "their address")
    max_body_bytes: int = env_field(
        "STREAMPROC_CONNECT_MAX_BODY_BYTES", 4 * 1024 * 1024, "larger deliveries get 413"
    )
    #: A delivery is answered 503 (the platform delivers it again) when the broker has not
    #: acknowledged its comments within this many seconds: platforms wait 5-10 s at most.
    publish_timeout: float = env_field(
        "STREAMPROC_CONNECT_PUBLISH_TIMEOUT", 4.0, "seconds before a delivery is answered 503"
    )
    directory_topic: str = "connect.directory"
    cursors_topic: str = "connect.cursors"
    poll_max_pages: int = env_field(
        "STREAMPROC_CONNECT_POLL_MAX_PAGES", 10, "pages a poller reads per round at most"
    )
    log_level: str = env_field(
        "STREAMPROC_LOG_LEVEL", "WARNING", "DEBUG, INFO, WARNING or ERROR", parse=str.upper
    )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ConnectSettings:
        return from_env(
            cls,
            environ,
            kafka=KafkaSettings.from_env(environ),
            platforms=PlatformConfigs.from_env(environ),
            **overrides,
        )

    @classmethod
    def help(cls) -> str:
        return settings_help(cls)
