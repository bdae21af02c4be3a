"""A naive Faust agent, the moderation written as a Faust tutorial would write it: one agent
over the comment topics, ``Engine.moderate_json`` per event, one awaited ``topic.send`` per
decision (Faust's own acknowledgements and commits; no batching, no strikes table).

    python -m benchmarks.naive_faust --bootstrap HOST:PORT --app-id ID --data-dir DIR
        [--transport kafka|confluent]

The suite runs it as one more system in each streaming round (:class:`NaiveFaust`), timed like
the others from the CreateTime of its output records. ``--transport`` picks Faust's driver:
``kafka://`` (aiokafka, the default and the worker's) or ``confluent://``
(faust/transport/drivers/confluent.py on confluent-kafka); the confluent variant is a trial
(``python -m benchmarks --naive-transport kafka,confluent``), recorded, not fatal, when it fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAIVE_OUT = "bench.naive-faust-out"  # the scratch output topic
TRANSPORTS = ("kafka", "confluent")  # Faust's drivers: aiokafka, confluent-kafka


def output_topic(transport: str) -> str:
    """The scratch topic of the agent on ``transport``: one per driver, so that records a
    driver writes (or mangles) are never counted for the other."""
    return NAIVE_OUT if transport == "kafka" else f"{NAIVE_OUT}-{transport}"


def build_app(bootstrap: str, app_id: str, data_dir: Path, transport: str = "kafka") -> Any:
    import faust
    import orjson

    from streamproc.core import CommentError, Engine, MemoryStrikeStore, load_pack
    from streamproc.kafka import topology

    app = faust.App(
        app_id,
        broker=f"{transport}://{bootstrap}",
        datadir=str(data_dir),
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
    )
    engine = Engine(load_pack(None))
    store = MemoryStrikeStore()
    comments = app.topic(*topology().comment_topics)
    decisions = app.topic(output_topic(transport))

    @app.agent(comments)
    async def moderate(stream: Any) -> None:
        async for value in stream:
            try:
                decision = engine.moderate_json(value, store)
            except CommentError:
                await decisions.send(value=value)
                continue
            await decisions.send(key=decision["comment_id"].encode(), value=orjson.dumps(decision))

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--transport", choices=TRANSPORTS, default="kafka")
    args = parser.parse_args(argv)
    app = build_app(args.bootstrap, args.app_id, args.data_dir, args.transport)
    # Without its web server: Faust's worker command starts one on port 6066 whatever the app's
    # web_enabled says, and a second agent on the machine would fail to bind it.
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()
    return 0


class NaiveFaust:
    """The naive agent as one system of the streaming rounds, on one of Faust's transports."""

    def __init__(self, transport: str = "kafka") -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown Faust transport {transport!r}; known: {TRANSPORTS}")
        self.transport = transport
        self.name = "naive_faust" if transport == "kafka" else f"naive_faust_{transport}"
        self.output_topic = output_topic(transport)
        self.scratch_topics = (self.output_topic,)
        self.trial = transport != "kafka"  # a failure is recorded in its round, not fatal

    async def round(self, bench: Any, index: int) -> dict[str, Any]:
        import uuid

        from benchmarks.bench_engine import python_argv
        from benchmarks.systems import child_round

        argv = [
            *python_argv(),
            "-m",
            "benchmarks.naive_faust",
            "--bootstrap",
            bench.bootstrap,
            "--app-id",
            f"bench-naive-{uuid.uuid4().hex[:8]}",
            "--data-dir",
            str(bench.workdir / f"{self.name}-{index}"),
            "--transport",
            self.transport,
        ]
        return await child_round(bench, self.name, argv, self.output_topic, index)


if __name__ == "__main__":
    raise SystemExit(main())
