"""Settings of ``streamproc sink``, from ``STREAMPROC_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from streamproc._env import env_float, env_int, env_str
from streamproc._platforms import PlatformConfigs
from streamproc.kafka import KafkaSettings, topology

__all__ = ["DEFAULT_REMOVE", "DEFAULT_REPLY", "SinkSettings"]

#: How ``remove`` is carried out: hidden where the platform can hide (an upheld appeal can
#: reinstate it), deleted where it cannot (LinkedIn).
DEFAULT_REMOVE = {
    "facebook": "hide",
    "instagram": "hide",
    "twitter": "hide",
    "youtube": "hide",
    "linkedin": "delete",
}
#: How ``warn`` and ``redirect`` reply: privately where the platform allows a private reply to
#: a comment (Meta), publicly otherwise.
DEFAULT_REPLY = {
    "facebook": "private",
    "instagram": "private",
    "twitter": "public",
    "youtube": "public",
    "linkedin": "public",
}


def _modes(
    env: Mapping[str, str], suffix: str, defaults: dict[str, str], allowed: set[str]
) -> dict[str, str]:
    modes = {}
    for channel in topology().channels:
        name = f"STREAMPROC_{channel.upper()}_{suffix}"
        value = (env_str(env, name) or defaults[channel]).lower()
        if value not in allowed:
            raise ValueError(f"{name}={value!r}: expected one of {', '.join(sorted(allowed))}")
        modes[channel] = value
    return modes


@dataclass(frozen=True)
class SinkSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    platforms: PlatformConfigs = field(default_factory=PlatformConfigs.from_env)
    group_id: str = "streamproc-sink"
    actions_topic: str = "moderation.actions"
    reviews_topic: str = "moderation.reviews"
    outcomes_topic: str = "moderation.outcomes"
    dead_letter_topic: str = "moderation.deadletter"
    remove_modes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REMOVE))
    reply_modes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REPLY))
    metrics_port: int = 9466  # 0: none
    metrics_address: str = "0.0.0.0"
    retry_for: float = 3600.0  # seconds an idempotent call is retried before it is "failed"
    commit_interval: float = 1.0
    http_timeout: float = 30.0
    youtube_batch_window: float = 0.2
    instance_id: str | None = None
    log_level: str = "WARNING"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> SinkSettings:
        env = os.environ if environ is None else environ
        settings = cls(
            kafka=KafkaSettings.from_env(env),
            platforms=PlatformConfigs.from_env(env),
            group_id=env_str(env, "STREAMPROC_SINK_GROUP") or "streamproc-sink",
            remove_modes=_modes(env, "REMOVE", DEFAULT_REMOVE, {"hide", "delete"}),
            reply_modes=_modes(env, "REPLY", DEFAULT_REPLY, {"public", "private"}),
            metrics_port=env_int(env, "STREAMPROC_SINK_METRICS_PORT", 9466),
            metrics_address=env_str(env, "STREAMPROC_METRICS_ADDRESS") or "0.0.0.0",
            retry_for=env_float(env, "STREAMPROC_SINK_RETRY_FOR", 3600.0),
            http_timeout=env_float(env, "STREAMPROC_SINK_HTTP_TIMEOUT", 30.0),
            youtube_batch_window=env_float(env, "STREAMPROC_YOUTUBE_BATCH_SECONDS", 0.2),
            instance_id=env_str(env, "STREAMPROC_SINK_INSTANCE_ID"),
            log_level=(env_str(env, "STREAMPROC_LOG_LEVEL") or "WARNING").upper(),
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})
