"""Connectors: how comments reach the channel topics.

``publish`` replays NDJSON files; ``connect`` turns the platforms' own events (Facebook,
Instagram and X webhooks; YouTube and LinkedIn pollers) into canonical comments.
"""

from streamproc.connect._directory import (
    DIRECTORY_TOPIC,
    DirectoryError,
    DirectoryReport,
    EmployeeDirectory,
    parse_directory_csv,
    publish_directory,
)
from streamproc.connect._meta import dumps_for_meta, parse_facebook, parse_instagram
from streamproc.connect._publish import (
    DEAD_LETTER_TOPIC,
    PublishSummary,
    channel_topic,
    describe,
    publish_lines,
)
from streamproc.connect._records import Incoming, Parsed, PayloadError
from streamproc.connect._service import enabled_channels, run_connect
from streamproc.connect._settings import ConnectSettings
from streamproc.connect._signatures import meta_signature, x_crc_response, x_signature
from streamproc.connect._twitter import parse_twitter

__all__ = [
    "DEAD_LETTER_TOPIC",
    "DIRECTORY_TOPIC",
    "ConnectSettings",
    "DirectoryError",
    "DirectoryReport",
    "EmployeeDirectory",
    "Incoming",
    "Parsed",
    "PayloadError",
    "PublishSummary",
    "channel_topic",
    "describe",
    "dumps_for_meta",
    "enabled_channels",
    "meta_signature",
    "parse_directory_csv",
    "parse_facebook",
    "parse_instagram",
    "parse_twitter",
    "publish_directory",
    "publish_lines",
    "run_connect",
    "x_crc_response",
    "x_signature",
]
