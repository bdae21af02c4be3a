"""A Faust transport whose consumer hands records to the streams without four tasks each.

Faust's drain loop delivers every fetched record with
``await self.wait_first(callback(message), self.suspend_flow.wait())``; mode's ``wait_first``
wraps both awaitables and the service's stopped/crashed events in new tasks and calls
``asyncio.wait`` — about 40 µs per record, more than our whole policy engine. While flow is not
suspended the callback only queues the event, so awaiting it directly is equivalent; when flow
is suspended (a rebalance) the original path is kept. Records of an older consumer generation
that slip through are dropped by Faust's stream iterator, as before.

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

__all__ = ["SCHEME", "FastDrainConsumer", "FastDrainTransport", "register"]

SCHEME = "streamproc-kafka"
_EVENT_WAIT = asyncio.Event.wait.__code__


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
                result = await delivery
                return WaitResults([delivery], [result], False)
        return await super().wait_first(*coros, timeout=timeout)


class FastDrainTransport(aiokafka_driver.Transport):
    Consumer: ClassVar[type] = FastDrainConsumer


def register() -> None:
    """Make ``streamproc-kafka://host:port`` broker URLs use this transport."""
    drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:FastDrainTransport"
