"""Other systems of the streaming rounds (the naive Faust agent, the Quix Streams application):
each a subprocess reading the preloaded backlog from offset 0 into its own scratch topic, timed
like the worker and the bare loop from the CreateTime of its output records."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.kafka_tools import CpuSampler, end_offsets, read_window
from benchmarks.stream_harness import Bench, children
from streamproc.local import ChildProcess, service_env


async def child_round(
    bench: Bench, name: str, argv: Sequence[str], output_topic: str, index: int
) -> dict[str, Any]:
    """Run ``argv`` until ``output_topic`` holds ``bench.count`` more records, then stop it."""
    from benchmarks.bench_worker import _round_result  # bench_worker imports this module's users

    tps = bench.tps(output_topic)
    before = await end_offsets(bench.settings, tps)
    child = ChildProcess(
        list(argv), service_env(bench.bootstrap), bench.workdir / f"{name}-{index}.log"
    )
    children.append(child)
    process = child.launch().process
    assert process is not None
    sampler = CpuSampler({"proc": process.pid, "broker": bench.broker_pid})
    sampler.start()
    deadline = time.monotonic() + 120 + bench.count / 500
    try:
        while True:
            ends = await end_offsets(bench.settings, tps)
            if sum(ends[tp] - before[tp] for tp in tps) >= bench.count:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} stopped or timed out:\n{child.log()}")
            await asyncio.sleep(0.5)
    finally:
        await sampler.stop()
        child.stop()
        children.remove(child)
    out = await read_window(bench.settings, before)
    return _round_result(name, bench, out, sampler)
