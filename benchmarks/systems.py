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

STALL_SECONDS = 60.0  # no new output record for this long: the system is not delivering


class SystemFailed(RuntimeError):
    """A system stopped, timed out or stopped delivering in a round. A trial system's failure
    (``trial = True``) is recorded in its round and the run goes on; any other's ends the run."""

    def __init__(self, reason: str, log: str = "") -> None:
        super().__init__(f"{reason}; its log:\n{log}" if log else reason)
        self.reason = reason
        self.log = log


async def child_round(
    bench: Bench,
    name: str,
    argv: Sequence[str],
    output_topic: str,
    index: int,
    stall_seconds: float = STALL_SECONDS,
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
    started = time.monotonic()
    deadline = started + 120 + bench.count / 500
    produced, progressed = 0, started
    try:
        while True:
            ends = await end_offsets(bench.settings, tps)
            now = time.monotonic()
            total = sum(ends[tp] - before[tp] for tp in tps)
            if total >= bench.count:
                break
            if total > produced:
                produced, progressed = total, now
            if process.poll() is not None:
                why = f"exited with {process.returncode}"
            elif now > deadline:
                why = f"timed out after {now - started:.0f} s"
            elif now - progressed > stall_seconds:
                why = f"wrote no output record for {now - progressed:.0f} s"
            else:
                await asyncio.sleep(0.5)
                continue
            raise SystemFailed(
                f"{name} {why} ({produced:,} of {bench.count:,} outputs)", child.log()
            )
    finally:
        await sampler.stop()
        child.stop()
        children.remove(child)
    out = await read_window(bench.settings, before)
    return _round_result(name, bench, out, sampler)
