"""The connectors' payload parsers on the platforms' documented payloads, and on anything
else: arbitrary input is refused with a PayloadError, never a crash."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.connect import PayloadError, parse_facebook, parse_instagram, parse_twitter
from streamproc.connect._linkedin import LinkedInCursor, parse_comments
from streamproc.connect._linkedin import select_new as linkedin_new
from streamproc.connect._youtube import YouTubeCursor, parse_thread_page
from streamproc.connect._youtube import select_new as youtube_new
from streamproc.core import decode_comment
from tests.integration._platforms import validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
PAGE, IG, X = "1234567890321", "17841405309211844", "2244994945"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def check(record: dict[str, Any]) -> dict[str, Any]:
    validate(record, "comment")
    decode_comment(json.dumps(record), 10_000)  # and the worker takes it
    return record


def test_facebook_comment_add() -> None:
    parsed = parse_facebook(fixture("facebook-feed-comment-add.json"), PAGE)
    [c] = parsed.comments
    r = check(c.record)
    assert r["id"] == "facebook:901097836652708_903438993085259"
    assert c.key == b"1234567890322" and r["author"] == {
        "id": "1234567890322",
        "name": "Tester",
        "role": "public",
    }
    assert r["platform"] == {
        "account_id": PAGE,
        "post_id": "1234567890321_901097836652708",
        "comment_id": "901097836652708_903438993085259",
        "parent_id": "1234567890321_901097836652708",
        "user_id": "1234567890322",
    }
    assert (r["text"], r["version"], r["kind"]) == ("and the next one", 1, "comment")
    assert r["created_at"] == "2015-12-03T09:30:03+00:00"


def test_facebook_edit_is_a_new_version_and_remove_a_deletion() -> None:
    [edited] = parse_facebook(fixture("facebook-feed-comment-edited.json"), PAGE).comments
    assert check(edited.record)["version"] == 1448555737
    assert edited.record["author"]["id"] == "1234567890999"  # the older sender_id form
    [removed] = parse_facebook(fixture("facebook-feed-comment-remove.json"), PAGE).comments
    assert check(removed.record)["deleted"] is True and removed.record["text"] == ""


def test_facebook_hide_and_own_comments_are_ignored() -> None:
    assert parse_facebook(fixture("facebook-feed-comment-hide.json"), PAGE).comments == []
    own = fixture("facebook-feed-comment-add.json").replace(b"1234567890322", PAGE.encode())
    parsed = parse_facebook(own, PAGE)
    assert parsed.comments == [] and parsed.ignored == 1


def test_messenger_message_is_a_private_message() -> None:
    [m] = parse_facebook(fixture("facebook-messenger-message.json"), PAGE).comments
    r = check(m.record)
    assert r["kind"] == "private_message" and r["text"] == "hello, world!"
    assert r["platform"]["message_id"] == "mid.1457764197618:41d102a3e1ae206a38"
    assert "comment_id" not in r["platform"]
    assert r["created_at"].startswith("2016-03-23")  # milliseconds, not seconds


def test_instagram_both_envelopes_and_mentions() -> None:
    [c] = parse_instagram(fixture("instagram-comments.json"), IG).comments
    r = check(c.record)
    assert r["id"] == "instagram:17865799348089039" and r["kind"] == "reply"
    assert r["platform"]["post_id"] == "123123123" and r["author"]["name"] == "test"
    [flat] = parse_instagram(fixture("instagram-comments-flat.json"), IG).comments
    assert check(flat.record)["text"] == "Flat form"
    mentions = parse_instagram(fixture("instagram-mentions.json"), IG)
    assert mentions.comments == [] and mentions.ignored == 1  # ids only, nothing to moderate


def test_twitter_reply_message_and_delete() -> None:
    [reply] = parse_twitter(fixture("twitter-tweet-create.json"), X).comments
    r = check(reply.record)
    assert r["id"] == "twitter:1924465506158878979"  # id_str: the number exceeds 2^53
    assert r["platform"]["parent_id"] == "1924460000000000000"
    assert r["created_at"] == "2025-05-19T14:01:46+00:00" and r["kind"] == "comment"
    [dm] = parse_twitter(fixture("twitter-direct-message.json"), "4337869213").comments
    assert check(dm.record)["kind"] == "private_message"
    assert dm.record["text"] == "Hello World!" and dm.key == b"3001969357"
    [deleted] = parse_twitter(fixture("twitter-tweet-delete.json"), "930524282358325248").comments
    assert check(deleted.record)["deleted"] is True
    own = fixture("twitter-tweet-create.json").replace(b'"6253282"', f'"{X}"'.encode())
    assert parse_twitter(own, X).comments == []


def test_youtube_page_and_cursor() -> None:
    found, token, _ = parse_thread_page(fixture("youtube-comment-threads.json"))
    assert token == "QURTSl9pM" and len(found) == 2
    fresh, cursor = youtube_new(found, YouTubeCursor(), "UC_x5XG1OV2P6uZZ5FSM9Ttw")
    # The channel's own reply is ignored; the cursor stops a second poll from repeating.
    assert [check(i.record)["id"] for i in fresh] == ["youtube:UgzDE2tasfmrYLyNkGt4AaABAg"]
    again, cursor2 = youtube_new(found, cursor, "UC_x5XG1OV2P6uZZ5FSM9Ttw")
    assert again == [] and cursor2 == cursor


def test_linkedin_comments_and_cursor() -> None:
    post = "urn:li:share:6848234254962188288"
    found, total = parse_comments(fixture("linkedin-comments.json"), post)
    assert total == 1
    fresh, cursor = linkedin_new(found, LinkedInCursor(), "urn:li:organization:2414183")
    r = check(fresh[0].record)
    assert r["platform"]["comment_id"] == (
        "urn:li:comment:(urn:li:activity:7096760097833439232,7102986562019213313)"
    )
    assert r["platform"]["post_id"] == post
    assert linkedin_new(found, cursor, "urn:li:organization:2414183")[0] == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'{"object": "page"}',
        b'{"object": "user", "entry": []}',
        b'{"entry": [1]}',
    ],
)
def test_malformed_bodies_are_payload_errors(body: bytes) -> None:
    for parse, account in ((parse_facebook, PAGE), (parse_instagram, IG)):
        with pytest.raises(PayloadError):
            parse(body, account)


def test_unknown_fields_are_ignored() -> None:
    doc = json.loads(fixture("facebook-feed-comment-add.json"))
    doc["new_top_level"] = {"x": 1}
    doc["entry"][0]["changes"][0]["value"]["reactions_v9"] = [1, 2]
    [c] = parse_facebook(json.dumps(doc).encode(), PAGE).comments
    assert c.record["text"] == "and the next one"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
_keys = st.sampled_from(
    [
        "object",
        "entry",
        "id",
        "time",
        "changes",
        "messaging",
        "field",
        "value",
        "item",
        "verb",
        "comment_id",
        "from",
        "message",
        "tweet_create_events",
        "for_user_id",
        "user",
        "id_str",
        "text",
        "items",
        "snippet",
        "elements",
    ]
)
_shaped = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=10)
    | st.sampled_from(["page", "instagram", "comment", "add"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=40,
)


def _no_crash(body: bytes) -> None:
    for parse in (
        lambda b: parse_facebook(b, PAGE),
        lambda b: parse_instagram(b, IG),
        lambda b: parse_twitter(b, X),
        lambda b: parse_thread_page(b),
        lambda b: parse_comments(b, "urn:li:share:1"),
    ):
        with contextlib.suppress(PayloadError):
            parse(body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _no_crash(body)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_json, _shaped))
def test_fuzz_arbitrary_json(doc: Any) -> None:
    _no_crash(json.dumps(doc).encode())
