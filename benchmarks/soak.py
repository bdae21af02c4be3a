"""Soak: minutes of steady load through broker, two workers and the sink acting on the platform
stand-ins, with workers and sink killed (SIGKILL) on a schedule and the broker killed once and
restarted after ~10 s. At the end: every comment decided, duplicates identical, no reply sent
twice, the largest lag seen and how long each recovery took.

    python -m benchmarks.soak [--minutes 5] [--rate 1500]
    python -m benchmarks.soak --quick          # ~90 s of load

Results: ``benchmarks/results/soak/soak-<quick|Nmin>.json`` and ``.md``. Exit status 1 if a
comment has no decision, a reply went out twice, or an action was never carried out.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.soak_parts import (
    GroupWatcher,
    Load,
    Sampler,
    SinkProcess,
    console,
    decided,
    idle_stretches,
    increments,
    read_topics,
    user_of,
    wait_for,
    without_time,
)
from benchmarks.soak_report import failures, report
from streamproc._logging import quiet_repeats
from streamproc.kafka import KafkaSettings, admin_client, apply, load_declarations, topology
from streamproc.local import (
    LocalBroker,
    WorkerProcess,
    free_port,
    service_env,
)
from streamproc.local.platforms import StandIns

# --- the run ---------------------------------------------------------------------------------


@dataclass
class Soak:
    minutes: float
    rate: float
    worker_every: float
    sink_every: float
    directory: Path
    log_level: str = "WARNING"
    events: list[dict[str, Any]] = field(default_factory=list)

    def run(self) -> dict[str, Any]:
        broker = LocalBroker(
            self.directory / "broker", port=free_port(), controller_port=free_port()
        )
        stand_ins = StandIns().start()
        workers: list[WorkerProcess] = []
        sink: SinkProcess | None = None
        load: Load | None = None
        try:
            broker.start(timeout=180, die_with_parent=True)
            bootstrap = broker.status().bootstrap or ""
            settings = KafkaSettings(bootstrap_servers=(bootstrap,))
            asyncio.run(self._topics(settings))
            env = {**service_env(bootstrap), **stand_ins.env()}
            ids = ["soak-w1", None]
            env["STREAMPROC_LOG_LEVEL"] = self.log_level
            workers = [
                WorkerProcess(env, self.directory / f"w{i}", instance_id=ids[i]) for i in (0, 1)
            ]
            for w in workers:
                w.launch()
            want = float(topology().comment_partitions)
            if (
                wait_for(
                    lambda: (
                        sum(w.metric("streamproc_assigned_partitions") for w in workers) >= want
                    ),
                    180,
                )
                is None
            ):
                raise RuntimeError("workers did not take every partition\n" + workers[0].log())
            sink = SinkProcess(env, self.directory / "sink").start()
            sampler = Sampler(workers)
            sampler.start()
            group = GroupWatcher(settings, "streamproc", sampler.started)
            group.start()
            started_epoch = time.time() - (time.monotonic() - sampler.started)
            load = Load(settings, self.rate, stand_ins)
            load.start()
            started = time.monotonic()
            duration = self.minutes * 60
            plan = self._plan(duration)
            console.print(f"load {self.rate:.0f}/s for {duration:.0f} s; plan: {plan}")
            for at, what in plan:
                delay = started + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if time.monotonic() - started > duration - 10:
                    break
                began = round(time.monotonic() - started, 1)
                if what == "broker":
                    self._broker_outage(broker, workers)
                elif what == "sink":
                    sink = self._kill_sink(sink, env)
                else:
                    self._kill_worker(workers, int(what[-1]), ids, env)
                self.events[-1]["at_s"] = began
                # Decisions flowing is not all: a partition can stay stuck while others move.
                caught_up = wait_for(lambda: sampler.lag() < 2 * self.rate, 240)
                self.events[-1]["caught_up_s"] = (
                    None if caught_up is None else round(time.monotonic() - started - began, 1)
                )
                console.print(f"  {self.events[-1]}")
            time.sleep(max(0.0, started + duration - time.monotonic()))
            load.finish()
            load_seconds = time.monotonic() - started
            console.print(f"load stopped after {load_seconds:.0f} s; draining")
            stopped = time.monotonic()
            drain = wait_for(lambda: self._quiet(workers, sampler), 600)
            sampler.stopping.set()
            group.stopping.set()
            result = self._analyse(settings, stand_ins, load, sampler, sink)
            result.update(
                sampler_started_epoch=round(started_epoch, 3),
                load_started_s=round(started - sampler.started, 1),
                idle_stretches=idle_stretches(sampler.per_worker, started - sampler.started),
                fetch_stalls_by_worker=increments(sampler.per_worker, "stalls"),
                idle_recoveries_by_worker=increments(sampler.per_worker, "idle_recoveries"),
                worker_timeline=sampler.per_worker,
                group_timeline=group.timeline,
                load_seconds=round(load_seconds, 1),
                drain_seconds=None if drain is None else round(drain - 5, 1),
                analysed_after_s=round(time.monotonic() - stopped, 1),
                partitions_held_at_end=[
                    w.metric("streamproc_assigned_partitions") for w in workers
                ],
                consumed_by_worker_since_start=[
                    w.metric("streamproc_comments_consumed_total") for w in workers
                ],
            )
            for w in workers:
                result.setdefault("worker_exit", []).append(w.stop())
            return result
        finally:
            if load is not None:
                load.finish()
            for process in [*workers, sink]:
                if process is not None:
                    process.kill()
            stand_ins.stop()
            broker.kill()

    _last: tuple[float, float] = (-1.0, 0.0)

    def _quiet(self, workers: list[WorkerProcess], sampler: Sampler) -> bool:
        """True once the workers' decisions have not moved for 5 s and no lag is left, or for
        15 s (a worker that stopped reading keeps showing its last lag)."""
        count, now = decided(workers), time.monotonic()
        if count != self._last[0]:
            self._last = (count, now)
            return False
        quiet = now - self._last[1]
        return quiet >= 15 or (quiet >= 5 and sampler.lag() == 0)

    async def _topics(self, settings: KafkaSettings) -> None:
        async with admin_client(settings) as admin:
            report = await apply(load_declarations(), admin)
        if report.has_errors:
            raise RuntimeError("\n".join(report.lines()))

    def _plan(self, duration: float) -> list[tuple[float, str]]:
        """Worker kills (alternating) every ``worker_every`` s, sink kills every ``sink_every``
        s, the broker once at about half time; two faults are never less than 15 s apart."""
        wanted: list[tuple[float, str]] = []
        k = 1
        while k * self.worker_every < duration - 15:
            wanted.append((k * self.worker_every, f"worker{(k - 1) % 2}"))
            k += 1
        k = 1
        while k * self.sink_every < duration - 15:
            wanted.append((k * self.sink_every + 0.5, "sink"))
            k += 1
        wanted.append((duration * 0.5 + 0.2, "broker"))
        plan: list[tuple[float, str]] = []
        for at, what in sorted(wanted):
            at = max(at, plan[-1][0] + (30 if plan[-1][1] == "broker" else 15)) if plan else at
            plan.append((round(at, 1), what))
        return plan

    def _kill_worker(
        self, workers: list[WorkerProcess], i: int, ids: list[str | None], env: dict[str, str]
    ) -> None:
        killed_at = time.monotonic()
        workers[i].kill()
        fresh = WorkerProcess(env, self.directory / f"w{i}", instance_id=ids[i])
        fresh.launch()
        workers[i] = fresh
        back = wait_for(lambda: fresh.metric("streamproc_decisions_total") > 0, 180)
        self.events.append(
            {
                "event": f"SIGKILL worker {i + 1}" + (" (instance id)" if ids[i] else ""),
                "recovered_s": None if back is None else round(time.monotonic() - killed_at, 1),
            }
        )

    def _kill_sink(self, sink: SinkProcess | None, env: dict[str, str]) -> SinkProcess:
        killed_at = time.monotonic()
        if sink is not None:
            sink.kill()
        fresh = SinkProcess(env, self.directory / "sink").start(timeout=180)
        back = wait_for(lambda: fresh.metric("streamproc_sink_platform_calls_total") > 0, 180)
        self.events.append(
            {
                "event": "SIGKILL sink",
                "recovered_s": None if back is None else round(time.monotonic() - killed_at, 1),
            }
        )
        return fresh

    def _broker_outage(self, broker: LocalBroker, workers: list[WorkerProcess]) -> None:
        broker.kill()
        down_at = time.monotonic()
        time.sleep(10)
        broker.start(timeout=180, die_with_parent=True)
        up_at = time.monotonic()
        before = decided(workers)
        back = wait_for(lambda: decided(workers) > before, 300)
        self.events.append(
            {
                "event": "SIGKILL broker, restarted 10 s later",
                "broker_back_s": round(up_at - down_at, 1),
                "recovered_s": None if back is None else round(time.monotonic() - up_at, 1),
            }
        )

    def _analyse(
        self,
        settings: KafkaSettings,
        stand_ins: StandIns,
        load: Load,
        sampler: Sampler,
        sink: SinkProcess | None,
    ) -> dict[str, Any]:
        inputs = asyncio.run(read_topics(settings, ["comments.facebook", "comments.twitter"]))
        ids = Counter(doc["id"] for _, doc in inputs)
        decisions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for _ in range(12):  # the workers may still be writing their last batch
            decisions.clear()
            for _, doc in asyncio.run(read_topics(settings, ["moderation.actions"])):
                decisions[doc["comment_id"]].append(doc)
            if all(i in decisions for i in ids):
                break
            time.sleep(10)
        missing = [i for i in ids if i not in decisions]
        duplicated = {i: d for i, d in decisions.items() if len(d) > 1}
        differing = [i for i, d in duplicated.items() if len({without_time(x) for x in d}) > 1]
        firsts = {i: d[0] for i, d in decisions.items()}
        expected = self._expected(firsts)
        actions_left = wait_for(lambda: not any(self._undone(stand_ins, expected).values()), 300)
        undone = self._undone(stand_ins, expected)
        calls = self._platform_calls(stand_ins)
        blocks = Counter(
            ("x" if i.startswith("twitter:") else "graph", user_of(d))
            for i, d in firsts.items()
            if "block" in d["actions"]
        )
        bans = calls.pop("bans_per_user")
        calls["ban_calls_beyond_block_decisions"] = sum(
            max(0, n - blocks[user]) for user, n in bans.items()
        )
        return {
            "rate": self.rate,
            "comments_published": load.made,
            "publish_summary": repr(load.summary),
            "publish_error": repr(load.error) if load.error else None,
            "comments_in": len(ids),
            "input_records_repeated": sum(n - 1 for n in ids.values()),
            "decisions_out": sum(len(d) for d in decisions.values()),
            "comments_decided": len(decisions),
            "missing": len(missing),
            "missing_examples": missing[:10],
            "duplicated_comments": len(duplicated),
            "duplicate_copies": sum(len(d) - 1 for d in duplicated.values()),
            "duplicates_differing": len(differing),
            "differing_examples": differing[:5],
            "decisions_by_actions": dict(
                Counter("+".join(d["actions"]) for d in firsts.values()).most_common()
            ),
            "expected_platform_actions": {k: len(v) for k, v in expected.items()},
            "actions_settled_s": actions_left,
            "actions_not_carried_out": {k: len(v) for k, v in undone.items()},
            **calls,
            "max_lag_total": sampler.max_lag_total,
            "max_lag_partition": sampler.max_lag_partition,
            "lag_timeline": sampler.timeline,
            "events": self.events,
            "sink_alive": sink.alive if sink is not None else False,
        }

    @staticmethod
    def _expected(firsts: dict[str, dict[str, Any]]) -> dict[str, set[tuple[str, str]]]:
        """What the sink must have done: (platform, comment id) hidden and answered, (platform,
        user id) blocked."""
        out: dict[str, set[tuple[str, str]]] = {"hide": set(), "reply": set(), "ban": set()}
        for cid, d in firsts.items():
            channel, native = cid.split(":", 1)
            platform = "x" if channel == "twitter" else "graph"
            if "remove" in d["actions"]:
                out["hide"].add((platform, native))
            if "warn" in d["actions"]:
                out["reply"].add((platform, native))
            if "block" in d["actions"]:
                out["ban"].add((platform, user_of(d)))
        return out

    @staticmethod
    def _undone(
        stand_ins: StandIns, expected: dict[str, set[tuple[str, str]]]
    ) -> dict[str, set[tuple[str, str]]]:
        state = stand_ins.state
        with state.lock:
            hidden = {k for k, v in state.hidden.items() if v}
            replied = {(s["platform"], s["parent"]) for s in state.sent}
            banned = set(state.banned)
        return {
            "hide": expected["hide"] - hidden,
            "reply": expected["reply"] - replied,
            "ban": expected["ban"] - banned,
        }

    @staticmethod
    def _platform_calls(stand_ins: StandIns) -> dict[str, Any]:
        """Calls per (comment, action) on the stand-ins: hides and bans repeated (harmless: they
        set a state), reply calls repeated (the platform refused the second private reply) and
        replies actually sent twice (must be 0)."""
        page, me = stand_ins.accounts.facebook_page_id, stand_ins.accounts.twitter_user_id
        hides: Counter[tuple[str, str]] = Counter()
        bans: Counter[tuple[str, str]] = Counter()
        reply_calls: Counter[tuple[str, str]] = Counter()
        for call in stand_ins.calls():
            body = call.body if isinstance(call.body, dict) else {}
            parts = [p for p in call.path.split("/") if p]
            if call.platform == "graph" and call.method == "POST":
                if len(parts) == 1:
                    hides[("graph", parts[0])] += 1
                elif parts == [page, "blocked"]:
                    bans[("graph", str(body.get("user")))] += 1
                elif parts == [page, "messages"]:
                    recipient = body.get("recipient") or {}
                    reply_calls[("graph", str(recipient.get("comment_id")))] += 1
            elif call.platform == "x":
                if call.method == "PUT" and call.path.endswith("/hidden"):
                    hides[("x", parts[2])] += 1
                elif call.method == "POST" and call.path == f"/2/users/{me}/blocking":
                    bans[("x", str(body.get("target_user_id")))] += 1
                elif call.method == "POST" and call.path == "/2/tweets":
                    parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
                    reply_calls[("x", str(parent))] += 1
        sent = Counter((s["platform"], s["parent"]) for s in stand_ins.sent())
        return {
            "platform_calls": len(stand_ins.calls()),
            "hide_calls": sum(hides.values()),
            "hides_repeated": sum(1 for n in hides.values() if n > 1),
            "ban_calls": sum(bans.values()),
            "bans_repeated": sum(1 for n in bans.values() if n > 1),
            "reply_calls": sum(reply_calls.values()),
            "reply_calls_repeated": sum(1 for n in reply_calls.values() if n > 1),
            "replies_sent": sum(sent.values()),
            "replies_sent_twice": sum(1 for n in sent.values() if n > 1),
            "bans_per_user": bans,
            "replies_sent_twice_examples": [list(k) for k, n in sent.items() if n > 1][:5],
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of load (default 5)")
    parser.add_argument("--quick", action="store_true", help="~90 s of load, faults closer")
    parser.add_argument("--rate", type=float, default=1500.0, help="comments per second")
    parser.add_argument("--log-level", default="INFO", help="the workers' (default INFO)")
    parser.add_argument(
        "--keep-logs", type=Path, help="copy the services' logs into this directory at the end"
    )
    args = parser.parse_args()
    # The in-process publisher's client logs each failed connection: once per 30 s is enough.
    logging.basicConfig(level=logging.WARNING, format="soak: %(name)s: %(message)s")
    quiet_repeats()
    minutes, worker_every, sink_every = (
        (1.5, 20.0, 30.0) if args.quick else (args.minutes, 40.0, 60.0)
    )
    command = "python -m benchmarks.soak " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        soak = Soak(minutes, args.rate, worker_every, sink_every, Path(tmp), args.log_level)
        try:
            result = soak.run()
        finally:
            if args.keep_logs is not None:
                for log in Path(tmp).glob("*/*.log"):
                    args.keep_logs.mkdir(parents=True, exist_ok=True)
                    shutil.copy(log, args.keep_logs / f"{log.parent.name}-{log.name}")
    result["command"] = command.strip()
    result["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result["loadavg"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    report(result, command.strip(), "quick" if args.quick else f"{minutes:g}min")
    return 1 if failures(result) else 0


if __name__ == "__main__":
    sys.exit(main())
