"""A Faust transport whose consumer hands records to the streams without four tasks each.

Faust's drain loop delivers every fetched record with
``await self.wait_first(callback(message), self.suspend_flow.wait())``; mode's ``wait_first``
wraps both awaitables and the service's stopped/crashed events in new tasks and calls
``asyncio.wait`` — about 40 µs per record, more than our whole policy engine. While flow is not
suspended the callback only queues the event, so awaiting it directly is equivalent; when flow
is suspended (a rebalance) the original path is kept. Records of an older consumer generation
that slip through are dropped by Faust's stream iterator, as before.

While the agent's buffer is full (a backlog), Faust's conductor puts each record through a new
task and ``asyncio.wait`` instead; so when the app has told us its agent's buffer
(:func:`watch_buffer`), the consumer waits for room before handing a record over.

This is installed as a transport of its own (Faust looks transports up by URL scheme), not by
patching Faust. Measured with benchmarks/bench_worker.py; the worker can run without it
(``STREAMPROC_FAST_DRAIN=0``).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from faust.transport import drivers
from faust.transport.drivers import aiokafka as aiokafka_driver
from mode.services import WaitResults

__all__ = ["SCHEME", "FastDrainConsumer", "FastDrainTransport", "register", "watch_buffer"]

SCHEME = "streamproc-kafka"
_EVENT_WAIT = asyncio.Event.wait.__code__


_buffers: list[Any] = []
_ROOM_POLL_SECONDS = 0.0005


def watch_buffer(queue: Any) -> None:
    """Tell the consumer about the agent's buffer (a Faust channel queue) to keep it from
    overflowing. Called by the agent once it runs."""
    if queue not in _buffers:
        _buffers.append(queue)


class FastDrainConsumer(aiokafka_driver.Consumer):
    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
        if len(coros) == 2 and timeout is None and not self.suspend_flow.is_set():
            delivery, flow = coros
            frame = getattr(flow, "cr_frame", None)
            if (
                getattr(flow, "cr_code", None) is _EVENT_WAIT
                and frame is not None
                and frame.f_locals.get("self") is self.suspend_flow
            ):
                flow.close()  # never started: nothing to cancel
                for queue in _buffers:
                    while queue.full() and not self.suspend_flow.is_set():
                        await asyncio.sleep(_ROOM_POLL_SECONDS)  # the agent makes room
                result = await delivery
                return WaitResults([delivery], [result], False)
        return await super().wait_first(*coros, timeout=timeout)


class FastDrainTransport(aiokafka_driver.Transport):
    Consumer: ClassVar[type] = FastDrainConsumer


def register() -> None:
    """Make ``streamproc-kafka://host:port`` broker URLs use this transport."""
    drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:FastDrainTransport"
