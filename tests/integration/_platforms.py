"""Helpers for tests that run the real ``connect`` and ``sink`` against the platform
stand-ins, the session's broker and a real worker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from referencing import Registry, Resource

from streamproc.kafka import KafkaSettings, load_declarations
from streamproc.local import free_port
from streamproc.local.platforms import Accounts, StandIns, deliver, sign
from tests.integration._streaming import Worker, streamproc_command, streamproc_env, unique

SCHEMAS = Path(__file__).resolve().parents[2] / "topics" / "schemas"


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        resource = Resource.from_contents(schema)
        resources += [(schema["$id"], resource), (path.name, resource)]
    return Registry().with_resources(resources)


_REGISTRY = _registry()


def validate(record: dict[str, Any], name: str) -> None:
    """Check ``record`` against ``topics/schemas/<name>.schema.json``."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(
        schema, registry=_REGISTRY, format_checker=jsonschema.FormatChecker()
    )
    validator.validate(record)


class Service:
    """A ``streamproc connect`` or ``streamproc sink`` subprocess, with its log file."""

    def __init__(self, command: str, env: dict[str, str], directory: Path) -> None:
        self.command = command
        self.port = free_port()
        self.env = dict(env)
        if command == "connect":
            self.env["STREAMPROC_CONNECT_PORT"] = str(self.port)
        else:
            self.env["STREAMPROC_SINK_METRICS_PORT"] = str(self.port)
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / f"{command}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Service:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*streamproc_command(), self.command],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.command} exited:\n{self.log()}")
            if self.get("/readyz")[0] == 200:
                return self
            time.sleep(0.1)
        raise AssertionError(f"{self.command} not ready in {timeout}s:\n{self.log()}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def metric(self, name: str, **labels: str) -> float:
        total = 0.0
        for line in self.get("/metrics")[1].splitlines():
            if not line.startswith(name):
                continue
            head, _, value = line.rpartition(" ")
            series = head[len(name) :]
            if series and series[0] not in "{ ":
                continue
            if all(f'{k}="{v}"' in series for k, v in labels.items()):
                total += float(value)
        return total

    def log(self, chars: int | None = 6000) -> str:
        """The end of the service's log (all of it with ``chars=None``)."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return text if chars is None else text[-chars:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


async def _scan(
    settings: KafkaSettings,
    topic: str,
    done: Callable[[list[Any]], bool],
    timeout: float,
) -> list[Any]:
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        declared = load_declarations().get(topic)
        assert declared is not None, topic
        tps = [TopicPartition(topic, p) for p in range(declared.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300, max_records=5000)
            for part in batch.values():
                records.extend(part)
            if not batch and done(records):
                break
    finally:
        await consumer.stop()
    return records


def read_json(
    settings: KafkaSettings,
    topic: str,
    match: Callable[[dict[str, Any]], bool],
    until: Callable[[list[dict[str, Any]]], bool] | None = None,
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """The JSON records of ``topic`` that ``match``, once ``until`` holds of them (or the
    timeout passes; the caller asserts what it needs). A record ``match`` cannot read (other
    tests write deliberately bad ones on the shared broker) is no match."""

    def matches(doc: dict[str, Any]) -> bool:
        try:
            return match(doc)
        except (KeyError, TypeError):
            return False

    def values(records: list[Any]) -> list[dict[str, Any]]:
        out = []
        for r in records:
            try:
                doc = orjson.loads(r.value) if r.value else None
            except orjson.JSONDecodeError:
                continue
            if isinstance(doc, dict) and matches(doc):
                out.append(doc)
        return out

    check = until or bool
    records = asyncio.run(_scan(settings, topic, lambda rs: check(values(rs)), timeout))
    return values(records)


def outcomes(
    settings: KafkaSettings,
    comment_id: str,
    until: Callable[[dict[str, dict[str, Any]]], bool],
    timeout: float = 30.0,
) -> dict[str, dict[str, Any]]:
    """The latest outcome of each action of ``comment_id``, by action id (each one checked
    against the Outcome schema), once ``until`` holds of them or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while True:
        docs = read_json(
            settings,
            "moderation.outcomes",
            lambda d: d.get("comment_id") == comment_id,
            timeout=3.0,
        )
        found = {doc["action_id"]: doc for doc in docs}
        if until(found) or time.monotonic() > deadline:
            for doc in docs:
                validate(doc, "outcome")
            return found
        time.sleep(0.3)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Loop:
    """The platform stand-ins, a worker, ``streamproc connect`` and ``streamproc sink`` on the
    session's broker."""

    settings: KafkaSettings
    stand_ins: StandIns
    accounts: Accounts
    connect: Service
    sink: Service
    worker: Worker
    env: dict[str, str]
    directory: Path

    def webhook(self, platform: str, body: bytes, headers: dict[str, str] | None = None) -> int:
        signed = sign(platform, self.accounts, body) if headers is None else headers
        return deliver(f"{self.connect.url}/webhooks/{platform}", body, signed)

    def restart_sink(self, kill: bool = False) -> None:
        (self.sink.kill if kill else self.sink.stop)()
        self.sink = Service("sink", self.env, self.directory).start()


L = TypeVar("L", bound=Loop)


@contextmanager
def running_loop(
    kind: type[L], bootstrap: str, settings: KafkaSettings, directory: Path, **env: str
) -> Iterator[L]:
    """A :class:`Loop` (or the test's subclass ``kind``) running with ``env`` on top of the
    stand-ins' settings and a sink group of its own; everything it started (and restarted)
    stopped at the end."""
    stand_ins = StandIns().start()
    env = {
        **streamproc_env(bootstrap),
        **stand_ins.env(),
        "STREAMPROC_SINK_GROUP": unique("sink-"),
        **env,
    }
    worker = Worker(streamproc_env(bootstrap), directory / "worker")
    connect, sink = Service("connect", env, directory), Service("sink", env, directory)
    loop = kind(settings, stand_ins, stand_ins.accounts, connect, sink, worker, env, directory)
    try:
        worker.start()
        connect.start()
        sink.start()
        yield loop
    finally:
        # The services running now too: tests restart them (a restarted sink or connector left
        # running would outlive the test session).
        for service in {connect, sink, loop.connect, loop.sink}:
            service.stop()
        worker.stop()
        stand_ins.stop()
