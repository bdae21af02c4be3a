"""The accounts and credentials the stand-ins know (none of them real)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Accounts"]


@dataclass(frozen=True)
class Accounts:
    facebook_page_id: str = "1234567890321"
    facebook_page_token: str = "local-facebook-page-token"
    facebook_app_secret: str = "local-facebook-app-secret"
    facebook_verify_token: str = "local-facebook-verify-token"
    instagram_account_id: str = "17841405309211844"
    instagram_token: str = "local-instagram-token"
    twitter_user_id: str = "2244994945"
    twitter_consumer_secret: str = "local-x-consumer-secret"
    twitter_user_token: str = "local-x-user-token"
    youtube_channel_id: str = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    youtube_token: str = "local-youtube-token"
    linkedin_organization: str = "urn:li:organization:2414183"
    linkedin_token: str = "local-linkedin-token"

    def env(self, base_url: str) -> dict[str, str]:
        """The STREAMPROC_* variables that point connect and sink at the stand-ins."""
        return {
            "STREAMPROC_FACEBOOK_API_URL": f"{base_url}/graph",
            "STREAMPROC_FACEBOOK_PAGE_ID": self.facebook_page_id,
            "STREAMPROC_FACEBOOK_PAGE_TOKEN": self.facebook_page_token,
            "STREAMPROC_FACEBOOK_APP_SECRET": self.facebook_app_secret,
            "STREAMPROC_FACEBOOK_VERIFY_TOKEN": self.facebook_verify_token,
            "STREAMPROC_INSTAGRAM_ACCOUNT_ID": self.instagram_account_id,
            "STREAMPROC_INSTAGRAM_TOKEN": self.instagram_token,
            "STREAMPROC_TWITTER_API_URL": f"{base_url}/x",
            "STREAMPROC_TWITTER_USER_ID": self.twitter_user_id,
            "STREAMPROC_TWITTER_CONSUMER_SECRET": self.twitter_consumer_secret,
            "STREAMPROC_TWITTER_USER_TOKEN": self.twitter_user_token,
            "STREAMPROC_YOUTUBE_API_URL": f"{base_url}/youtube/v3",
            "STREAMPROC_YOUTUBE_CHANNEL_ID": self.youtube_channel_id,
            "STREAMPROC_YOUTUBE_TOKEN": self.youtube_token,
            "STREAMPROC_LINKEDIN_API_URL": f"{base_url}/linkedin/rest",
            "STREAMPROC_LINKEDIN_ORGANIZATION_ID": self.linkedin_organization,
            "STREAMPROC_LINKEDIN_TOKEN": self.linkedin_token,
        }
