"""The soak's parts: its load, its samplers and how it reads the topics back."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console

from streamproc.connect import publish_lines
from streamproc.kafka import KafkaSettings, topology
from streamproc.local import (
    ServiceProcess,
    WorkerProcess,
    metric_total,
)
from streamproc.local.platforms import StandIns

AT = "2026-11-18T10:30:00+01:00"  # a Wednesday within moderation hours
HARMLESS = "Buongiorno, quando escono i dati sugli infortuni del 2025? Grazie."
INSULT = "Sei un idiota."  # a strike: remove + warn; the third of an author blocks them
console = Console()


class SinkProcess(ServiceProcess):
    command = "sink"

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        super().__init__(env, directory)
        self.env["STREAMPROC_SINK_METRICS_PORT"] = str(self.metrics_port)

    def start(self, timeout: float = 90.0) -> SinkProcess:
        return self.start_ready(timeout)


# --- the load ------------------------------------------------------------------------------


def _comment(n: int, rng: random.Random, page: str, x_account: str) -> dict[str, Any]:
    """Comment ``n`` as the connector publishes it (with its platform references): two in three
    on Facebook (private replies), one in three on X (public replies); one in 40 an insult from
    one of 150 repeat offenders."""
    offender = rng.randrange(150) if n % 40 == 17 else None
    twitter = n % 3 == 2 if offender is None else offender % 3 == 2
    author = f"{9100 + offender}" if offender is not None else f"{50000 + n % 997}"
    if twitter:
        cid, post, account = f"{1990000000000 + n}", "1990366154721874313", x_account
        channel = "twitter"
    else:
        cid, post, account, channel = f"901097836652708_{n}", "901097836652708", page, "facebook"
    return {
        "id": f"{channel}:{cid}",
        "channel": channel,
        "author": {"id": author, "name": None, "role": "public"},
        "text": INSULT if offender is not None else HARMLESS,
        "created_at": AT,
        "post_id": post,
        "kind": "comment",
        "platform": {
            "account_id": account,
            "post_id": post,
            "comment_id": cid,
            "parent_id": post,
            "user_id": author,
        },
        "version": 1,
    }


class Load(threading.Thread):
    """One publisher at ``rate`` comments/s until :meth:`finish` (it retries through the
    broker's outage)."""

    def __init__(self, settings: KafkaSettings, rate: float, stand_ins: StandIns) -> None:
        super().__init__(daemon=True, name="soak-load")
        self.settings, self.rate = settings, rate
        self.accounts = stand_ins.accounts
        self.stopping = threading.Event()
        self.made = 0
        self.summary: Any = None
        self.error: BaseException | None = None

    def _lines(self) -> Iterator[bytes]:
        rng = random.Random(8)
        a = self.accounts
        while not self.stopping.is_set():
            yield orjson.dumps(_comment(self.made, rng, a.facebook_page_id, a.twitter_user_id))
            self.made += 1

    def run(self) -> None:
        try:
            self.summary = asyncio.run(
                publish_lines(self.settings, self._lines(), rate=self.rate, retry_for=300)
            )
        except BaseException as exc:  # reported at the end
            self.error = exc

    def finish(self) -> None:
        self.stopping.set()
        self.join(120)


# --- sampling lag and decisions --------------------------------------------------------------


#: Per worker, what the timeline records each second (None while it does not answer).
WORKER_SERIES = {
    "decided": "streamproc_decisions_total",
    "consumed": "streamproc_comments_consumed_total",
    "held": "streamproc_assigned_partitions",
    "lag": "streamproc_consumer_lag",
    "stalls": "streamproc_fetch_stalls_total",
    "idle_recoveries": "streamproc_idle_recoveries_total",
}


class Sampler(threading.Thread):
    """Every second, the workers' ``streamproc_consumer_lag``: the largest seen in all and on
    one partition, and the total's timeline; and per worker its decisions, partitions held and
    lag (a worker that stops reading shows as a flat line while the other moves)."""

    def __init__(self, workers: list[WorkerProcess]) -> None:
        super().__init__(daemon=True, name="soak-sampler")
        self.workers = workers
        self.max_lag_total = 0.0
        self.max_lag_partition = 0.0
        self.timeline: list[tuple[float, float]] = []
        self.per_worker: list[tuple[float, list[dict[str, float] | None]]] = []
        self.started = time.monotonic()
        self.stopping = threading.Event()

    def lag(self, snapshot: list[dict[str, float] | None] | None = None) -> float:
        total = 0.0
        for worker in list(self.workers):
            samples = worker.samples() if worker.alive else None
            if snapshot is not None:
                snapshot.append(
                    None
                    if samples is None
                    else {k: metric_total(samples, n) for k, n in WORKER_SERIES.items()}
                )
            # A worker that holds no partition may still show its last gauges: skip it.
            if not samples or not metric_total(samples, "streamproc_assigned_partitions"):
                continue
            for key, value in samples.items():
                if key.startswith("streamproc_consumer_lag"):
                    total += value
                    self.max_lag_partition = max(self.max_lag_partition, value)
        return total

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            snapshot: list[dict[str, float] | None] = []
            total = self.lag(snapshot)
            at = round(time.monotonic() - self.started, 1)
            self.max_lag_total = max(self.max_lag_total, total)
            self.timeline.append((at, total))
            self.per_worker.append((at, snapshot))


class GroupWatcher(threading.Thread):
    """Every two seconds, the worker group as its coordinator sees it: state, and per member
    (static members' ids begin with their instance id) the comment partitions it was given."""

    def __init__(self, settings: KafkaSettings, group: str, started: float) -> None:
        super().__init__(daemon=True, name="soak-group")
        self.settings, self.group, self.started = settings, group, started
        self.timeline: list[tuple[float, Any]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        asyncio.run(self._watch())

    async def _watch(self) -> None:
        from aiokafka.admin import AIOKafkaAdminClient
        from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

        admin: Any = None
        while not self.stopping.is_set():
            at = round(time.monotonic() - self.started, 1)
            try:
                if admin is None:
                    admin = AIOKafkaAdminClient(
                        **self.settings.client_kwargs(), request_timeout_ms=3000
                    )
                    await asyncio.wait_for(admin.start(), 5)
                (response,) = await asyncio.wait_for(
                    admin.describe_consumer_groups([self.group]), 5
                )
                _, _, state, _, _, members = response.groups[0][:6]
                seen = {}
                for member in members:
                    member_id, assignment = member[0], member[-1]
                    tps = (
                        ConsumerProtocolMemberAssignment.decode(assignment).partitions()
                        if assignment
                        else []
                    )
                    seen[member_id[:12]] = sum(1 for tp in tps if tp.topic.startswith("comments."))
                self.timeline.append((at, {"state": state, "members": seen}))
            except Exception as exc:  # the broker's outage: note it, start a new client
                self.timeline.append((at, {"error": type(exc).__name__}))
                if admin is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(admin.close(), 5)
                    admin = None
            await asyncio.sleep(2.0)
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


def idle_stretches(
    per_worker: list[tuple[float, list[dict[str, float] | None]]], origin: float = 0.0
) -> list[dict[str, Any]]:
    """Per worker slot, the longest run of seconds in which it answered but decided nothing
    new (under steady load every worker holding partitions decides every second): from when
    (seconds since ``origin``), how long, and the partitions it said it held meanwhile."""
    out = []
    slots = max((len(s) for _, s in per_worker), default=0)
    for slot in range(slots):
        best: dict[str, Any] = {"worker": slot + 1, "seconds": 0.0, "from_s": None, "held": []}
        run_from: float | None = None
        held: list[float] = []
        last: float | None = None
        prev_at = 0.0
        for at, snapshot in per_worker:
            sample = snapshot[slot] if slot < len(snapshot) else None
            if sample is None:  # down (killed, restarting): not idle, a different fault
                run_from, held, last = None, [], None
                continue
            if last is not None and sample["decided"] == last:
                if run_from is None:
                    run_from, held = prev_at, []
                held.append(sample["held"])
                if at - run_from > best["seconds"]:
                    best = {
                        "worker": slot + 1,
                        "seconds": round(at - run_from, 1),
                        "from_s": round(run_from - origin, 1),
                        "held": sorted(set(held)),
                    }
            else:
                run_from, held = None, []
            last, prev_at = sample["decided"], at
        out.append(best)
    return out


def increments(
    per_worker: list[tuple[float, list[dict[str, float] | None]]], key: str
) -> list[float]:
    """Per worker slot, how much counter ``key`` grew over the run (a restarted process
    starts again from zero)."""
    slots = max((len(s) for _, s in per_worker), default=0)
    out = []
    for slot in range(slots):
        total, last = 0.0, 0.0
        for _, snapshot in per_worker:
            sample = snapshot[slot] if slot < len(snapshot) else None
            if sample is None:
                continue
            value = sample[key]
            total += value - last if value >= last else value
            last = value
        out.append(total)
    return out


def decided(workers: list[WorkerProcess]) -> float:
    return sum(w.metric("streamproc_decisions_total") for w in workers if w.alive)


def wait_for(condition: Any, timeout: float) -> float | None:
    """Seconds until ``condition()``, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


# --- reading back ----------------------------------------------------------------------------


async def read_topics(settings: KafkaSettings, topics: list[str]) -> list[Any]:
    """Every record of ``topics`` up to their current ends (key, decoded value)."""
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    out: list[Any] = []
    try:
        tps = [TopicPartition(t, p) for t in topics for p in range(topology().partitions_of(t))]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            batch = await consumer.getmany(timeout_ms=1000, max_records=20000)
            for records in batch.values():
                out.extend((r.key, orjson.loads(r.value or b"null")) for r in records)
    finally:
        await consumer.stop()
    return out


def user_of(decision: dict[str, Any]) -> str:
    return str((decision.get("platform") or {}).get("user_id") or decision.get("author_id"))


def without_time(decision: dict[str, Any]) -> bytes:
    return orjson.dumps({k: v for k, v in decision.items() if k != "decided_at"})
