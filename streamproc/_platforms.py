"""Each platform's configuration, shared by ``streamproc connect`` and ``streamproc sink``.

Every value comes from a ``STREAMPROC_<PLATFORM>_<NAME>`` variable (secrets also from a mounted
file named by ``..._FILE``). A channel whose credentials are absent is not an error: the
services skip it with one line saying what is missing (an institution may use three platforms
of five). Secrets never appear in ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from streamproc._env import env_float, env_int, env_secret, env_str

__all__ = [
    "DEFAULT_API_URLS",
    "FacebookConfig",
    "InstagramConfig",
    "LinkedInConfig",
    "PlatformConfigs",
    "TwitterConfig",
    "YouTubeConfig",
]

DEFAULT_API_URLS = {
    "facebook": "https://graph.facebook.com/v25.0",
    "twitter": "https://api.x.com",
    "youtube": "https://www.googleapis.com/youtube/v3",
    "linkedin": "https://api.linkedin.com/rest",
}


def _url(env: Mapping[str, str], platform: str) -> str:
    name = f"STREAMPROC_{platform.upper()}_API_URL"
    return (env_str(env, name) or DEFAULT_API_URLS[platform]).rstrip("/")


def _missing(**values: str | None) -> list[str]:
    return [name for name, value in values.items() if not value]


@dataclass(frozen=True)
class FacebookConfig:
    api_url: str
    page_id: str | None
    app_secret: str | None = field(repr=False)
    verify_token: str | None = field(repr=False)
    page_token: str | None = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FacebookConfig:
        p = "STREAMPROC_FACEBOOK_"
        return cls(
            api_url=_url(env, "facebook"),
            page_id=env_str(env, p + "PAGE_ID"),
            app_secret=env_secret(env, p + "APP_SECRET"),
            verify_token=env_secret(env, p + "VERIFY_TOKEN"),
            page_token=env_secret(env, p + "PAGE_TOKEN"),
        )

    def missing_for_connect(self) -> list[str]:
        p = "STREAMPROC_FACEBOOK_"
        return _missing(
            **{
                p + "APP_SECRET": self.app_secret,
                p + "VERIFY_TOKEN": self.verify_token,
                p + "PAGE_ID": self.page_id,
            }
        )

    def missing_for_sink(self) -> list[str]:
        p = "STREAMPROC_FACEBOOK_"
        return _missing(**{p + "PAGE_TOKEN": self.page_token, p + "PAGE_ID": self.page_id})


@dataclass(frozen=True)
class InstagramConfig:
    """Instagram through the Graph API (Facebook Login): the webhooks come from the same Meta
    app, so the app secret, verify token and Page token default to Facebook's."""

    api_url: str
    account_id: str | None
    page_id: str | None
    app_secret: str | None = field(repr=False)
    verify_token: str | None = field(repr=False)
    token: str | None = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InstagramConfig:
        p, fb = "STREAMPROC_INSTAGRAM_", "STREAMPROC_FACEBOOK_"
        return cls(
            api_url=_url(env, "facebook"),
            account_id=env_str(env, p + "ACCOUNT_ID"),
            page_id=env_str(env, p + "PAGE_ID") or env_str(env, fb + "PAGE_ID"),
            app_secret=env_secret(env, p + "APP_SECRET") or env_secret(env, fb + "APP_SECRET"),
            verify_token=(
                env_secret(env, p + "VERIFY_TOKEN") or env_secret(env, fb + "VERIFY_TOKEN")
            ),
            token=env_secret(env, p + "TOKEN") or env_secret(env, fb + "PAGE_TOKEN"),
        )

    def missing_for_connect(self) -> list[str]:
        p = "STREAMPROC_INSTAGRAM_"
        return _missing(
            **{
                p + "APP_SECRET": self.app_secret,
                p + "VERIFY_TOKEN": self.verify_token,
                p + "ACCOUNT_ID": self.account_id,
            }
        )

    def missing_for_sink(self) -> list[str]:
        p = "STREAMPROC_INSTAGRAM_"
        return _missing(**{p + "TOKEN": self.token, p + "ACCOUNT_ID": self.account_id})


@dataclass(frozen=True)
class TwitterConfig:
    api_url: str
    user_id: str | None  # the institution's account (for_user_id)
    consumer_secret: str | None = field(repr=False)
    user_token: str | None = field(repr=False)  # OAuth 2.0 user-context bearer token

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwitterConfig:
        p = "STREAMPROC_TWITTER_"
        return cls(
            api_url=_url(env, "twitter"),
            user_id=env_str(env, p + "USER_ID"),
            consumer_secret=env_secret(env, p + "CONSUMER_SECRET"),
            user_token=env_secret(env, p + "USER_TOKEN"),
        )

    def missing_for_connect(self) -> list[str]:
        p = "STREAMPROC_TWITTER_"
        return _missing(
            **{p + "CONSUMER_SECRET": self.consumer_secret, p + "USER_ID": self.user_id}
        )

    def missing_for_sink(self) -> list[str]:
        p = "STREAMPROC_TWITTER_"
        return _missing(**{p + "USER_TOKEN": self.user_token, p + "USER_ID": self.user_id})


@dataclass(frozen=True)
class YouTubeConfig:
    api_url: str
    channel_id: str | None
    token: str | None = field(repr=False)  # OAuth 2.0 bearer, scope youtube.force-ssl
    poll_seconds: float = 60.0
    daily_quota: int = 10_000  # units per day for the project (Google's default)
    poll_share: float = 0.2  # of the daily quota the poller may spend; the rest is the sink's

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> YouTubeConfig:
        p = "STREAMPROC_YOUTUBE_"
        return cls(
            api_url=_url(env, "youtube"),
            channel_id=env_str(env, p + "CHANNEL_ID"),
            token=env_secret(env, p + "TOKEN"),
            poll_seconds=env_float(env, p + "POLL_SECONDS", 60.0),
            daily_quota=env_int(env, p + "DAILY_QUOTA", 10_000),
            poll_share=env_float(env, p + "POLL_QUOTA_SHARE", 0.2),
        )

    def missing(self) -> list[str]:
        p = "STREAMPROC_YOUTUBE_"
        return _missing(**{p + "TOKEN": self.token, p + "CHANNEL_ID": self.channel_id})

    missing_for_connect = missing_for_sink = missing


@dataclass(frozen=True)
class LinkedInConfig:
    api_url: str
    organization: str | None  # urn:li:organization:<id>
    token: str | None = field(repr=False)
    version: str = "202511"  # LinkedIn-Version header (YYYYMM)
    poll_seconds: float = 120.0
    posts: int = 20  # how many of the organization's latest posts the poller reads

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinkedInConfig:
        p = "STREAMPROC_LINKEDIN_"
        org = env_str(env, p + "ORGANIZATION_ID")
        if org is not None and not org.startswith("urn:"):
            org = f"urn:li:organization:{org}"
        return cls(
            api_url=_url(env, "linkedin"),
            organization=org,
            token=env_secret(env, p + "TOKEN"),
            version=env_str(env, p + "VERSION") or "202511",
            poll_seconds=env_float(env, p + "POLL_SECONDS", 120.0),
            posts=env_int(env, p + "POSTS", 20),
        )

    def missing(self) -> list[str]:
        p = "STREAMPROC_LINKEDIN_"
        return _missing(**{p + "TOKEN": self.token, p + "ORGANIZATION_ID": self.organization})

    missing_for_connect = missing_for_sink = missing


@dataclass(frozen=True)
class PlatformConfigs:
    facebook: FacebookConfig
    instagram: InstagramConfig
    twitter: TwitterConfig
    youtube: YouTubeConfig
    linkedin: LinkedInConfig

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PlatformConfigs:
        env = os.environ if environ is None else environ
        return cls(
            facebook=FacebookConfig.from_env(env),
            instagram=InstagramConfig.from_env(env),
            twitter=TwitterConfig.from_env(env),
            youtube=YouTubeConfig.from_env(env),
            linkedin=LinkedInConfig.from_env(env),
        )
