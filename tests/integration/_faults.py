"""Helpers for the fault tests: a steady feed of comments, and the check that every input
record got its decision, the same one in every copy, and the one ``streamproc moderate`` gives."""

from __future__ import annotations

import asyncio
import random
import subprocess
import threading
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings

from ._streaming import comment, read_decisions, streamproc_command

CHANNELS = ("facebook", "instagram", "twitter", "youtube", "linkedin")
FILLER = "Buongiorno, quando escono i dati sugli infortuni del 2025? Grazie."
INSULT = "Sei un idiota."


class Feed(threading.Thread):
    """Publishes comments at ``rate`` a second until stopped, so that the kills land while
    comments keep arriving: mostly harmless ones from many authors, and insults from a few
    repeat offenders. ``comments`` holds every comment published."""

    def __init__(self, settings: KafkaSettings, run: str, rate: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.settings, self.run_id, self.rate = settings, run, rate
        self.rng = random.Random(seed)
        self.comments: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def _chunk(self, size: int) -> list[dict[str, Any]]:
        chunk = []
        for i in range(len(self.comments), len(self.comments) + size):
            if i % 50 == 7:
                offender = self.rng.randrange(200)
                channel = CHANNELS[offender % len(CHANNELS)]
                author = f"{self.run_id}-off{offender}"
                chunk.append(comment(INSULT, author=author, channel=channel))
            else:
                author = f"{self.run_id}-{i % 400}"
                chunk.append(comment(FILLER, author=author, channel=CHANNELS[i % len(CHANNELS)]))
        return chunk

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                chunk = self._chunk(int(self.rate))
                lines = [orjson.dumps(c) for c in chunk]
                asyncio.run(publish_lines(self.settings, lines, rate=self.rate))
                self.comments.extend(chunk)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def finish(self) -> list[dict[str, Any]]:
        self.stopping.set()
        self.join(60)
        assert self.error is None, self.error
        return self.comments


async def input_offsets(
    settings: KafkaSettings, wanted: set[str]
) -> dict[str, tuple[str, int, int]]:
    """Comment id -> (topic, partition, offset) of every input record of this run."""
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    found: dict[str, tuple[str, int, int]] = {}
    try:
        tps = [TopicPartition(f"comments.{c}", p) for c in CHANNELS for p in range(6)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in tps])

        while await behind():
            batch = await consumer.getmany(timeout_ms=500, max_records=10000)
            for records in batch.values():
                for r in records:
                    try:  # other tests publish broken records on purpose
                        doc = orjson.loads(r.value or b"")
                    except orjson.JSONDecodeError:
                        continue
                    if isinstance(doc, dict) and doc.get("id") in wanted:
                        found[doc["id"]] = (r.topic, r.partition, r.offset)
    finally:
        await consumer.stop()
    return found


def without_time(decision: dict[str, Any]) -> bytes:
    return orjson.dumps({k: v for k, v in decision.items() if k != "decided_at"})


def _ranges(coordinates: list[tuple[str, int, int]]) -> str:
    """``topic/partition: first-last`` for each run of consecutive offsets."""
    runs: list[list[Any]] = []
    for topic, partition, offset in coordinates:
        if runs and runs[-1][:2] == [topic, partition] and runs[-1][3] == offset - 1:
            runs[-1][3] = offset
        else:
            runs.append([topic, partition, offset, offset])
    return ", ".join(f"{t}/{p}: {a}-{b}" for t, p, a, b in runs[:20])


def assert_every_comment_decided_as_in_batch(
    settings: KafkaSettings, comments: list[dict[str, Any]], directory: Path
) -> dict[str, list[dict[str, Any]]]:
    """Every input record of ``comments`` has a decision; every copy of it (a replay) is the
    same apart from ``decided_at``, and the one ``streamproc moderate`` gives on the same input
    in the same order (so strikes stayed exact). Returns the decisions by comment id."""
    ids = [c["id"] for c in comments]
    decisions = read_decisions(settings, ids, timeout=120)
    inputs = asyncio.run(input_offsets(settings, set(ids)))
    assert len(inputs) == len(ids)
    missing = sorted(inputs[i] for i in ids if i not in decisions)
    assert missing == [], f"{len(missing)} input records never got a decision: {_ranges(missing)}"

    source = directory / "comments.ndjson"
    source.write_bytes(b"\n".join(orjson.dumps(c) for c in comments) + b"\n")
    batch = subprocess.run(
        [*streamproc_command(), "moderate", str(source)], capture_output=True, check=True
    )
    expected = {
        d["comment_id"]: without_time(d) for d in map(orjson.loads, batch.stdout.splitlines())
    }
    differing = [i for i in ids if {without_time(d) for d in decisions[i]} != {expected[i]}]
    example = (
        (expected[differing[0]], [without_time(d) for d in decisions[differing[0]]])
        if differing
        else None
    )
    assert differing == [], f"{len(differing)} comments decided otherwise, e.g. {example}"
    blocks = sum(1 for i in ids if "block" in orjson.loads(expected[i])["actions"])
    assert blocks > 0  # offenders reached the block step: strikes carried across the faults
    return decisions
