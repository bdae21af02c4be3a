"""Connectors: how comments reach the channel topics. ``publish`` replays NDJSON files."""

from streamproc.connect._publish import (
    DEAD_LETTER_TOPIC,
    PublishSummary,
    channel_topic,
    describe,
    publish_lines,
)

__all__ = ["DEAD_LETTER_TOPIC", "PublishSummary", "channel_topic", "describe", "publish_lines"]
