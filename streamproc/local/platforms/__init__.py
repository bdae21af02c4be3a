"""Local stand-ins for the platforms' APIs, speaking their documented request and response
shapes, and builders for the events the platforms deliver."""

from streamproc.local.platforms._accounts import Accounts
from streamproc.local.platforms._server import StandIns
from streamproc.local.platforms._state import Call
from streamproc.local.platforms._webhooks import (
    deliver,
    facebook_comment,
    facebook_message,
    instagram_comment,
    linkedin_comment,
    meta_body,
    sign,
    twitter_message,
    twitter_reply,
    youtube_comment,
)

__all__ = [
    "Accounts",
    "Call",
    "StandIns",
    "deliver",
    "facebook_comment",
    "facebook_message",
    "instagram_comment",
    "linkedin_comment",
    "meta_body",
    "sign",
    "twitter_message",
    "twitter_reply",
    "youtube_comment",
]
