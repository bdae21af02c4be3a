"""Settings of ``streamproc connect``, from ``STREAMPROC_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from streamproc._env import env_float, env_int, env_str
from streamproc._platforms import PlatformConfigs
from streamproc.kafka import KafkaSettings

__all__ = ["ConnectSettings"]


@dataclass(frozen=True)
class ConnectSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    platforms: PlatformConfigs = field(default_factory=PlatformConfigs.from_env)
    port: int = 8080
    address: str = "0.0.0.0"
    max_body_bytes: int = 4 * 1024 * 1024  # larger deliveries are refused with 413
    #: A delivery is answered 503 (the platform delivers it again) when the broker has not
    #: acknowledged its comments within this many seconds: platforms wait 5-10 s at most.
    publish_timeout: float = 4.0
    directory_topic: str = "connect.directory"
    cursors_topic: str = "connect.cursors"
    poll_max_pages: int = 10
    log_level: str = "WARNING"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> ConnectSettings:
        env = os.environ if environ is None else environ
        settings = cls(
            kafka=KafkaSettings.from_env(env),
            platforms=PlatformConfigs.from_env(env),
            port=env_int(env, "STREAMPROC_CONNECT_PORT", 8080),
            address=env_str(env, "STREAMPROC_CONNECT_ADDRESS") or "0.0.0.0",
            max_body_bytes=env_int(env, "STREAMPROC_CONNECT_MAX_BODY_BYTES", 4 * 1024 * 1024),
            publish_timeout=env_float(env, "STREAMPROC_CONNECT_PUBLISH_TIMEOUT", 4.0),
            poll_max_pages=env_int(env, "STREAMPROC_CONNECT_POLL_MAX_PAGES", 10),
            log_level=(env_str(env, "STREAMPROC_LOG_LEVEL") or "WARNING").upper(),
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})
