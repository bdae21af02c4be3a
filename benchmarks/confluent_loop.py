"""A second baseline of the worker benchmark: the bare loop on librdkafka (confluent-kafka).

    python -m benchmarks.confluent_loop --bootstrap HOST:PORT --group G --count N --result FILE

The loop of benchmarks/bare_loop.py with confluent-kafka's ``Consumer`` and ``Producer`` in
place of aiokafka's: ``consume(num_messages, timeout)`` on the comment topics (a fresh group,
from the earliest offsets) -> ``orjson.dumps(Engine.moderate_json)`` with the default pack and
a ``MemoryStrikeStore`` -> ``produce`` to a scratch topic (acks=all, linger 5 ms), ``flush``
until the batch is delivered, then a synchronous commit of the batch's offsets. It tells what
a Python client gets from librdkafka's C fetcher and producer, against which the worker's
aiokafka transport is measured. Writes the same report as the bare loop to ``--result``.

Needs confluent-kafka (the ``test`` extra brings it, Quix Streams too); the suite runs it as the
system ``confluent_bare`` of the full streaming rounds (:class:`ConfluentBare`) when it is
importable.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.bare_loop import loop_parser, write_report
from streamproc.kafka import topology

CONFLUENT_OUT = "bench.confluent-bare-out"  # the scratch output topic


def consumer_config(bootstrap: str, group: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,  # committed by hand once the batch is delivered
    }


def producer_config(bootstrap: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "acks": "all",  # as the bare loop and the worker
        "linger.ms": 5,
        "partitioner": "murmur2_random",  # the Java and aiokafka placement of a key
    }


def confluent_loop(
    bootstrap: str, topics: list[str], group: str, count: int, max_records: int, result: Path
) -> None:
    import orjson
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

    from streamproc.core import CommentError, Engine, MemoryStrikeStore, load_pack

    engine = Engine(load_pack(None))  # the default pack, as the worker without a policy topic
    store = MemoryStrikeStore()
    consumer = Consumer(consumer_config(bootstrap, group))
    producer = Producer(producer_config(bootstrap))
    failed: list[str] = []

    def on_delivery(error: Any, _message: Any) -> None:
        if error is not None:
            failed.append(str(error))

    def send(value: bytes, key: bytes | None) -> None:
        while True:
            try:
                producer.produce(CONFLUENT_OUT, value, key, on_delivery=on_delivery)
                return
            except BufferError:  # the local queue is full: serve deliveries, then retry
                producer.poll(0.05)

    consumer.subscribe(topics)
    moderate, dumps = engine.moderate_json, orjson.dumps
    consumed, errors = 0, 0
    first = cpu_first = last = cpu_last = 0.0
    try:
        while consumed < count:
            messages = consumer.consume(num_messages=max_records, timeout=1.0)
            if not messages:
                continue
            if not consumed:
                first, cpu_first = time.time(), time.process_time()
            ends: dict[tuple[str, int], int] = {}
            for message in messages:
                if message.error() is not None:
                    raise KafkaException(message.error())
                value = message.value()
                ends[(message.topic(), message.partition())] = message.offset() + 1
                try:
                    decision = moderate(value, store)
                except CommentError:
                    errors += 1
                    send(value, message.key())
                    continue
                send(dumps(decision), decision["comment_id"].encode())
            consumed += len(messages)
            if producer.flush(60) or failed:  # delivered (acks=all) ...
                raise RuntimeError(f"undelivered outputs: {len(producer)}; errors {failed[:3]}")
            offsets = [TopicPartition(t, p, offset) for (t, p), offset in ends.items()]
            consumer.commit(offsets=offsets, asynchronous=False)  # ... before the commit
        last, cpu_last = time.time(), time.process_time()
    finally:
        consumer.close()
        producer.flush(10)
    write_report(result, consumed, errors, (first, cpu_first), (last, cpu_last))


def main(argv: Sequence[str] | None = None) -> int:
    parser = loop_parser(__doc__)
    parser.add_argument(
        "--topics", help="comma-separated topics to read [the comment topics of the topology]"
    )
    args = parser.parse_args(argv)
    topics = args.topics.split(",") if args.topics else list(topology().comment_topics)
    confluent_loop(args.bootstrap, topics, args.group, args.count, args.max_records, args.result)
    return 0


class ConfluentBare:
    """The librdkafka bare loop as one system of the full streaming rounds."""

    name = "confluent_bare"
    output_topic = CONFLUENT_OUT
    scratch_topics = (CONFLUENT_OUT,)
    trial = False  # a failure ends the run

    async def round(self, bench: Any, index: int) -> dict[str, Any]:
        from benchmarks.bench_worker import loop_round

        return await loop_round(bench, index, self.name, "benchmarks.confluent_loop", CONFLUENT_OUT)

    @staticmethod
    def version() -> str:
        from importlib.metadata import version

        import confluent_kafka

        return f"{version('confluent-kafka')} (librdkafka {confluent_kafka.libversion()[0]})"


if __name__ == "__main__":
    raise SystemExit(main())
