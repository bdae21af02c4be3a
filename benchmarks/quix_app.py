"""The moderation as an idiomatic Quix Streams application: one ``Application`` (librdkafka
through confluent-kafka), a ``StreamingDataFrame`` per comment topic, ``Engine.moderate_json``
in ``apply`` and ``to_topic`` with the comment id as key; Quix's defaults otherwise
(at-least-once, a commit every 5 s). No strikes table: a ``MemoryStrikeStore``, as the bare
loop. Quix stamps an output record with its input's timestamp, so its scratch topic uses
LogAppendTime: the broker's append time dates each decision.

    python -m benchmarks.quix_app --bootstrap HOST:PORT --group G --state-dir DIR

Needs the ``bench`` extra (``pip install .[bench]``); the suite runs it as one more system of
each full-mode streaming round (:class:`QuixStreams`), timed like the others.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

QUIX_OUT = "bench.quix-out"  # the scratch output topic


def build_app(bootstrap: str, group: str, state_dir: Path) -> Any:
    from quixstreams import Application
    from quixstreams.models.topics import TopicConfig

    from streamproc.core import CommentError, Decision, Engine, MemoryStrikeStore, load_pack
    from streamproc.kafka import topology

    app = Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        state_dir=state_dir,
        loglevel="WARNING",
        producer_extra_config={"acks": "all"},  # as the bare loop and the worker
    )
    engine = Engine(load_pack(None))
    store = MemoryStrikeStore()
    decisions = app.topic(
        QUIX_OUT,
        value_serializer="json",  # orjson inside Quix
        key_serializer="str",
        config=TopicConfig(num_partitions=6, replication_factor=1),
    )

    def moderate(value: bytes) -> Decision | dict[str, str]:
        try:
            return engine.moderate_json(value, store)
        except CommentError as exc:  # the corpus holds none; kept so that a bad one is seen
            return {"comment_id": "", "dead_letter": type(exc).__name__}

    for name in topology().comment_topics:
        comments = app.topic(name, value_deserializer="bytes")
        sdf = app.dataframe(comments).apply(moderate)
        sdf.to_topic(decisions, key=lambda decision: decision["comment_id"])
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    build_app(args.bootstrap, args.group, args.state_dir).run()  # until SIGTERM
    return 0


class QuixStreams:
    """The Quix Streams application as one system of the streaming rounds."""

    name = "quix"
    output_topic = QUIX_OUT
    scratch_topics: tuple[str, ...] = ()  # created by the first round, with LogAppendTime
    trial = False  # a failure ends the run

    async def round(self, bench: Any, index: int) -> dict[str, Any]:
        import uuid

        from benchmarks.bench_engine import python_argv
        from benchmarks.systems import child_round

        if QUIX_OUT not in bench.partitions:  # created before the first round reads its ends
            from aiokafka.admin import NewTopic

            from streamproc.kafka import admin_client

            async with admin_client(bench.settings) as admin:
                # Quix gives an output record its input's timestamp (here the preload's): the
                # broker's append time is the time of the decision.
                topic = NewTopic(
                    QUIX_OUT, 6, 1, topic_configs={"message.timestamp.type": "LogAppendTime"}
                )
                await admin.create_topics([topic])
                for _ in range(100):
                    if QUIX_OUT in await admin.list_topics():
                        break
                    await asyncio.sleep(0.1)
            bench.partitions[QUIX_OUT] = 6
        argv = [
            *python_argv(),
            "-m",
            "benchmarks.quix_app",
            "--bootstrap",
            bench.bootstrap,
            "--group",
            f"bench-quix-{uuid.uuid4().hex[:8]}",
            "--state-dir",
            str(bench.workdir / f"quix-{index}"),
        ]
        return await child_round(bench, self.name, argv, QUIX_OUT, index)

    @staticmethod
    def version() -> str:
        from importlib.metadata import version

        return version("quixstreams")


if __name__ == "__main__":
    raise SystemExit(main())
