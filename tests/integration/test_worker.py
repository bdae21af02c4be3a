"""The streaming worker on the real broker: exact decisions, batch/stream agreement, dead
letters, policy hot reload."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from streamproc.connect import publish_lines
from streamproc.core import DEFAULT_PACK_PATH, read_pack_files
from streamproc.kafka import KafkaSettings, TopicDeclarations, topology

from ._streaming import (
    Worker,
    comment,
    publish,
    read_dead_letters,
    read_decisions,
    streamproc_command,
    streamproc_env,
    unique,
)

pytestmark = pytest.mark.kafka

REMOVE_BLOCK_REPORT = ["remove", "block", "report_platform"]
THREAT = ["remove", "block", "report_platform", "report_authorities", "escalate"]
HELD = ["remove", "warn", "escalate"]  # one conditional phrase: severe actions for a person

# (author, role, text, categories, actions): the same author twice shows the strike ladder.
MIXED = [
    ("a1", "public", "Grazie per le informazioni sul bando ISI, molto utili.", [], ["allow"]),
    ("a2", "public", "Sei uno stronzo, vergognati.", ["insult"], ["remove", "warn"]),
    ("a2", "public", "Che stronzata questa circolare.", ["profanity"], ["remove", "block"]),
    ("a3", "public", "Ti ammazzo se ti trovo.", ["threat"], HELD),
    (
        "a4",
        "public",
        "La mia pratica di infortunio è ferma da mesi, chiamatemi al 333 123 4567",
        ["pii", "assistance"],
        ["remove", "redirect"],
    ),
    (
        "a5",
        "public",
        "Guadagna subito 500 euro al giorno da casa, scrivimi su whatsapp!",
        ["spam"],
        ["remove"],
    ),
    (
        "a6",
        "employee",
        "Vi anticipo il contenuto del documento interno sulla riorganizzazione.",
        ["confidential"],
        ["remove", "notify_compliance"],
    ),
    ("a7", "public", "Abito a Troia, in provincia di Foggia: i controlli mancano.", [], ["allow"]),
    ("a8", "public", "I will kill you all, I know where you live", ["threat"], THREAT),
    ("a9", "public", "Offerta: bit.ly/soldi-facili", ["spam"], ["remove"]),
    ("a10", "public", "Chi vuole fare amicizia? scrivetemi", ["off_topic"], ["escalate"]),
    ("a11", "public", "Negri di merda, tornatevene al vostro paese", ["profanity", "hate"],
     REMOVE_BLOCK_REPORT),
]  # fmt: skip


worker_env = streamproc_env


@pytest.fixture(scope="module")
def worker(
    kafka_topics: TopicDeclarations, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    running = Worker(worker_env(kafka_bootstrap), tmp_path_factory.mktemp("worker")).start()
    yield running
    assert running.stop() == 0, running.log()


def spam_word_pack(pack: Path, word: str, version: str) -> Path:
    """A copy of the default pack at ``pack`` where ``word`` is spam, as policy ``version``."""
    files = read_pack_files(DEFAULT_PACK_PATH)
    for name, text in files.items():
        (pack / name).parent.mkdir(parents=True, exist_ok=True)
        (pack / name).write_text(text)
    (pack / "lexicons/it/spam.txt").write_text(files["lexicons/it/spam.txt"] + f"\n{word}\n")
    policy = (pack / "policy.yaml").read_text()
    (pack / "policy.yaml").write_text(
        policy.replace('version: "2026.11.0"', f'version: "{version}"')
    )
    return pack


def publish_policy(env: dict[str, str], path: Path) -> None:
    """``streamproc policy publish`` as a user runs it (it may take a while on a busy machine)."""
    subprocess.run(
        [*streamproc_command(), "policy", "publish", str(path)],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )


def test_mixed_batch_gets_exact_decisions_and_matches_the_batch_command(
    worker: Worker, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    run = unique()
    comments = [
        comment(text, author=f"{run}-{author}", role=role, channel=channel)
        for (author, role, text, _, _), channel in zip(
            MIXED, ["facebook", "instagram", "twitter", "youtube", "linkedin"] * 3, strict=False
        )
    ]
    # The same author's comments must share a channel to share a ledger: keep a2 on one.
    comments[2]["channel"] = comments[1]["channel"]
    publish(kafka_settings, comments)
    decisions = read_decisions(kafka_settings, [c["id"] for c in comments])

    for c, (_, _, text, categories, actions) in zip(comments, MIXED, strict=True):
        (decision,) = decisions[c["id"]]
        assert (decision["categories"], decision["actions"]) == (categories, actions), text
        assert decision["author_id"] == c["author"]["id"]
        assert decision["channel"] == c["channel"]

    # The batch command gives the same categories and actions for the same comments.
    source = tmp_path / "comments.ndjson"
    source.write_bytes(b"\n".join(orjson.dumps(c) for c in comments) + b"\n")
    batch = subprocess.run(
        [*streamproc_command(), "moderate", str(source)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    batch_decisions = [orjson.loads(line) for line in batch.stdout.splitlines()]
    assert [(d["comment_id"], d["categories"], d["actions"]) for d in batch_decisions] == [
        (c["id"], decisions[c["id"]][0]["categories"], decisions[c["id"]][0]["actions"])
        for c in comments
    ]
    assert {d["policy_version"] for d in batch_decisions} == {
        decisions[comments[0]["id"]][0]["policy_version"]
    }


def test_poison_records_go_to_the_dead_letter_topic_and_the_stream_goes_on(
    worker: Worker, kafka_settings: KafkaSettings
) -> None:
    run = unique()
    not_json = f"this is not JSON nj-{run}".encode()
    no_text = orjson.dumps(
        {
            "id": f"nt-{run}",
            "channel": "facebook",
            "author": {"id": run},
            "created_at": "2026-11-18T10:30:00+01:00",
        }
    )
    after = comment("Grazie, tutto chiaro.", author=run)
    publish(kafka_settings, [comment("Prima del veleno", author=run)])
    asyncio.run(publish_lines(kafka_settings, [not_json], channel="twitter"))
    publish(kafka_settings, [no_text, after])

    dead = read_dead_letters(kafka_settings, [f"nj-{run}", f"nt-{run}"])
    (raw,) = dead[f"nj-{run}"]
    assert raw.value == not_json, "the original bytes are kept"
    headers = dict(raw.headers)
    assert headers["streamproc.error"] == b"invalid_json"
    assert b"invalid JSON" in headers["streamproc.reason"]
    assert headers["streamproc.source"].startswith(b"comments.twitter/")
    (invalid,) = dead[f"nt-{run}"]
    assert dict(invalid.headers)["streamproc.reason"] == b"Object missing required field `text`"
    assert dict(invalid.headers)["streamproc.error"] == b"invalid_comment"

    assert read_decisions(kafka_settings, [after["id"]])[after["id"]][0]["actions"] == ["allow"]
    assert worker.metric("streamproc_dead_letters_total") >= 2


def test_a_published_policy_is_hot_reloaded(
    worker: Worker, kafka_settings: KafkaSettings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    word = "zorblaxite"
    pack = spam_word_pack(tmp_path / "pack", word, "hot-1")
    env = worker_env(kafka_bootstrap)

    publish_policy(env, pack)
    try:
        deadline = time.monotonic() + 60
        while True:
            probe = comment(f"comprate {word} adesso", author=unique("hot-"))
            publish(kafka_settings, [probe])
            (decision,) = read_decisions(kafka_settings, [probe["id"]])[probe["id"]]
            if decision["policy_version"].startswith("hot-1+"):
                break
            assert time.monotonic() < deadline, "the new policy was never applied"
            time.sleep(0.5)
        assert decision["categories"] == ["spam"] and decision["actions"] == ["remove"]
        assert worker.metric("streamproc_policy_reloads_total") >= 1
        assert 'streamproc_policy_info{version="hot-1+' in worker.metrics()
    finally:
        publish_policy(env, DEFAULT_PACK_PATH)


def test_every_naughty_string_gets_a_decision_or_a_dead_letter(
    worker: Worker, kafka_settings: KafkaSettings
) -> None:
    """The Big List of Naughty Strings as comment texts and as author ids, through publish and
    the worker: each comment one decision or one dead letter, and the stream goes on."""
    from tests.unit.test_hostile_input import BLNS

    run = unique()
    comments = [comment(s, author=f"{run}-t", id=f"{run}-t{i}") for i, s in enumerate(BLNS)]
    comments += [comment("ciao", author=s, id=f"{run}-a{i}") for i, s in enumerate(BLNS)]
    lines = [orjson.dumps(c) for c in comments]
    summary = asyncio.run(publish_lines(kafka_settings, lines))
    assert summary.unsent_from is None, summary
    ids = [str(c["id"]) for c in comments]
    # An empty author id has no key to route by: publish refuses it or the worker does.
    refused = {f"{run}-a{i}" for i, s in enumerate(BLNS) if not s}
    after = comment("Grazie, tutto chiaro.", author=run)
    publish(kafka_settings, [after])
    decided = read_decisions(kafka_settings, [*ids, str(after["id"])])
    dead = read_dead_letters(kafka_settings, refused)
    assert set(decided) == set(ids) - refused | {after["id"]}
    assert all(len(d) == 1 for d in decided.values()), "one decision each"
    assert set(dead) == refused
    assert {dict(r.headers)["streamproc.error"] for rs in dead.values() for r in rs} == {
        b"invalid_comment"
    }


def test_a_policy_published_under_load_switches_cleanly(
    worker: Worker, kafka_settings: KafkaSettings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """While comments stream in, a new policy is published: every comment gets one decision,
    each decision is what the policy it names decides (never a half-built one), and on each
    partition of moderation.actions the version changes once, from the old to the new."""
    import threading

    run = unique()
    word = f"zq{run[-6:]}x"
    version = f"load-{run[-6:]}"
    pack = spam_word_pack(tmp_path / "pack", word, version)
    env = worker_env(kafka_bootstrap)

    # The stream goes on until well after the policy is on its topic, however long publishing
    # takes on a busy machine: chunks of 400 comments at 2,000/s.
    comments: list[dict[str, Any]] = []
    published = threading.Event()
    problems: list[Any] = []

    def stream() -> None:
        after: float | None = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if published.is_set():
                after = after or time.monotonic()
                if time.monotonic() - after > 5:
                    return
            base = len(comments)
            chunk = [
                comment(
                    f"comprate {word} adesso" if i % 5 == 0 else "Grazie!",
                    author=f"{run}-{i % 97}",
                )
                for i in range(base, base + 400)
            ]
            summary = asyncio.run(
                publish_lines(kafka_settings, [orjson.dumps(c) for c in chunk], rate=2000)
            )
            if summary.unsent_from is not None or summary.dead_letters:
                problems.append(summary)
            comments.extend(chunk)

    sender = threading.Thread(target=stream)
    sender.start()
    try:
        time.sleep(1.5)
        publish_policy(env, pack)
        published.set()
        sender.join(200)
        assert not problems, problems
        ids = {str(c["id"]) for c in comments}
        records = asyncio.run(_read_records(kafka_settings, "moderation.actions", ids, timeout=120))
    finally:
        published.set()
        publish_policy(env, DEFAULT_PACK_PATH)

    by_id = {str(c["id"]): str(c["text"]) for c in comments}
    decisions = {orjson.loads(r.value)["comment_id"]: r for r in records}
    assert len(records) == len(decisions) == len(comments), "one decision each"
    by_partition: dict[int, list[tuple[int, str]]] = {}
    versions = set()
    for record in records:
        d = orjson.loads(record.value)
        new = d["policy_version"].startswith(f"{version}+")
        versions.add(new)
        if word in by_id[d["comment_id"]]:
            # The word is spam only under the new policy: the decision matches its version.
            assert ("spam" in d["categories"]) == new, d
        by_partition.setdefault(record.partition, []).append(
            (record.offset, "new" if new else "old")
        )
    assert versions == {False, True}, "the switch happened during the stream"
    for partition, seen in by_partition.items():
        order = [v for _, v in sorted(seen)]
        assert order == sorted(order, key=lambda v: v == "new"), f"partition {partition} went back"


async def _read_records(
    settings: KafkaSettings, topic: str, ids: set[str], timeout: float
) -> list[Any]:
    """Every record of ``topic`` whose key is one of ``ids``, with partition and offset."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(**settings.client_kwargs(), enable_auto_commit=False)
    await consumer.start()
    found: list[Any] = []
    try:
        tps = [TopicPartition(topic, p) for p in range(topology().partitions_of(topic))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        keys: set[str] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and keys != ids:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for part in batch.values():
                for record in part:
                    key = record.key.decode("utf-8", "replace") if record.key else ""
                    if key in ids:
                        keys.add(key)
                        found.append(record)
    finally:
        await consumer.stop()
    return found
