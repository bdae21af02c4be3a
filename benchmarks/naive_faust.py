"""A naive Faust agent, the moderation written as a Faust tutorial would write it: one agent
over the comment topics, ``Engine.moderate_json`` per event, one awaited ``topic.send`` per
decision (Faust's own acknowledgements and commits; no batching, no strikes table).

    python -m benchmarks.naive_faust --bootstrap HOST:PORT --app-id ID --data-dir DIR

The suite runs it as one more system in each streaming round (:class:`NaiveFaust`), timed like
the others from the CreateTime of its output records.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAIVE_OUT = "bench.naive-faust-out"  # the scratch output topic


def build_app(bootstrap: str, app_id: str, data_dir: Path) -> Any:
    import faust
    import orjson

    from streamproc.core import CommentError, Engine, MemoryStrikeStore, load_pack
    from streamproc.kafka import topology

    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
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
    decisions = app.topic(NAIVE_OUT)

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
    args = parser.parse_args(argv)
    app = build_app(args.bootstrap, args.app_id, args.data_dir)
    # Without its web server: Faust's worker command starts one on port 6066 whatever the app's
    # web_enabled says, and a second agent on the machine would fail to bind it.
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()
    return 0


class NaiveFaust:
    """The naive agent as one system of the streaming rounds."""

    name = "naive_faust"
    output_topic = NAIVE_OUT

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
            str(bench.workdir / f"naive-{index}"),
        ]
        return await child_round(bench, self.name, argv, NAIVE_OUT, index)


if __name__ == "__main__":
    raise SystemExit(main())
