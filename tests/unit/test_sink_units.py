"""Signatures, rate-limit headers, the daily quota, the rate gate and the sink's plans."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from streamproc.connect import meta_signature, x_crc_response, x_signature
from streamproc.connect._signatures import signature_matches
from streamproc.sink import (
    Capabilities,
    DailyQuota,
    RateGate,
    meta_usage_wait,
    plan_decision,
    x_rate_limit_wait,
)
from streamproc.sink._linkedin import LinkedInClient
from streamproc.sink._meta import FacebookClient, InstagramClient
from streamproc.sink._twitter import TwitterClient
from streamproc.sink._youtube import YouTubeClient


def test_meta_signature_is_hex_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"object":"page","entry":[]}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert meta_signature("secret", body) == f"sha256={expected}"
    assert signature_matches(meta_signature("secret", body), f"sha256={expected.upper()}")
    assert not signature_matches(meta_signature("secret", body), "sha256=" + "0" * 64)
    assert not signature_matches(meta_signature("secret", body), f"sha1={expected}")


def test_x_signatures_are_base64() -> None:
    digest = hmac.new(b"consumer", b"challenge_string", hashlib.sha256).digest()
    assert x_crc_response("consumer", "challenge_string") == (
        "sha256=" + base64.b64encode(digest).decode()
    )
    assert signature_matches(x_signature("consumer", b"x"), x_signature("consumer", b"x"))
    assert not signature_matches(x_signature("consumer", b"x"), x_signature("other", b"x"))


@given(st.text(max_size=200))
def test_signature_matches_never_raises(given_header: str) -> None:
    assert signature_matches(meta_signature("s", b"b"), given_header) in (True, False)


def test_x_rate_limit_headers() -> None:
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1000"}
    assert x_rate_limit_wait(headers, now=990.0) == 10.0
    assert x_rate_limit_wait({**headers, "x-rate-limit-remaining": "3"}, now=990.0) is None
    assert x_rate_limit_wait({}, now=0.0) is None
    assert x_rate_limit_wait({"x-rate-limit-remaining": "x", "x-rate-limit-reset": "1"}) is None


def test_meta_usage_headers() -> None:
    assert meta_usage_wait({"X-App-Usage": '{"call_count":28,"total_time":25}'}) is None
    assert meta_usage_wait({"X-App-Usage": '{"call_count":97,"total_time":25}'}) == 60.0
    buc = '{"123":[{"type":"pages","call_count":50,"estimated_time_to_regain_access":3}]}'
    assert meta_usage_wait({"X-Business-Use-Case-Usage": buc}) == 180.0
    assert meta_usage_wait({"X-Business-Use-Case-Usage": "not json"}) is None


def test_daily_quota_resets_at_midnight_pacific() -> None:
    now = [1_780_000_000.0]
    quota = DailyQuota(100, clock=lambda: now[0])
    assert quota.take(50) == 0.0 and quota.take(50) == 0.0
    wait = quota.take(1)
    assert 0 < wait <= 86400
    now[0] += wait + 1
    assert quota.take(50) == 0.0  # a new day in Los Angeles


def test_rate_gate_waits_and_can_be_cancelled() -> None:
    waited: list[tuple[str, float]] = []

    async def run() -> tuple[bool, bool]:
        gate = RateGate(lambda cause, s: waited.append((cause, s)))
        gate.close_for(0.05, "rate_limit")
        opened = await gate.wait()
        gate.close_for(30, "rate_limit")
        cancel = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, cancel.set)
        cancelled = await gate.wait(cancel)
        return opened, cancelled

    opened, cancelled = asyncio.run(run())
    assert opened is True and cancelled is False
    assert waited and waited[0][0] == "rate_limit" and waited[0][1] >= 0.04


def _decision(actions: list[str], **extra: object) -> dict[str, object]:
    return {
        "comment_id": "facebook:1_2",
        "channel": "facebook",
        "actions": actions,
        "reply": "Il tuo commento è stato rimosso",
        "platform": {"comment_id": "1_2", "user_id": "9"},
        "version": 1,
        **extra,
    }


def test_plans_follow_the_platform_abilities() -> None:
    fb = FacebookClient.capabilities
    steps = plan_decision(_decision(["remove", "warn", "escalate"]), fb, "hide", "private")
    assert [(s.action_id, s.operation, s.kind) for s in steps] == [
        ("facebook:1_2:1:remove", "hide", "call"),
        ("facebook:1_2:1:warn", "reply_private", "call"),
        ("facebook:1_2:1:escalate", "none", "people"),
    ]
    ig = plan_decision(_decision(["block"]), InstagramClient.capabilities, "hide", "private")
    assert (ig[0].kind, ig[0].reason) == ("people", "facebook has no block API")
    li = plan_decision(_decision(["remove"]), LinkedInClient.capabilities, "delete", "public")
    assert li[0].operation == "delete"
    yt = plan_decision(_decision(["redirect"]), YouTubeClient.capabilities, "hide", "private")
    assert yt[0].operation == "reply_public"  # YouTube has no private replies
    both = plan_decision(
        _decision(["warn", "redirect"]), TwitterClient.capabilities, "hide", "public"
    )
    assert [s.kind for s in both] == ["call", "skip"]


def test_plans_without_references_or_channel_are_skipped_and_deletions_are_markers() -> None:
    bare = _decision(["remove"])
    del bare["platform"]
    assert plan_decision(bare, Capabilities(hide=True), "hide", "public")[0].kind == "skip"
    assert plan_decision(_decision(["remove"]), None, "hide", "public")[0].reason == (
        "facebook is not configured in this sink"
    )
    [marker] = plan_decision(_decision(["allow"], deleted=True), None, "hide", "public")
    assert (marker.kind, marker.action_id) == ("marker", "facebook:1_2:deleted")
    message = _decision(["remove", "redirect"], platform={"message_id": "m_1", "user_id": "9"})
    steps = plan_decision(message, FacebookClient.capabilities, "hide", "public")
    assert [(s.kind, s.operation) for s in steps] == [("people", "none"), ("call", "reply_private")]
