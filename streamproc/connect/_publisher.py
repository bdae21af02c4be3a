"""Comments (and cursors) onto the broker, acknowledged before the caller answers anyone."""

from __future__ import annotations

import asyncio

import orjson
from aiokafka import AIOKafkaProducer

from streamproc.connect._directory import EmployeeDirectory
from streamproc.connect._records import Incoming
from streamproc.kafka import KafkaSettings

__all__ = ["CommentPublisher"]


class CommentPublisher:
    def __init__(
        self, settings: KafkaSettings, directory: EmployeeDirectory, timeout: float
    ) -> None:
        self.directory = directory
        self.timeout = timeout
        self.producer = AIOKafkaProducer(
            **settings.client_kwargs(),
            acks="all",
            enable_idempotence=True,  # a retry within a connection neither duplicates nor reorders
            linger_ms=2,
            request_timeout_ms=int(max(timeout, 1.0) * 1000),
        )
        self.started = False

    async def start(self) -> None:
        await self.producer.start()
        self.started = True

    async def stop(self) -> None:
        await self.producer.stop()

    def mark_employees(self, comments: list[Incoming]) -> None:
        for incoming in comments:
            if self.directory.is_employee(incoming.channel, incoming.user_id):
                incoming.record["author"]["role"] = "employee"

    async def publish(self, comments: list[Incoming]) -> None:
        """Send ``comments`` to their channel topics and wait for the broker's acknowledgement
        (raises ``TimeoutError`` or a ``KafkaError`` if it does not come)."""
        self.mark_employees(comments)
        futures = [
            await self.producer.send(
                f"comments.{incoming.channel}", orjson.dumps(incoming.record), key=incoming.key
            )
            for incoming in comments
        ]
        if futures:
            await asyncio.wait_for(asyncio.gather(*futures), self.timeout)

    async def put(self, topic: str, key: str, value: bytes) -> None:
        future = await self.producer.send(topic, value, key=key.encode())
        await asyncio.wait_for(future, self.timeout)
