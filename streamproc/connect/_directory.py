"""The employee directory: which platform accounts are employees' personal accounts.

No platform says who is an employee, and a name proves nothing, so compliance declares it: a
CSV with a header holding ``channel`` and ``user_id`` (the platform's account id; other columns
are ignored), published with ``streamproc directory publish FILE.csv`` to the compacted topic
``connect.directory`` (key ``<channel>:<user_id>``, value ``{"employee": true}``; rows no longer
in the file become tombstones). The connector follows the topic, so a change takes effect
without a restart. The directory is personal data: nothing here logs an entry, only counts.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaProducer

from streamproc.kafka import KafkaSettings, topology
from streamproc.kafka._compacted import read_to_end

__all__ = [
    "DIRECTORY_TOPIC",
    "DirectoryError",
    "DirectoryReport",
    "EmployeeDirectory",
    "parse_directory_csv",
    "publish_directory",
]

DIRECTORY_TOPIC = "connect.directory"
_EMPLOYEE = orjson.dumps({"employee": True})


class DirectoryError(ValueError):
    """A directory file that cannot be used; the message names the line, never its values."""


class EmployeeDirectory:
    """The directory in memory, kept up to date from the topic."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def __len__(self) -> int:
        return len(self._keys)

    def is_employee(self, channel: str, user_id: str) -> bool:
        return f"{channel}:{user_id}" in self._keys

    def apply(self, key: bytes, value: bytes | None) -> None:
        name = key.decode("utf-8", "replace")
        employee = False
        if value:
            try:
                doc = orjson.loads(value)
            except orjson.JSONDecodeError:
                doc = None
            employee = isinstance(doc, dict) and doc.get("employee") is True
        if employee:
            self._keys.add(name)
        else:
            self._keys.discard(name)


def parse_directory_csv(text: str) -> set[str]:
    """The ``<channel>:<user_id>`` keys of a directory CSV."""
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not {"channel", "user_id"} <= fields:
        raise DirectoryError("line 1: the header must name the columns channel and user_id")
    keys: set[str] = set()
    for row in reader:
        line = reader.line_num
        values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        channel, user = values.get("channel", ""), values.get("user_id", "")
        if not channel and not user:
            continue
        channels = topology().channels
        if channel not in channels:
            raise DirectoryError(f"line {line}: channel is not one of {', '.join(channels)}")
        if not user:
            raise DirectoryError(f"line {line}: user_id is empty")
        keys.add(f"{channel}:{user}")
    return keys


@dataclass
class DirectoryReport:
    added: int
    removed: int
    kept: int


async def publish_directory(
    settings: KafkaSettings, keys: set[str], *, dry_run: bool = False
) -> DirectoryReport:
    """Make the topic hold exactly ``keys``: new ones added, missing ones tombstoned."""
    current = EmployeeDirectory()
    await read_to_end(settings, DIRECTORY_TOPIC, current.apply)
    existing = set(current._keys)
    report = DirectoryReport(len(keys - existing), len(existing - keys), len(keys & existing))
    if dry_run:
        return report
    producer = AIOKafkaProducer(**settings.client_kwargs(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [
            await producer.send(DIRECTORY_TOPIC, _EMPLOYEE, key=k.encode())
            for k in sorted(keys - existing)
        ]
        futures += [
            await producer.send(DIRECTORY_TOPIC, None, key=k.encode())
            for k in sorted(existing - keys)
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()
    return report
