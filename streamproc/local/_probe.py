"""Is a Kafka broker really answering? A TCP check, then an aiokafka metadata request."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from streamproc.kafka import KafkaSettings

T = TypeVar("T")


@contextmanager
def quiet_aiokafka() -> Iterator[None]:
    """Silence aiokafka's connection-refused errors while we poll on purpose."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


async def broker_answers(broker: str | KafkaSettings, timeout: float = 5.0) -> bool:
    """True if a metadata request to *broker* (a PLAINTEXT bootstrap address, or the settings
    of a secured one) lists at least one broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    settings = KafkaSettings(bootstrap_servers=(broker,)) if isinstance(broker, str) else broker
    timeout_ms = int(timeout * 1000)
    admin = AIOKafkaAdminClient(**settings.client_kwargs(), request_timeout_ms=timeout_ms)
    try:
        with quiet_aiokafka():
            await asyncio.wait_for(admin.start(), timeout)
            cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        with quiet_aiokafka():
            await admin.close()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run *coro* to completion from sync code, even if this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="streamproc-kafka-probe")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
