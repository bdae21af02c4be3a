"""The whole loop: signed webhooks into ``streamproc connect``, the worker, ``streamproc sink``
calling the platform stand-ins (full mode).

    python -m benchmarks --only loop

Own local broker; the real ``streamproc worker``, ``connect`` and ``sink`` processes; the
platform stand-ins (``streamproc.local.platforms``) in a thread of this process. The demo's
sample comments, under fresh comment and author ids for every pass over the sample, are
delivered as Facebook, Instagram and X webhooks (comments and private messages, signed as the
platforms sign them) by a few concurrent HTTP clients, as fast as the connector answers.

Figures: deliveries/s the connector accepted (200: the comment is on its topic), decisions/s of
the worker, platform calls/s of the sink; latency from a webhook's POST to the stand-in
receiving the first platform call that names that comment (a hide, a reply, a private reply;
calls that name only the author, a block or a direct message, count in calls/s but not in the
latency), with webhook → decision and decision → call beside it.

Baseline, side by side: connect and sink stopped, the comments the connector published are
published again straight to the comment topics (fresh ids, so no strike from the loop counts;
repeated up to ``ALONE_MIN`` comments so the window is long enough to time), and the same worker
decides them alone: ``loop.vs_worker_alone`` = the loop's decisions/s ÷ the worker's alone.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from benchmarks.kafka_tools import CpuSampler, end_offsets, read_window
from benchmarks.progress import Reporter
from benchmarks.report import ratio
from benchmarks.soak_parts import SinkProcess
from benchmarks.stream_harness import ACTIONS, Bench, children, delivered, local_bench
from streamproc.connect import publish_directory, publish_lines
from streamproc.local import ServiceProcess, WorkerProcess, service_env
from streamproc.local.platforms import (
    Accounts,
    Call,
    StandIns,
    facebook_comment,
    facebook_message,
    instagram_comment,
    sign,
    twitter_message,
    twitter_reply,
)

LOOP_COUNT = 3_000  # deliveries (full mode)
QUICK_COUNT = 600  # when run with --quick --only loop: a smoke run, not CI's
CLIENTS = 8  # concurrent HTTP clients, each waiting for its answer before the next
ALONE_MIN = 20_000  # comments the worker decides alone: a window of a second or more
WEBHOOK_CHANNELS = ("facebook", "instagram", "twitter")
FB_POST, IG_MEDIA, X_POST = "901097836652708", "17918195224117851", "1990366154721874313"


@dataclass(frozen=True)
class Delivery:
    platform: str  # the webhook's path: facebook, instagram, twitter
    body: bytes
    headers: dict[str, str]
    comment_id: str  # the canonical id the connector gives it
    target: str | None  # the platform id a call about this comment names (None: a message)
    author: str
    employee: bool


def sample() -> list[dict[str, Any]]:
    """The demo's bundled week of comments (a realistic share needing action)."""
    data = resources.files("streamproc").joinpath("samples/comments.ndjson").read_bytes()
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def deliveries(comments: list[dict[str, Any]], count: int, accounts: Accounts) -> list[Delivery]:
    """``count`` signed webhook deliveries made of ``comments`` taken in turn; a pass over them
    gives every comment and author a fresh id. YouTube and LinkedIn comments (polled, not
    delivered) come as Facebook, Instagram or X ones in turn."""
    authors = {a: i for i, a in enumerate(sorted({c["author"]["id"] for c in comments}))}
    out: list[Delivery] = []
    for n in range(count):
        c = comments[n % len(comments)]
        copy = n // len(comments)
        channel = c["channel"] if c["channel"] in WEBHOOK_CHANNELS else WEBHOOK_CHANNELS[n % 3]
        native = channel == c["channel"]
        user = str(10**12 + authors[c["author"]["id"]] * 10**4 + copy)
        name, text, at = c["author"].get("name"), c["text"], c["created_at"]
        post = str(c.get("post_id") or "")
        message = c.get("kind") == "private_message"
        target: str | None
        if message and channel in ("facebook", "instagram"):
            mid = f"m_{n:08d}"
            obj = "page" if channel == "facebook" else "instagram"
            body = facebook_message(
                accounts, obj=obj, mid=mid, user_id=user, text=text, created_at=at
            )
            cid, target = f"{channel}:{mid}", None
        elif message:
            dm = f"95{n:010d}"
            body = twitter_message(accounts, message_id=dm, user_id=user, text=text, created_at=at)
            cid, target = f"twitter:{dm}", None
        elif channel == "facebook":
            post_id = post.rsplit("_", 1)[-1] if native and post else FB_POST
            target = f"{post_id}_{n:08d}"
            body = facebook_comment(
                accounts,
                comment_id=target,
                post_id=post_id,
                user_id=user,
                name=name,
                text=text,
                created_at=at,
            )
            cid = f"facebook:{target}"
        elif channel == "instagram":
            target = f"1790{n:010d}"
            body = instagram_comment(
                accounts,
                comment_id=target,
                media_id=post if native and post else IG_MEDIA,
                user_id=user,
                username=name,
                text=text,
                created_at=at,
            )
            cid = f"instagram:{target}"
        else:
            target = f"199{n:010d}"
            body = twitter_reply(
                accounts,
                tweet_id=target,
                in_reply_to=post if native and post.isdigit() else X_POST,
                user_id=user,
                name=name,
                text=text,
                created_at=at,
            )
            cid = f"twitter:{target}"
        employee = c["author"].get("role") == "employee"
        out.append(
            Delivery(channel, body, sign(channel, accounts, body), cid, target, user, employee)
        )
    return out


def call_target(call: Call) -> str | None:
    """The comment a platform call acts on (its platform id), or None when it names only an
    author (a block, a direct message) or is a read."""
    parts = [p for p in call.path.split("/") if p]
    body = call.body if isinstance(call.body, dict) else {}
    if call.platform == "graph" and call.method in ("POST", "DELETE") and parts:
        if len(parts) == 1:
            return parts[0]  # hide, delete
        if parts[1] in ("comments", "replies"):
            return parts[0]  # a public reply
        if parts[1] == "messages":  # a private reply names its comment
            recipient = body.get("recipient")
            if isinstance(recipient, dict) and recipient.get("comment_id"):
                return str(recipient["comment_id"])
        return None
    if call.platform == "x" and len(parts) == 4 and parts[:2] == ["2", "tweets"]:
        return parts[2] if parts[3] == "hidden" and call.method == "PUT" else None
    if call.platform == "x" and parts == ["2", "tweets"] and call.method == "POST":
        reply = body.get("reply")
        if isinstance(reply, dict) and reply.get("in_reply_to_tweet_id"):
            return str(reply["in_reply_to_tweet_id"])
    return None


def first_calls(calls: Iterable[Call]) -> dict[str, float]:
    """Per comment (platform id), when the stand-in received the first call about it."""
    first: dict[str, float] = {}
    for call in calls:
        target = call_target(call)
        if target is not None and (target not in first or call.at < first[target]):
            first[target] = call.at
    return first


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean in ms of durations in seconds (nearest rank; NaN when empty)."""
    if not seconds:
        return {k: float("nan") for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")}
    ordered = sorted(s * 1000 for s in seconds)

    def pct(q: float) -> float:
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)]

    return {
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": ordered[-1],
        "mean_ms": statistics.fmean(ordered),
    }


def thin_ms(seconds: list[float], keep: int = 1000) -> list[float]:
    """About ``keep`` of the durations, sorted, in ms: enough for a CDF plot."""
    ordered = sorted(seconds)
    return [s * 1000 for s in ordered[:: max(len(ordered) // keep, 1)]]


def per_s(count: int, first: float, last: float) -> float:
    """``count`` events ÷ the time from the first to the last (NaN below 1 ms)."""
    return count / (last - first) if last - first > 0.001 else float("nan")


def call_shape(call: Call) -> str:
    """``platform METHOD /path`` with its ids replaced by ``{id}`` (a bounded label)."""
    keep = ("2", "v3")
    path = "/".join(
        "{id}" if any(ch.isdigit() for ch in part) and part not in keep else part
        for part in call.path.split("/")
    )
    return f"{call.platform} {call.method} {path}"


def alone_lines(published: list[dict[str, Any]], minimum: int) -> list[bytes]:
    """The comments the connector published, again under fresh comment and author ids, as many
    passes as make ``minimum``."""
    lines: list[bytes] = []
    passes = max(1, -(-minimum // max(len(published), 1)))
    for k in range(1, passes + 1):
        for comment in published:
            copy = dict(comment)
            copy["id"] = f"{comment['id']}~alone{k}"
            copy["author"] = {**comment["author"], "id": f"{comment['author']['id']}~{k}"}
            if isinstance(comment.get("platform"), dict):
                copy["platform"] = {**comment["platform"], "user_id": copy["author"]["id"]}
            lines.append(orjson.dumps(copy))
    return lines


# --- processes ---------------------------------------------------------------------------------


class ConnectProcess(ServiceProcess):
    """``streamproc connect``: webhooks and /metrics on one port."""

    command = "connect"

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        super().__init__(env, directory)
        self.env["STREAMPROC_CONNECT_PORT"] = str(self.metrics_port)
        self.env["STREAMPROC_CONNECT_ADDRESS"] = "127.0.0.1"

    def start(self, timeout: float = 90.0) -> ConnectProcess:
        return self.start_ready(timeout)


def _platform_env(stand_ins: StandIns) -> dict[str, str]:
    """The stand-ins' settings for the three webhook platforms (no pollers to run)."""
    return {
        k: v
        for k, v in stand_ins.env().items()
        if not k.startswith(("STREAMPROC_YOUTUBE_", "STREAMPROC_LINKEDIN_"))
    }


# --- the run -----------------------------------------------------------------------------------


async def _post_all(port: int, items: list[Delivery]) -> dict[str, Any]:
    """Every delivery POSTed by ``CLIENTS`` concurrent clients; when each was sent, by
    comment id, and the answers."""
    import aiohttp

    posted: dict[str, float] = {}
    answered: list[float] = []
    statuses: Counter[int] = Counter()
    queue = iter(items)

    async def client(session: aiohttp.ClientSession) -> None:
        for item in queue:
            url = f"http://127.0.0.1:{port}/webhooks/{item.platform}"
            headers = {"Content-Type": "application/json", **item.headers}
            sent = time.time()
            async with session.post(url, data=item.body, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1
            done = time.time()
            if response.status == 200:
                posted[item.comment_id] = sent
            answered.append(done - sent)

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    started = time.time()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
    return {
        "posted": posted,
        "started": started,
        "ended": time.time(),
        "answer_seconds": answered,
        "statuses": dict(statuses),
    }


async def _settle(stand_ins: StandIns, quiet: float, timeout: float) -> None:
    """Until the sink has made no platform call for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(stand_ins.calls())
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.2)


def _decisions(out: Any) -> dict[str, tuple[float, dict[str, Any]]]:
    """comment id → (its first decision's CreateTime in s, the decision)."""
    found: dict[str, tuple[float, dict[str, Any]]] = {}
    for value, stamp in zip(out.values, out.stamps, strict=True):
        doc = orjson.loads(value or b"{}")
        cid = doc.get("comment_id")
        if isinstance(cid, str) and cid not in found:
            found[cid] = (stamp / 1000, doc)
    return found


async def _loop(bench: Bench, reporter: Reporter, count: int) -> dict[str, Any]:
    from benchmarks.bench_worker import setup

    await setup(bench)
    stand_ins = StandIns().start()
    try:
        return await _measure(bench, reporter, count, stand_ins)
    finally:
        stand_ins.stop()


async def _measure(
    bench: Bench, reporter: Reporter, count: int, stand_ins: StandIns
) -> dict[str, Any]:
    import os

    items = deliveries(sample(), count, stand_ins.accounts)
    employees = {f"{d.platform}:{d.author}" for d in items if d.employee}
    await publish_directory(bench.settings, employees)  # compliance's list, as the demo does
    reporter.step("loop: starting the worker, connect and sink")
    env = service_env(bench.bootstrap, None, **_platform_env(stand_ins))
    worker = WorkerProcess(env, bench.workdir / "worker")
    connect = ConnectProcess(env, bench.workdir / "connect")
    sink = SinkProcess(env, bench.workdir / "sink")
    children.extend([worker, connect, sink])  # stopped whatever happens
    await asyncio.to_thread(worker.start, 180)
    await asyncio.to_thread(connect.start)
    await asyncio.to_thread(sink.start)
    assert worker.process and connect.process and sink.process
    comment_tps = bench.tps(*bench.comment_topics)
    comments_before = await end_offsets(bench.settings, comment_tps)
    actions_before = await end_offsets(bench.settings, bench.tps(ACTIONS))
    decided_before = delivered(worker.samples() or {})
    pids = {
        "worker": worker.process.pid,
        "connect": connect.process.pid,
        "sink": sink.process.pid,
        "broker": bench.broker_pid,
        "clients_and_stand_ins": os.getpid(),
    }
    sampler = CpuSampler(pids)
    sampler.start()
    reporter.step(f"loop: {count:,} webhooks through connect, worker and sink")
    try:
        sent = await _post_all(connect.metrics_port, items)
        accepted = len(sent["posted"])
        await asyncio.to_thread(
            worker.wait_until, lambda s: delivered(s) >= decided_before + accepted, 300, 0.2
        )
        await _settle(stand_ins, quiet=3.0, timeout=300)
    finally:
        await sampler.stop()
    connect.stop()
    sink.stop()
    calls = stand_ins.calls()
    decisions = _decisions(await read_window(bench.settings, actions_before, values=True))
    ours = {cid: decisions[cid] for cid in sent["posted"] if cid in decisions}

    # Latency: POST → the first call naming the comment; and the two halves.
    first = first_calls(calls)
    by_target = {d.target: d.comment_id for d in items if d.target is not None}
    end_to_end, to_decision, to_call = [], [], []
    for target, at in first.items():
        cid = by_target.get(target)
        if cid is None or cid not in sent["posted"]:
            continue
        end_to_end.append(at - sent["posted"][cid])
        if cid in ours:
            to_decision.append(ours[cid][0] - sent["posted"][cid])
            to_call.append(at - ours[cid][0])
    acted = {cid for cid, (_, d) in ours.items() if set(d.get("actions") or []) - {"allow"}}
    stamps = [s for s, _ in ours.values()]
    call_times = [c.at for c in calls]
    window = (sent["started"], max([*call_times, *stamps, sent["ended"]]))
    loop = {
        "deliveries": count,
        "clients": CLIENTS,
        "statuses": sent["statuses"],
        "accepted": accepted,
        "deliveries_per_s": per_s(accepted, sent["started"], sent["ended"]),
        "answer": percentiles_ms(sent["answer_seconds"]),
        "decisions": len(ours),
        "decisions_per_s": per_s(len(ours), min(stamps), max(stamps)) if stamps else float("nan"),
        "decisions_needing_action": len(acted),
        "action_share": len(acted) / len(ours) if ours else float("nan"),
        "actions": dict(Counter(a for _, d in ours.values() for a in d.get("actions") or [])),
        "platform_calls": len(calls),
        "platform_calls_per_s": per_s(len(calls), min(call_times), max(call_times))
        if call_times
        else float("nan"),
        "calls_by_shape": dict(Counter(call_shape(c) for c in calls)),
        "comments_called_about": len(end_to_end),
        "latency_webhook_to_call": percentiles_ms(end_to_end),
        "latency_webhook_to_decision": percentiles_ms(to_decision),
        "latency_decision_to_call": percentiles_ms(to_call),
        "seconds_first_post_to_last_call": window[1] - window[0],
        "cpu_cores": {name: sampler.used(name, *window) / (window[1] - window[0]) for name in pids},
    }
    reporter.log(
        f"loop: {accepted:,} accepted at {loop['deliveries_per_s']:,.0f}/s, "
        f"{len(ours):,} decisions at {loop['decisions_per_s']:,.0f}/s "
        f"({len(acted):,} needing action), {len(calls):,} platform calls at "
        f"{loop['platform_calls_per_s']:,.0f}/s; webhook → call p50 "
        f"{loop['latency_webhook_to_call']['p50_ms']:.0f} ms, p99 "
        f"{loop['latency_webhook_to_call']['p99_ms']:.0f} ms"
    )

    # Baseline: the same comments straight onto their topics, the worker alone.
    reporter.step("loop: the same comments published straight, the worker alone")
    published = await read_window(bench.settings, comments_before, values=True)
    lines = alone_lines([orjson.loads(v or b"{}") for v in published.values], ALONE_MIN)
    before = await end_offsets(bench.settings, bench.tps(ACTIONS))
    decided = delivered(worker.samples() or {})
    started = time.time()
    summary = await publish_lines(bench.settings, lines)
    await asyncio.to_thread(
        worker.wait_until, lambda s: delivered(s) >= decided + len(lines), 300, 0.1
    )
    worker.stop()
    alone_out = await read_window(bench.settings, before, values=True)
    wanted = {orjson.loads(line)["id"] for line in lines}
    alone = [s for cid, (s, _) in _decisions(alone_out).items() if cid in wanted]
    worker_alone = {
        "comments": len(lines),
        "published_per_s": summary.rate,
        "decisions": len(alone),
        "decisions_per_s": per_s(len(alone), min(alone), max(alone)),
        "seconds_publish_start_to_last_decision": max(alone) - started,
    }
    reporter.log(
        f"worker alone: {len(alone):,} decisions at {worker_alone['decisions_per_s']:,.0f}/s"
    )
    curves = {
        "webhook → platform call": end_to_end,
        "webhook → decision": to_decision,
        "decision → platform call": to_call,
    }
    thinned = {label: thin_ms(values) for label, values in curves.items()}
    return {"loop": loop, "worker_alone": worker_alone, "latency_ms": thinned}


def run_loop(quick: bool, reporter: Reporter) -> dict[str, Any]:
    count = QUICK_COUNT if quick else LOOP_COUNT
    with local_bench(count, "loop", step=reporter.step) as bench:
        raw = asyncio.run(_loop(bench, reporter, count))
    curves = raw.pop("latency_ms")
    loop, alone = raw["loop"], raw["worker_alone"]
    ratios = {
        "loop.vs_worker_alone": ratio(
            loop["decisions_per_s"] / alone["decisions_per_s"],
            "decisions/s with webhooks in through connect and the sink calling the stand-ins "
            "÷ the worker alone on the same comments published straight, same run",
        )
    }
    notes = [
        f"{CLIENTS} HTTP clients, each waiting for the connector's answer (200 once the "
        "comment is on its topic): the latency is that of this load, not of an idle loop.",
        "Latency counts the comments a call names (hide, reply, private reply); blocks and "
        "direct messages name the author and count only in calls/s.",
    ]
    return {"ratios": ratios, "figures": raw, "series": {"latency": curves}, "notes": notes}
