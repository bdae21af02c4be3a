"""The baseline of the worker benchmark: a bare aiokafka consume -> engine -> produce loop.

    python -m benchmarks.bare_loop --bootstrap HOST:PORT --group G --count N --result FILE
    python -m benchmarks.bare_loop ... --ready FILE   (the latency windows: from the ends)

``AIOKafkaConsumer`` on the comment topics (a fresh group, from the earliest offsets) ->
``getmany`` -> ``orjson.dumps(Engine.moderate_json)`` with the default pack and a
``MemoryStrikeStore`` -> ``producer.send`` to a scratch topic (acks=all, linger 5 ms), the
batch's deliveries gathered, then a commit: the limit of a Python client on aiokafka, which the
worker is measured against. Writes its own clock (first record consumed -> last output
delivered) and CPU seconds to ``--result``.

With ``--ready`` the group starts at the topics' ends instead, and the file is written once the
loop holds every partition at its end: the latency windows publish their comments only then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streamproc.kafka import KafkaSettings, topology

BARE_OUT = "bench.bare-out"  # the scratch output topic


async def bare_loop(
    bootstrap: str,
    topics: list[str],
    group: str,
    count: int,
    max_records: int,
    result: Path,
    ready: Path | None = None,
) -> None:
    from streamproc.core import CommentError, Engine, MemoryStrikeStore, load_pack

    engine = Engine(load_pack(None))  # the default pack, as the worker without a policy topic
    store = MemoryStrikeStore()
    settings = KafkaSettings(bootstrap_servers=(bootstrap,))
    consumer = AIOKafkaConsumer(
        *topics,
        **settings.client_kwargs(),
        group_id=group,
        auto_offset_reset="latest" if ready else "earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(**settings.client_kwargs(), acks="all", linger_ms=5)
    await producer.start()
    await consumer.start()
    if ready is not None:
        await hold_the_ends(consumer, ready)
    moderate, dumps, send = engine.moderate_json, orjson.dumps, producer.send
    consumed, errors = 0, 0
    first = cpu_first = 0.0
    try:
        while consumed < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=max_records)
            if not batch:
                continue
            if not consumed:
                first, cpu_first = time.time(), time.process_time()
            futures = []
            for records in batch.values():
                for record in records:
                    try:
                        decision = moderate(record.value, store)
                    except CommentError:
                        errors += 1
                        futures.append(await send(BARE_OUT, record.value, key=record.key))
                        continue
                    key = decision["comment_id"].encode()
                    futures.append(await send(BARE_OUT, dumps(decision), key=key))
                consumed += len(records)
            await asyncio.gather(*futures)  # delivered (acks=all) ...
            await consumer.commit()  # ... before the offsets are committed
        last, cpu_last = time.time(), time.process_time()
    finally:
        await consumer.stop()
        await producer.stop()
    write_report(result, consumed, errors, (first, cpu_first), (last, cpu_last))


async def hold_the_ends(consumer: AIOKafkaConsumer, ready: Path) -> None:
    """Wait for the group's assignment, resolve every position (the ends: a fresh group with
    ``latest``), then write ``ready``: whatever is published after it is consumed."""
    while not consumer.assignment():
        await asyncio.sleep(0.05)
    for tp in consumer.assignment():
        await consumer.position(tp)
    ready.write_text("ready")


def write_report(
    result: Path,
    consumed: int,
    errors: int,
    first: tuple[float, float],
    last: tuple[float, float],
) -> None:
    """A loop's own clock to ``result``: ``first`` and ``last`` are (wall, CPU) seconds at the
    first record consumed and once the last output was delivered."""
    report = {
        "consumed": consumed,
        "errors": errors,
        "first_consumed": first[0],
        "last_delivered": last[0],
        "per_s": consumed / (last[0] - first[0]),
        "cpu_seconds": last[1] - first[1],
    }
    result.write_text(json.dumps(report))


def loop_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line of a bare loop (this one, benchmarks/confluent_loop.py), which
    bench_worker.loop_round starts."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--max-records", type=int, default=1000)
    parser.add_argument("--result", type=Path, required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = loop_parser(__doc__)
    parser.add_argument(
        "--ready", type=Path, help="start at the ends; write this file once holding them"
    )
    args = parser.parse_args(argv)
    topics = list(topology().comment_topics)
    asyncio.run(
        bare_loop(
            args.bootstrap,
            topics,
            args.group,
            args.count,
            args.max_records,
            args.result,
            args.ready,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
