"""Connectors: how comments reach the channel topics. ``publish`` replays NDJSON files."""

from streamproc.connect._publish import PublishSummary, channel_topic, publish_lines

__all__ = ["PublishSummary", "channel_topic", "publish_lines"]
