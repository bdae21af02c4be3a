"""The contract changes for acting on the platforms: decisions carry the comment's platform
references, version and deletion mark only when it has them, and every decision of the
sample follows the Decision schema."""

from __future__ import annotations

from importlib import resources

import orjson

from streamproc.core import Engine, MemoryStrikeStore, load_pack
from tests.integration._platforms import validate

ENGINE = Engine(load_pack())


def _comment(**extra: object) -> dict[str, object]:
    return {
        "id": "facebook:1_2",
        "channel": "facebook",
        "author": {"id": "u1"},
        "text": "sei uno stronzo",
        "created_at": "2026-11-18T10:30:00+01:00",
        **extra,
    }


def test_decisions_copy_platform_references_only_when_present() -> None:
    plain = ENGINE.moderate(_comment(), MemoryStrikeStore())
    assert not {"platform", "version", "deleted"} & plain.keys()
    ids = {"account_id": "p", "comment_id": "1_2", "user_id": "u1"}
    with_refs = ENGINE.moderate(_comment(platform=ids, version=3), MemoryStrikeStore())
    assert with_refs["platform"] == ids and with_refs["version"] == 3
    assert with_refs["actions"] == plain["actions"] == ["remove", "warn"]
    same = {k: v for k, v in with_refs.items() if k not in ("platform", "version", "decided_at")}
    assert same == {k: v for k, v in plain.items() if k != "decided_at"}
    validate(dict(with_refs), "decision")


def test_a_deleted_comment_is_allowed_without_a_strike() -> None:
    strikes = MemoryStrikeStore()
    decision = ENGINE.moderate(_comment(deleted=True, text=""), strikes)
    assert decision["actions"] == ["allow"] and decision["deleted"] is True
    assert strikes.data == {}


def test_an_edit_does_not_count_a_second_strike() -> None:
    strikes = MemoryStrikeStore()
    first = ENGINE.moderate(_comment(version=1), strikes)
    edited = ENGINE.moderate(_comment(version=2, text="sei proprio uno stronzo"), strikes)
    assert first["actions"] == edited["actions"] == ["remove", "warn"]


def test_every_sample_decision_follows_the_schema() -> None:
    data = resources.files("streamproc").joinpath("samples/comments.ndjson").read_bytes()
    strikes = MemoryStrikeStore()
    for line in data.splitlines():
        comment = orjson.loads(line)
        validate(comment, "comment")
        validate(dict(ENGINE.moderate(comment, strikes)), "decision")
