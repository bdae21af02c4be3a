"""Signed appeal links: a round trip, forged and expired tokens, another secret's, determinism,
and the settings that refuse what the law or safety does not allow."""

from __future__ import annotations

import pytest

from streamproc._appeal import (
    AppealSettings,
    ExpiredToken,
    ForgedToken,
    appeal_link,
    decided_epoch,
    make_token,
    read_token,
)
from streamproc._settings import SettingsError

SECRET = "s" * 40
OTHER = "o" * 40
DECIDED = "2026-12-01T10:00:00.000+00:00"
AT = decided_epoch(DECIDED)
assert AT is not None
DAY = 86400


def test_a_token_names_its_decision_and_is_url_safe() -> None:
    token = make_token(SECRET, "twitter:1990742280665329870", 3, AT)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    read = read_token(SECRET, token, 365, now=AT + 10 * DAY)
    assert (read.comment_id, read.version, read.decided_at) == (
        "twitter:1990742280665329870",
        3,
        AT,
    )
    assert read.expires_at(365) == AT + 365 * DAY


def test_the_same_decision_always_gets_the_same_token() -> None:
    # Its timestamp is decided_at, not the clock: a replayed decision's reply is byte-identical.
    first = make_token(SECRET, "facebook:1_2", 1, AT)
    assert make_token(SECRET, "facebook:1_2", 1, AT) == first
    assert make_token(SECRET, "facebook:1_2", 2, AT) != first
    assert make_token(SECRET, "facebook:1_3", 1, AT) != first


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # another signature
        lambda t: "W1siZmFjZWJvb2s6OSIsMV0" + t[t.index(".") :],  # another payload
        lambda t: t.rsplit(".", 1)[0],  # no signature
        lambda t: "",
        lambda t: "not a token at all",
        lambda t: t + "é",
    ],
)
def test_a_forged_token_is_refused(forge: object) -> None:
    token = make_token(SECRET, "facebook:1_2", 1, AT)
    with pytest.raises(ForgedToken):
        read_token(SECRET, forge(token), 365, now=AT)  # type: ignore[operator]


def test_another_secrets_token_is_forged() -> None:
    token = make_token(OTHER, "facebook:1_2", 1, AT)
    with pytest.raises(ForgedToken):
        read_token(SECRET, token, 365, now=AT)


def test_a_token_expires_after_the_appeal_period() -> None:
    token = make_token(SECRET, "facebook:1_2", 1, AT)
    assert read_token(SECRET, token, 183, now=AT + 183 * DAY).version == 1  # its last second
    with pytest.raises(ExpiredToken):
        read_token(SECRET, token, 183, now=AT + 183 * DAY + 1)


def test_the_settings_refuse_short_secrets_and_short_periods_and_hide_the_secret() -> None:
    env = {"STREAMPROC_APPEAL_SECRET": SECRET, "STREAMPROC_APPEAL_BASE_URL": "https://r.example"}
    settings = AppealSettings.from_env(env)
    assert settings.links and settings.days == 365 and settings.attempts == 10
    assert SECRET not in repr(settings)
    with pytest.raises(SettingsError, match="at least 32"):
        AppealSettings.from_env({"STREAMPROC_APPEAL_SECRET": "short"})
    with pytest.raises(SettingsError, match="six months"):
        AppealSettings.from_env({"STREAMPROC_APPEAL_DAYS": "182"})
    with pytest.raises(SettingsError, match="STREAMPROC_APPEAL_BASE_URL"):
        AppealSettings.from_env({"STREAMPROC_APPEAL_BASE_URL": "review.example"})
    assert not AppealSettings.from_env({"STREAMPROC_APPEAL_SECRET": SECRET}).links


def test_the_secret_may_come_from_a_mounted_file(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "secret"  # type: ignore[operator]
    path.write_text(SECRET + "\n")
    settings = AppealSettings.from_env({"STREAMPROC_APPEAL_SECRET_FILE": str(path)})
    assert settings.secret == SECRET
    with pytest.raises(SettingsError, match="STREAMPROC_APPEAL_SECRET_FILE"):
        AppealSettings.from_env({"STREAMPROC_APPEAL_SECRET_FILE": str(path) + ".missing"})


def test_a_decisions_link_is_under_the_consoles_address() -> None:
    settings = AppealSettings(secret=SECRET, base_url="https://review.example.org/")
    decision = {"comment_id": "facebook:1_2", "version": 4, "decided_at": DECIDED}
    link = appeal_link(settings, decision)
    assert link is not None and link.startswith("https://review.example.org/appeal/")
    token = link.rsplit("/", 1)[1]
    assert read_token(SECRET, token, 365, now=AT).version == 4
    assert appeal_link(settings, {**decision, "decided_at": "yesterday"}) is None
    assert appeal_link(AppealSettings(), decision) is None
