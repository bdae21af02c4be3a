"""The appeal link in the sink's replies: on warnings, removals and blocks (not on a bare
redirect), on its own line, left out on X when the post would pass 280 characters, and the
same text every time the decision is read (the reply reconciliation compares texts)."""

from __future__ import annotations

from streamproc._appeal import AppealSettings, appeal_link, read_token
from streamproc.sink import SinkSettings, plan_decision
from streamproc.sink._meta import FacebookClient
from streamproc.sink._plan import X_LIMIT, with_appeal_link
from streamproc.sink._twitter import TwitterClient

SECRET = "a secret of more than thirty-two characters"
SETTINGS = AppealSettings(secret=SECRET, base_url="https://review.example.org")
LONG_URL = "https://review.example.org/appeal/" + "x" * 150


def decision(actions: list[str], channel: str = "facebook", reply: str = "Avviso") -> dict:  # type: ignore[type-arg]
    return {
        "comment_id": f"{channel}:1_2",
        "channel": channel,
        "actions": actions,
        "reply": reply,
        "platform": {"comment_id": "1_2", "user_id": "9"},
        "version": 1,
        "decided_at": "2026-12-01T10:00:00.000+00:00",
    }


def reply_text(doc: dict, caps: object = FacebookClient.capabilities) -> str | None:  # type: ignore[type-arg]
    steps = plan_decision(doc, caps, "hide", "private", appeal_link(SETTINGS, doc))  # type: ignore[arg-type]
    [reply] = [s for s in steps if s.action in ("warn", "redirect")]
    return reply.text


def test_a_warning_carries_its_signed_link_on_its_own_line() -> None:
    text = reply_text(decision(["remove", "warn"]))
    assert text is not None
    first, link = text.split("\n")
    assert first == "Avviso" and link.startswith("https://review.example.org/appeal/")
    token = read_token(SECRET, link.rsplit("/", 1)[1], 365, now=1764583200)
    assert (token.comment_id, token.version) == ("facebook:1_2", 1)
    # Read again (a replay, a restart): byte-identical.
    assert reply_text(decision(["remove", "warn"])) == text


def test_a_redirect_alone_restricts_nothing_and_gets_no_link() -> None:
    assert reply_text(decision(["redirect"])) == "Avviso"
    # Removed and redirected (personal data): the removal is appealable.
    assert "\n" in (reply_text(decision(["remove", "redirect"])) or "")


def test_without_a_secret_or_an_address_replies_are_unchanged() -> None:
    doc = decision(["remove", "warn"])
    steps = plan_decision(doc, FacebookClient.capabilities, "hide", "private")
    assert steps[1].text == "Avviso"
    assert appeal_link(AppealSettings(secret=SECRET), doc) is None
    assert SinkSettings.from_env({}).appeal.links is False
    env = {"STREAMPROC_APPEAL_SECRET": SECRET, "STREAMPROC_APPEAL_BASE_URL": "https://r.example"}
    assert SinkSettings.from_env(env).appeal.links is True
    assert "STREAMPROC_APPEAL_SECRET=" in SinkSettings.help()


def test_on_x_the_link_is_left_out_when_the_post_would_pass_280_characters() -> None:
    # X counts a link as 23 characters whatever its length.
    fits = "a" * (X_LIMIT - 24)
    assert with_appeal_link(fits, LONG_URL, "twitter") == f"{fits}\n{LONG_URL}"
    assert with_appeal_link(fits + "a", LONG_URL, "twitter") == fits + "a"
    # Characters X weighs double (emoji, CJK) count twice.
    assert with_appeal_link("👏" * 129, LONG_URL, "twitter") == "👏" * 129
    assert with_appeal_link("é" * 256, LONG_URL, "twitter").endswith(LONG_URL)
    # Elsewhere there is no such limit.
    assert with_appeal_link(fits * 2, LONG_URL, "facebook").endswith(LONG_URL)
    text = reply_text(decision(["warn"], "twitter", "x" * 300), TwitterClient.capabilities)
    assert text == "x" * 300
