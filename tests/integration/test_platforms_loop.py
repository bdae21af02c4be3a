"""The loop with the platforms, end to end: signed webhooks (and polls) into the real
``streamproc connect``, the real broker and worker, the real ``streamproc sink`` acting on
local stand-ins that speak each platform's documented shapes."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from streamproc.kafka import KafkaSettings, TopicDeclarations, topology
from streamproc.local.platforms import (
    facebook_comment,
    instagram_comment,
    linkedin_comment,
    twitter_reply,
    youtube_comment,
)
from tests.integration._platforms import (
    Loop,
    Service,
    outcomes,
    read_json,
    running_loop,
    validate,
    wait_for,
)
from tests.integration._streaming import (
    publish,
    read_dead_letters,
    unique,
)

pytestmark = pytest.mark.kafka

AT = "2026-11-18T10:30:00+01:00"  # a Wednesday, within moderation hours
INSULT = "sei uno stronzo"  # first strike: remove + warn
CLEAN = "Grazie per le informazioni sul bando"


@pytest.fixture(scope="module")
def loop(
    kafka_bootstrap: str,
    kafka_settings: KafkaSettings,
    kafka_topics: TopicDeclarations,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Loop]:
    env = {
        "STREAMPROC_YOUTUBE_POLL_SECONDS": "1",
        "STREAMPROC_LINKEDIN_POLL_SECONDS": "1",
        "STREAMPROC_SINK_RETRY_FOR": "120",
        # Poll every second (the default pacing spreads 2,000 units over a day).
        "STREAMPROC_YOUTUBE_DAILY_QUOTA": "100000000",
    }
    directory = tmp_path_factory.mktemp("platforms")
    with running_loop(Loop, kafka_bootstrap, kafka_settings, directory, **env) as running:
        yield running


def numeric() -> str:
    """A fresh numeric id, as X's and Meta's are."""
    return str(uuid.uuid4().int)[:18]


def _fb(loop: Loop, text: str, verb: str = "add", at: str = AT, **ids: str) -> tuple[bytes, str]:
    comment = ids.get("comment_id") or f"{unique('9')}_{unique('8')}"
    body = facebook_comment(
        loop.accounts,
        comment_id=comment,
        post_id=ids.get("post_id", "901097836652708"),
        user_id=ids.get("user_id") or unique("10"),
        name="Test",
        text=text,
        created_at=at,
        verb=verb,
    )
    return body, comment


def _done(*actions: str) -> Any:
    def check(found: dict[str, dict[str, Any]]) -> bool:
        finished = {o["action"] for o in found.values() if o["status"] != "pending"}
        return set(actions) <= finished

    return check


def test_a_signed_facebook_comment_is_hidden_and_answered_once(loop: Loop) -> None:
    body, comment = _fb(loop, INSULT)
    assert loop.webhook("facebook", body) == 200

    # On its channel topic as a canonical comment, keyed by its author.
    comments = read_json(
        loop.settings, "comments.facebook", lambda d: d["id"] == f"facebook:{comment}"
    )
    assert len(comments) == 1
    validate(comments[0], "comment")
    assert comments[0]["platform"]["comment_id"] == comment
    assert comments[0]["version"] == 1

    found = outcomes(loop.settings, f"facebook:{comment}", _done("remove", "warn"))
    remove, warn = found[f"facebook:{comment}:1:remove"], found[f"facebook:{comment}:1:warn"]
    assert (remove["operation"], remove["status"]) == ("hide", "done")
    assert (warn["operation"], warn["status"]) == ("reply_private", "done")
    assert loop.stand_ins.is_hidden("graph", comment)
    private = [s for s in loop.stand_ins.sent("graph") if s["parent"] == comment]
    assert len(private) == 1 and private[0]["private"]

    decisions = read_json(
        loop.settings, "moderation.actions", lambda d: d["comment_id"] == f"facebook:{comment}"
    )
    assert decisions and decisions[0]["actions"] == ["remove", "warn"]
    for decision in decisions:
        validate(decision, "decision")


def test_the_same_webhook_delivered_twice_acts_once(loop: Loop) -> None:
    body, comment = _fb(loop, INSULT)
    assert loop.webhook("facebook", body) == 200
    outcomes(loop.settings, f"facebook:{comment}", _done("remove", "warn"))
    duplicates = loop.sink.metric("streamproc_sink_duplicates_total")
    assert loop.webhook("facebook", body) == 200  # the platform delivers it again

    wait_for(
        lambda: loop.sink.metric("streamproc_sink_duplicates_total") >= duplicates + 2,
        30,
        "the sink to skip the second delivery's actions",
    )
    hides = [c for c in loop.stand_ins.calls("graph", "POST") if c.path == f"/{comment}"]
    messages = [s for s in loop.stand_ins.sent("graph") if s["parent"] == comment]
    assert len(hides) == 1 and len(messages) == 1
    comments = read_json(
        loop.settings,
        "comments.facebook",
        lambda d: d["id"] == f"facebook:{comment}",
        until=lambda docs: len(docs) >= 2,
    )
    assert len(comments) == 2 and comments[0] == comments[1]  # same id and version


def test_bad_input_is_refused_and_nothing_is_published(loop: Loop) -> None:
    body, comment = _fb(loop, INSULT)
    before = loop.connect.metric("streamproc_connect_rejections_total")
    wrong = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    assert loop.webhook("facebook", body, wrong) == 403
    assert loop.webhook("facebook", body, {}) == 401
    assert loop.webhook("facebook", b"{not json", None) == 400
    assert (
        loop.webhook("facebook", b'{"object": "page", "entry": [{"id": 5, "changes": 3}]}') == 400
    )
    huge = b'{"object": "page", "entry": []}' + b" " * (5 * 1024 * 1024)
    assert loop.webhook("facebook", huge) == 413
    assert loop.webhook("twitter", body, {"x-twitter-webhooks-signature": "sha256=AAAA"}) == 403
    reasons = {
        reason: loop.connect.metric("streamproc_connect_rejections_total", reason=reason)
        for reason in (
            "bad_signature",
            "missing_signature",
            "invalid_json",
            "invalid_shape",
            "too_large",
        )
    }
    assert all(n >= 1 for n in reasons.values()), reasons
    assert loop.connect.metric("streamproc_connect_rejections_total") == before + 6
    published = read_json(
        loop.settings,
        "comments.facebook",
        lambda d: d["id"] == f"facebook:{comment}",
        timeout=3.0,
    )
    assert published == []
    assert comment not in loop.connect.log()  # no personal data or ids in the logs


def test_verification_handshakes(loop: Loop) -> None:
    status, text = loop.connect.get(
        "/webhooks/facebook?hub.mode=subscribe&hub.challenge=1158201444"
        f"&hub.verify_token={loop.accounts.facebook_verify_token}"
    )
    assert (status, text) == (200, "1158201444")
    status, _ = loop.connect.get(
        "/webhooks/facebook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong"
    )
    assert status == 403
    from streamproc.connect import x_crc_response

    status, text = loop.connect.get("/webhooks/twitter?crc_token=challenge_string")
    expected = x_crc_response(loop.accounts.twitter_consumer_secret, "challenge_string")
    assert status == 200 and json.loads(text) == {"response_token": expected}


def test_an_edit_is_moderated_again(loop: Loop) -> None:
    body, comment = _fb(loop, CLEAN)
    user = body.split(b'"from": {"id": "')[1].split(b'"')[0].decode()
    assert loop.webhook("facebook", body) == 200
    edited, _ = _fb(
        loop,
        INSULT,
        verb="edited",
        at="2026-11-18T11:00:00+01:00",
        comment_id=comment,
        user_id=user,
    )
    assert loop.webhook("facebook", edited) == 200
    version = int(time.mktime(time.strptime("2026-11-18T10:00:00", "%Y-%m-%dT%H:%M:%S")))
    decisions = read_json(
        loop.settings,
        "moderation.actions",
        lambda d: d["comment_id"] == f"facebook:{comment}",
        until=lambda docs: len(docs) >= 2,
    )
    assert [d["actions"] for d in decisions] == [["allow"], ["remove", "warn"]]
    assert decisions[0]["version"] == 1 and decisions[1]["version"] > 1
    found = outcomes(loop.settings, f"facebook:{comment}", _done("remove", "warn"))
    assert found[f"facebook:{comment}:{decisions[1]['version']}:remove"]["status"] == "done"
    assert loop.stand_ins.is_hidden("graph", comment)
    assert version  # the edit time, in epoch seconds, is the version


def test_a_delete_cancels_what_was_not_yet_done(loop: Loop) -> None:
    body, comment = _fb(loop, INSULT)
    user = body.split(b'"from": {"id": "')[1].split(b'"')[0].decode()
    # The hide is answered 429 (retry in 5 s); the author deletes the comment meanwhile.
    loop.stand_ins.fail(
        "graph",
        "POST",
        rf"^/{comment}$",
        429,
        count=1,
        headers={"Retry-After": "5"},
        body={"error": {"code": 32, "message": "(#32) Page request limit reached"}},
    )
    assert loop.webhook("facebook", body) == 200
    wait_for(
        lambda: any(c.path == f"/{comment}" for c in loop.stand_ins.calls("graph")),
        30,
        "the first hide attempt",
    )
    removed, _ = _fb(loop, "", verb="remove", comment_id=comment, user_id=user)
    assert loop.webhook("facebook", removed) == 200
    found = outcomes(
        loop.settings,
        f"facebook:{comment}",
        lambda f: (
            f"facebook:{comment}:1:warn" in f
            and f[f"facebook:{comment}:1:warn"]["status"] != "pending"
            and f.get(f"facebook:{comment}:1:remove", {}).get("status") not in (None, "pending")
        ),
    )
    assert found[f"facebook:{comment}:1:remove"]["status"] == "cancelled"
    assert found[f"facebook:{comment}:1:warn"]["status"] == "cancelled"
    assert found[f"facebook:{comment}:deleted"]["action"] == "comment_deleted"
    assert not loop.stand_ins.is_hidden("graph", comment)
    assert not [s for s in loop.stand_ins.sent("graph") if s["parent"] == comment]


def test_a_429_is_waited_out(loop: Loop) -> None:
    tweet, user = numeric(), numeric()
    loop.stand_ins.fail(
        "x",
        "PUT",
        rf"^/2/tweets/{tweet}/hidden$",
        429,
        count=1,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(time.time()) + 2)},
        body={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
    )
    waited = loop.sink.metric("streamproc_sink_rate_limit_wait_seconds_total", channel="twitter")
    body = twitter_reply(
        loop.accounts,
        tweet_id=tweet,
        in_reply_to="1990366154721874313",
        user_id=user,
        name="Test",
        text=INSULT,
        created_at=AT,
    )
    assert loop.webhook("twitter", body) == 200
    found = outcomes(loop.settings, f"twitter:{tweet}", _done("remove", "warn"), timeout=60)
    remove = found[f"twitter:{tweet}:1:remove"]
    assert (remove["status"], remove["attempts"]) == ("done", 2)
    assert loop.stand_ins.is_hidden("x", tweet)
    assert (
        loop.sink.metric("streamproc_sink_rate_limit_wait_seconds_total", channel="twitter")
        > waited
    )
    replies = [s for s in loop.stand_ins.sent("x") if s["parent"] == tweet]
    assert len(replies) == 1 and not replies[0]["private"]


def test_sigkill_between_the_call_and_its_outcome_sends_nothing_twice(loop: Loop) -> None:
    tweet, user = numeric(), numeric()
    # The reply goes out, then its answer is held: the sink is killed before it can record it.
    loop.stand_ins.hold("x", "POST", r"^/2/tweets$", seconds=60)
    body = twitter_reply(
        loop.accounts,
        tweet_id=tweet,
        in_reply_to="1990366154721874313",
        user_id=user,
        name="Test",
        text=INSULT,
        created_at=AT,
    )
    assert loop.webhook("twitter", body) == 200
    wait_for(
        lambda: any(s["parent"] == tweet for s in loop.stand_ins.sent("x")),
        30,
        "the reply to reach the platform",
    )
    pending = outcomes(
        loop.settings,
        f"twitter:{tweet}",
        lambda f: f.get(f"twitter:{tweet}:1:warn", {}).get("status") == "pending",
    )
    assert pending[f"twitter:{tweet}:1:warn"]["status"] == "pending"
    loop.restart_sink(kill=True)

    found = outcomes(loop.settings, f"twitter:{tweet}", _done("remove", "warn"))
    warn = found[f"twitter:{tweet}:1:warn"]
    assert warn["status"] == "done", loop.sink.log()
    assert warn["result"]["reconciled"] is True
    assert len([s for s in loop.stand_ins.sent("x") if s["parent"] == tweet]) == 1
    assert loop.stand_ins.is_hidden("x", tweet)


def test_instagram_comment_hidden_and_answered_privately(loop: Loop) -> None:
    comment, user = unique("178"), unique("232")
    body = instagram_comment(
        loop.accounts,
        comment_id=comment,
        media_id="17918195224117851",
        user_id=user,
        username="someone",
        text=INSULT,
        created_at=AT,
    )
    assert loop.webhook("instagram", body) == 200
    found = outcomes(loop.settings, f"instagram:{comment}", _done("remove", "warn"))
    assert found[f"instagram:{comment}:1:remove"]["status"] == "done"
    hide = [c for c in loop.stand_ins.calls("graph", "POST") if c.path == f"/{comment}"]
    assert hide and hide[0].body == {"hide": "true"}
    assert loop.stand_ins.is_hidden("graph", comment)


def test_youtube_poll_rejects_a_comment_once_across_restarts(loop: Loop) -> None:
    comment, user = f"Ugz{unique()}", f"UC{unique()}"
    published = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    loop.stand_ins.add_youtube_comment(
        youtube_comment(
            comment_id=comment,
            video_id="dQw4w9WgXcQ",
            user_id=user,
            name="@x",
            text=INSULT,
            published=published,
        )
    )
    found = outcomes(loop.settings, f"youtube:{comment}", _done("remove", "warn"), timeout=60)
    assert found[f"youtube:{comment}:1:remove"]["status"] == "done"
    assert loop.stand_ins.is_hidden("yt", comment)
    moderation = [
        c
        for c in loop.stand_ins.calls("youtube")
        if c.path.endswith("setModerationStatus") and comment in c.query.get("id", "")
    ]
    assert len(moderation) == 1 and moderation[0].query["moderationStatus"] == "rejected"
    # A restarted connector starts from its cursor: the comment is not published again.
    loop.connect.stop()
    loop.connect = Service("connect", loop.env, loop.directory).start()
    time.sleep(3)
    comments = read_json(
        loop.settings, "comments.youtube", lambda d: d["id"] == f"youtube:{comment}", timeout=3
    )
    assert len(comments) == 1
    validate(comments[0], "comment")


def test_linkedin_poll_deletes_a_comment(loop: Loop) -> None:
    activity, cid = f"urn:li:activity:{unique('7')}", unique("71")
    post = f"urn:li:share:{unique('68')}"
    loop.stand_ins.add_linkedin_comment(
        post,
        linkedin_comment(
            activity=activity,
            comment_id=cid,
            actor=f"urn:li:person:{unique()}",
            text=INSULT,
            created_ms=int(time.time() * 1000),
        ),
    )
    urn = f"urn:li:comment:({activity},{cid})"
    found = outcomes(loop.settings, f"linkedin:{urn}", _done("remove", "warn"), timeout=60)
    assert found[f"linkedin:{urn}:1:remove"]["operation"] == "delete"
    assert found[f"linkedin:{urn}:1:remove"]["status"] == "done"
    deletes = [c for c in loop.stand_ins.calls("linkedin", "DELETE") if c.path.endswith(cid)]
    assert len(deletes) == 1 and deletes[0].query["actor"] == loop.accounts.linkedin_organization


def test_employee_directory_takes_effect_without_a_restart(loop: Loop, tmp_path: Path) -> None:
    import subprocess

    from tests.integration._streaming import streamproc_command

    user = unique("10")
    csv = tmp_path / "employees.csv"
    csv.write_text(f"channel,user_id,note\nfacebook,{user},press office\n")
    result = subprocess.run(
        [*streamproc_command(), "directory", "publish", str(csv)],
        env=loop.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "added 1" in result.stdout and user not in result.stdout + result.stderr
    time.sleep(2)  # the connector follows the topic
    body, comment = _fb(loop, CLEAN, user_id=user)
    assert loop.webhook("facebook", body) == 200
    comments = read_json(
        loop.settings, "comments.facebook", lambda d: d["id"] == f"facebook:{comment}"
    )
    assert comments[0]["author"]["role"] == "employee"


# Distinctive personal data, valid so that the engine recognizes it: none of it may appear in
# any log, metric, dead-letter header, decision reason or reply, or outcome record.
PLANTED = {
    "email": "zqx.leak.7731@example.org",
    "phone": "+39 347 555 0199",
    "iban": "IT60X0542811101000000123456",
    "fiscal code": "RSSMRA85T10A562S",
    "card": "4111 1111 1111 1111",
    "name": "Zorbulina Leakova",
}


def _forms(value: str) -> set[str]:
    """The value as written, and as digits and letters only (a log could reformat it)."""
    return {value, "".join(ch for ch in value if ch.isalnum())}


def test_no_personal_data_leaks_into_logs_metrics_dead_letters_or_outcomes(loop: Loop) -> None:
    text = (
        f"Scrivete a {PLANTED['email']} o al {PLANTED['phone']}, IBAN {PLANTED['iban']}, "
        f"CF {PLANTED['fiscal code']}, carta {PLANTED['card']}. Sei uno stronzo."
    )
    comment = f"{unique('9')}_{unique('8')}"
    body = facebook_comment(
        loop.accounts,
        comment_id=comment,
        post_id="901097836652708",
        user_id=unique("10"),
        name=PLANTED["name"],
        text=text,
        created_at=AT,
    )
    assert loop.webhook("facebook", body) == 200
    # The same data in deliveries that are refused: a bad signature, a broken body.
    assert loop.webhook("facebook", body, {"X-Hub-Signature-256": "sha256=" + "0" * 64}) == 403
    assert loop.webhook("facebook", body[:-7], None) == 400
    # And in a record the worker cannot use (no author): a dead letter.
    broken = {"id": unique("pii-"), "channel": "facebook", "text": text, "created_at": AT}
    publish(loop.settings, [json.dumps(broken).encode()])

    cid = f"facebook:{comment}"
    found = outcomes(loop.settings, cid, _done("remove", "warn"))
    assert found, "the comment was acted on"
    decisions = read_json(loop.settings, "moderation.actions", lambda d: d["comment_id"] == cid)
    assert decisions and "pii" in decisions[0]["categories"]
    (letter,) = read_dead_letters(loop.settings, [str(broken["id"])])[str(broken["id"])]
    assert dict(letter.headers)["streamproc.error"] == b"invalid_comment"

    places: dict[str, str] = {
        "worker log": loop.worker.log(10**7),
        "connect log": loop.connect.log(None),
        "sink log": loop.sink.log(None),
        "worker metrics": loop.worker.metrics(),
        "connect metrics": loop.connect.get("/metrics")[1],
        "sink metrics": loop.sink.get("/metrics")[1],
        "decision reasons and replies": json.dumps(
            [[d["reasons"], d.get("reply"), d.get("escalation")] for d in decisions]
        ),
        "outcomes": json.dumps(list(found.values())),
    }
    letters = asyncio.run(_dead_letter_headers(loop.settings))
    places["dead-letter headers"] = json.dumps(letters)
    leaks = [
        (what, where)
        for what, value in PLANTED.items()
        for form in _forms(value)
        for where, content in places.items()
        if form in content
    ]
    assert leaks == []
    assert len(places["worker log"]) > 0 and "streamproc_" in places["worker metrics"]


async def _dead_letter_headers(settings: KafkaSettings) -> list[list[str]]:
    """The headers of every record on the dead-letter topic."""
    topic = "moderation.deadletter"
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(topology().partitions_of(topic))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        headers: list[list[str]] = []
        while batch := await consumer.getmany(timeout_ms=1000):
            for records in batch.values():
                for r in records:
                    headers.append([f"{k}={v.decode('utf-8', 'replace')}" for k, v in r.headers])
        return headers
    finally:
        await consumer.stop()
