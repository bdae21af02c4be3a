"""The worker's pipeline without a broker: decisions, dead letters, deliveries and the ledger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from streamproc.core import Engine, StrikeStore
from streamproc.worker import BatchProcessor, BatchRunner, EngineHolder, WorkerMetrics
from streamproc.worker._handoff import FetchedBatch
from streamproc.worker._pipeline import DEAD_LETTER_KEY_LIMIT, DEAD_LETTER_VALUE_LIMIT


@dataclass
class FakeRecord:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = b"author"
    timestamp: int = 1_763_458_200_000


class DictStrikes:
    """Strikes in a dict, changes logged per partition: the pipeline's ChangeloggedStrikes."""

    def __init__(self) -> None:
        self.data: dict[str, list[list[Any]]] = {}
        self.flushed: list[tuple[str, int]] = []
        self._pending: dict[str, int] = {}

    def at(self, partition: int) -> StrikeStore:
        outer = self

        class View:
            def get_strikes(self, key: str) -> list[list[Any]] | None:
                return outer.data.get(key)

            def set_strikes(self, key: str, strikes: list[list[Any]]) -> None:
                outer.data[key] = strikes
                outer._pending[key] = partition

        return View()

    def flush(self) -> list[Any]:
        self.flushed.extend(self._pending.items())
        self._pending.clear()
        return []


class FakeProducer:
    """The pipeline's outbox: records every output; each flush returns one future per output
    (the test resolves or fails them), as if every record were a batch of its own."""

    def __init__(self, too_large: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.sent: list[tuple[str, bytes | None, bytes | None, Any]] = []
        self.futures: list[asyncio.Future[None]] = []
        self.too_large = too_large
        self._queued = 0

    def add(self, topic: str, key: Any, value: Any, headers: Any = None) -> None:
        if topic in self.too_large:
            raise MessageSizeTooLargeError()
        self.sent.append((topic, key, value, headers))
        self._queued += 1

    def due(self) -> bool:
        return False

    async def flush(self) -> list[Any]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = [loop.create_future() for _ in range(self._queued)]
        self._queued = 0
        self.futures.extend(futures)
        return futures

    def deliver_all(self) -> None:
        for future in self.futures:
            if not future.done():
                future.set_result(None)


def comment(cid: str, text: str, author: str = "u1", channel: str = "facebook") -> bytes:
    return orjson.dumps(
        {
            "id": cid,
            "channel": channel,
            "author": {"id": author},
            "text": text,
            "created_at": "2026-11-18T10:30:00+01:00",
        }
    )


@pytest.fixture
def processor(mini_engine: Engine) -> BatchProcessor:
    return BatchProcessor(
        EngineHolder(mini_engine),
        DictStrikes(),
        WorkerMetrics(),
        "moderation.actions",
        "moderation.deadletter",
    )


def headers_of(entry: tuple[str, Any, Any, Any]) -> dict[str, bytes]:
    return dict(entry[3])


async def test_each_record_gets_a_decision_keyed_by_its_comment_id(
    processor: BatchProcessor,
) -> None:
    producer = FakeProducer()
    records = [FakeRecord("comments.facebook", 0, i, comment(f"c{i}", "Grazie!")) for i in range(3)]
    futures, stamps = await processor.process(records, producer)
    assert [(t, k) for t, k, _, _ in producer.sent] == [
        ("moderation.actions", b"c0"),
        ("moderation.actions", b"c1"),
        ("moderation.actions", b"c2"),
    ]
    assert len(futures) == 3 and len(stamps) == 3
    assert orjson.loads(producer.sent[0][2])["actions"] == ["allow"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (b"", "invalid_json"),
        (None, "invalid_json"),
        (b"{not json", "invalid_json"),
        (b"[]", "invalid_comment"),
        (b'{"id": 1}', "invalid_comment"),
        (b'{"x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "invalid_json"),
        (comment("x" * 600, "ciao"), "invalid_comment"),
    ],
    ids=["empty", "null", "broken", "array", "wrong-type", "deep", "long-id"],
)
async def test_bad_records_become_dead_letters_with_their_kind_and_source(
    processor: BatchProcessor, value: bytes | None, kind: str
) -> None:
    producer = FakeProducer()
    record = FakeRecord("comments.youtube", 4, 77, value)
    await processor.process([record], producer)
    ((topic, key, copy, headers),) = producer.sent
    assert topic == "moderation.deadletter"
    assert (key, copy) == (record.key, value)
    assert dict(headers)["streamproc.error"] == kind.encode()
    assert dict(headers)["streamproc.source"] == b"comments.youtube/4/77"


async def test_a_record_too_big_to_copy_still_gets_a_dead_letter_cut_to_size(
    processor: BatchProcessor,
) -> None:
    producer = FakeProducer()
    huge = b'{"id": "' + b"x" * 1_000_100 + b'"}'
    record = FakeRecord("comments.twitter", 1, 5, huge, key=b"k" * 5000)
    await processor.process([record], producer)
    ((topic, key, copy, headers),) = producer.sent
    assert topic == "moderation.deadletter"
    assert copy == huge[:DEAD_LETTER_VALUE_LIMIT]
    assert key == b"k" * DEAD_LETTER_KEY_LIMIT
    assert dict(headers)["streamproc.value_size"] == str(len(huge)).encode()
    assert dict(headers)["streamproc.key_size"] == b"5000"
    assert len(dict(headers)["streamproc.reason"]) <= 1000


async def test_a_decision_too_large_for_kafka_becomes_a_dead_letter(
    processor: BatchProcessor,
) -> None:
    producer = FakeProducer(too_large={"moderation.actions"})
    record = FakeRecord("comments.facebook", 0, 0, comment("c1", "Grazie!"))
    await processor.process([record], producer)
    ((topic, _, _, headers),) = producer.sent
    assert topic == "moderation.deadletter"
    assert dict(headers)["streamproc.error"] == b"too_large"


async def test_a_channel_other_than_the_topics_is_counted(processor: BatchProcessor) -> None:
    producer = FakeProducer()
    record = FakeRecord("comments.facebook", 0, 0, comment("c1", "Grazie!", channel="twitter"))
    await processor.process([record], producer)
    decision = orjson.loads(producer.sent[0][2])
    assert decision["channel"] == "twitter"  # the comment's own channel is what it carries
    assert processor.metrics.channel_mismatches.labels("comments.facebook")._value.get() == 1


async def test_the_ledger_moves_only_once_every_delivery_of_a_batch_is_done(
    processor: BatchProcessor,
) -> None:
    producer = FakeProducer()
    tp = ("comments.facebook", 0)
    runner = BatchRunner(processor, producer, frozenset({"comments.facebook"}), lambda: None)  # type: ignore[arg-type,return-value]
    runner.positioned(tp, 10)
    records = [FakeRecord("comments.facebook", 0, i, comment(f"c{i}", "Grazie!")) for i in (10, 11)]
    await runner.handle(FetchedBatch(records, {tp: (10, 12)}))
    await asyncio.sleep(0)
    assert runner.done_until(tp) == 10 and runner.in_flight == 1
    producer.deliver_all()
    assert await runner.drain(1.0)
    assert runner.done_until(tp) == 12 and runner.in_flight == 0


async def test_a_failed_delivery_is_fatal_and_counts_nothing_as_done(
    processor: BatchProcessor,
) -> None:
    producer = FakeProducer()
    fatal: list[BaseException] = []
    tp = ("comments.facebook", 0)
    runner = BatchRunner(
        processor,
        producer,
        frozenset({"comments.facebook"}),
        lambda: None,  # type: ignore[arg-type,return-value]
        on_fatal=fatal.append,
    )
    runner.positioned(tp, 0)
    record = FakeRecord("comments.facebook", 0, 0, comment("c0", "Grazie!"))
    await runner.handle(FetchedBatch([record], {tp: (0, 1)}))
    producer.futures[0].set_exception(KafkaTimeoutError())
    await runner.drain(1.0)
    assert len(fatal) == 1 and runner.done_until(tp) == 0


async def test_at_most_max_in_flight_batches_wait_for_the_broker(processor: BatchProcessor) -> None:
    producer = FakeProducer()
    tp = ("comments.facebook", 0)
    runner = BatchRunner(
        processor,
        producer,
        frozenset({"comments.facebook"}),
        lambda: None,
        max_in_flight=2,  # type: ignore[arg-type,return-value]
    )
    runner.positioned(tp, 0)

    async def hand(offset: int) -> None:
        record = FakeRecord("comments.facebook", 0, offset, comment(f"c{offset}", "Grazie!"))
        await runner.handle(FetchedBatch([record], {tp: (offset, offset + 1)}))

    await hand(0)
    third = asyncio.ensure_future(hand(1))
    await asyncio.sleep(0.01)
    assert third.done() is False  # two in flight: the second hand-off waits
    producer.deliver_all()
    await asyncio.wait_for(third, 1.0)
    producer.deliver_all()
    assert await runner.drain(1.0)
    assert runner.done_until(tp) == 2


async def test_strike_changes_are_logged_to_the_partition_of_their_comment(
    processor: BatchProcessor,
) -> None:
    producer = FakeProducer()
    records = [
        FakeRecord("comments.facebook", 3, 0, comment("c1", "sei uno stronzo", author="a")),
        FakeRecord("comments.facebook", 5, 0, comment("c2", "sei uno stronzo", author="b")),
        FakeRecord("comments.facebook", 3, 1, comment("c3", "che stronzata", author="a")),
    ]
    await processor.process(records, producer)
    strikes = processor.strikes
    assert isinstance(strikes, DictStrikes)
    assert sorted(strikes.flushed) == [("facebook:a", 3), ("facebook:b", 5)]
    assert [orjson.loads(v)["actions"] for _, _, v, _ in producer.sent] == [
        ["remove", "warn"],
        ["remove", "warn"],
        ["remove", "block"],
    ]


def review(comment_id: str, author: str, overturned: bool = True) -> bytes:
    return orjson.dumps(
        {
            "review_id": f"r-{comment_id}",
            "comment_id": comment_id,
            "channel": "facebook",
            "author_id": author,
            "action": "reinstate",
            "overturned": overturned,
        }
    )


async def test_an_overturned_decision_no_longer_counts_as_a_strike(
    processor: BatchProcessor,
) -> None:
    producer = FakeProducer()
    first = FakeRecord("comments.facebook", 2, 0, comment("c1", "sei uno stronzo", author="a"))
    await processor.process([first], producer)
    overturn = FakeRecord("moderation.reviews", 2, 0, review("c1", "a"), key=b"a")
    await processor.process([overturn], producer)
    second = FakeRecord("comments.facebook", 2, 1, comment("c2", "che stronzata", author="a"))
    await processor.process([second], producer)
    actions = [orjson.loads(v)["actions"] for t, _, v, _ in producer.sent]
    assert actions == [["remove", "warn"], ["remove", "warn"]]  # not a block: c1 was overturned
    assert processor.metrics.reviews.labels("strike_removed")._value.get() == 1
    # Replayed after a crash, the overturned comment is not counted again.
    await processor.process([first, second], producer)
    assert [orjson.loads(v)["actions"] for _, _, v, _ in producer.sent[2:]] == [
        ["remove", "warn"],
        ["remove", "warn"],
    ]


@pytest.mark.parametrize(
    "value", [b"{", b"[]", orjson.dumps({"comment_id": "c1", "channel": "facebook"})]
)
async def test_an_unusable_review_is_a_dead_letter(processor: BatchProcessor, value: bytes) -> None:
    producer = FakeProducer()
    await processor.process([FakeRecord("moderation.reviews", 0, 4, value)], producer)
    ((topic, _, _, headers),) = producer.sent
    assert topic == "moderation.deadletter"
    assert dict(headers)["streamproc.error"] == b"invalid_review"


async def test_a_review_that_overturns_nothing_changes_nothing(processor: BatchProcessor) -> None:
    producer = FakeProducer()
    await processor.process(
        [FakeRecord("moderation.reviews", 0, 0, review("c9", "z", overturned=False))],
        producer,
    )
    await processor.process([FakeRecord("moderation.reviews", 0, 1, review("c9", "z"))], producer)
    assert producer.sent == []
    assert processor.metrics.reviews.labels("ignored")._value.get() == 1
    assert processor.metrics.reviews.labels("no_strike")._value.get() == 1
