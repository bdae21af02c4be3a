"""Settings of ``streamproc sink``, from ``STREAMPROC_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streamproc._appeal import AppealSettings
from streamproc._platforms import PlatformConfigs
from streamproc._settings import SettingsError, env_field, from_env, settings_help
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


def _mode_parser(allowed: set[str]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.lower() not in allowed:
            raise ValueError(value)
        return value.lower()

    return parse


def _modes(
    env: Mapping[str, str], suffix: str, defaults: dict[str, str], allowed: set[str]
) -> dict[str, str]:
    parse = _mode_parser(allowed)
    modes = {}
    for channel in topology().channels:
        name = f"STREAMPROC_{channel.upper()}_{suffix}"
        value = env.get(name, "").strip()
        try:
            modes[channel] = parse(value) if value else defaults[channel]
        except ValueError:
            raise SettingsError(
                f"{name}={value!r}: expected one of {', '.join(sorted(allowed))}"
            ) from None
    return modes


@dataclass(frozen=True)
class SinkSettings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    platforms: PlatformConfigs = field(default_factory=PlatformConfigs.from_env)
    #: STREAMPROC_APPEAL_*: the signed appeal links the warning/removal/block replies carry.
    appeal: AppealSettings = field(default_factory=AppealSettings)
    group_id: str = env_field("STREAMPROC_SINK_GROUP", "streamproc-sink", "consumer group")
    actions_topic: str = "moderation.actions"
    reviews_topic: str = "moderation.reviews"
    outcomes_topic: str = "moderation.outcomes"
    dead_letter_topic: str = "moderation.deadletter"
    #: STREAMPROC_<CHANNEL>_REMOVE (hide or delete) and STREAMPROC_<CHANNEL>_REPLY (public or
    #: private), one variable per channel of the topology.
    remove_modes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REMOVE))
    reply_modes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REPLY))
    metrics_port: int = env_field(
        "STREAMPROC_SINK_METRICS_PORT", 9466, "/metrics, /healthz, /readyz (0: none)"
    )
    metrics_address: str = env_field("STREAMPROC_METRICS_ADDRESS", "0.0.0.0", "their address")
    retry_for: float = env_field(
        "STREAMPROC_SINK_RETRY_FOR", 3600.0, "seconds an idempotent call is retried, then failed"
    )
    commit_interval: float = 1.0
    http_timeout: float = env_field(
        "STREAMPROC_SINK_HTTP_TIMEOUT", 30.0, "seconds a platform call may take"
    )
    youtube_batch_window: float = env_field(
        "STREAMPROC_YOUTUBE_BATCH_SECONDS", 0.2, "seconds moderation calls are gathered (50 ids)"
    )
    instance_id: str | None = env_field(
        "STREAMPROC_SINK_INSTANCE_ID", None, "static group membership: restarts without a rebalance"
    )
    log_level: str = env_field(
        "STREAMPROC_LOG_LEVEL", "WARNING", "DEBUG, INFO, WARNING or ERROR", parse=str.upper
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> SinkSettings:
        env = os.environ if environ is None else environ
        return from_env(
            cls,
            env,
            kafka=KafkaSettings.from_env(env),
            platforms=PlatformConfigs.from_env(env),
            appeal=AppealSettings.from_env(env),
            remove_modes=_modes(env, "REMOVE", DEFAULT_REMOVE, {"hide", "delete"}),
            reply_modes=_modes(env, "REPLY", DEFAULT_REPLY, {"public", "private"}),
            **overrides,
        )

    @classmethod
    def help(cls) -> str:
        per_channel = [
            f"STREAMPROC_{c.upper()}_REMOVE={DEFAULT_REMOVE[c]}  STREAMPROC_{c.upper()}_REPLY="
            f"{DEFAULT_REPLY[c]}  remove by hide|delete, reply public|private"
            for c in topology().channels
        ]
        return "\n".join([settings_help(cls), AppealSettings.help(), *per_channel])
