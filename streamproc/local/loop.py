"""The demo's loop with the platforms: the sample comments enter through ``streamproc
connect`` as the platforms deliver them (signed webhooks for Facebook, Instagram and X; the
YouTube and LinkedIn stand-ins polled), the worker decides them, ``streamproc sink`` carries
the decisions out on the stand-ins, and the calls it made are printed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from streamproc.connect import publish_directory
from streamproc.kafka import KafkaSettings
from streamproc.local._process import free_port
from streamproc.local.platforms import (
    StandIns,
    deliver,
    facebook_comment,
    facebook_message,
    instagram_comment,
    linkedin_comment,
    sign,
    twitter_message,
    twitter_reply,
    youtube_comment,
)

__all__ = ["PlatformLoop"]

Follow = Callable[..., Any]


class _Service:
    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        key = "STREAMPROC_CONNECT_PORT" if command == "connect" else "STREAMPROC_SINK_METRICS_PORT"
        self.env = {**env, key: str(self.port)}
        self.command = command
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamproc", self.command],
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.command} was not ready in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def _zulu(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%dT%H:%M:%SZ")


class PlatformLoop:
    """Start with :meth:`start`, :meth:`replay` the sample, :meth:`stop`."""

    def __init__(self, settings: KafkaSettings, env: dict[str, str], data_dir: Path) -> None:
        self.settings = settings
        self.stand_ins = StandIns()
        self.env = {
            **env,
            **self.stand_ins.env(),
            "STREAMPROC_YOUTUBE_POLL_SECONDS": "1",
            "STREAMPROC_YOUTUBE_DAILY_QUOTA": "1000000",
            "STREAMPROC_LINKEDIN_POLL_SECONDS": "1",
        }
        self.data_dir = data_dir
        self.connect = _Service("connect", self.env, data_dir / "connect.log")
        self.sink = _Service("sink", self.env, data_dir / "sink.log")

    def start(self, sample: list[bytes]) -> None:
        self.stand_ins.start()
        employees = set()
        for line in sample:
            c = orjson.loads(line)
            if c["author"].get("role") == "employee":
                employees.add(f"{c['channel']}:{c['author']['id']}")
        # Compliance's directory: the connector marks these accounts' comments as employees'.
        asyncio.run(publish_directory(self.settings, employees))
        self.connect.start()
        self.sink.start()

    def stop(self) -> None:
        self.connect.stop()
        self.sink.stop()
        self.stand_ins.stop()

    def _event(self, n: int, c: dict[str, Any]) -> tuple[str, str] | None:
        """Deliver (or list, for the polled platforms) one sample comment; its comment id."""
        a, s = self.stand_ins.accounts, self.stand_ins
        channel, kind, text, at = c["channel"], c.get("kind"), c["text"], c["created_at"]
        user, name, post = c["author"]["id"], c["author"].get("name"), c.get("post_id") or "p"
        body: bytes | None = None
        if channel in ("facebook", "instagram") and kind == "private_message":
            mid = f"m_{n:08d}"
            obj = "page" if channel == "facebook" else "instagram"
            body = facebook_message(a, obj=obj, mid=mid, user_id=user, text=text, created_at=at)
            cid = f"{channel}:{mid}"
        elif channel == "facebook":
            comment = f"{post.rsplit('_', 1)[-1]}_{n:08d}"
            body = facebook_comment(
                a,
                comment_id=comment,
                post_id=post.rsplit("_", 1)[-1],
                user_id=user,
                name=name,
                text=text,
                created_at=at,
            )
            cid = f"facebook:{comment}"
        elif channel == "instagram":
            comment = f"1790{n:010d}"
            body = instagram_comment(
                a,
                comment_id=comment,
                media_id=post,
                user_id=user,
                username=name,
                text=text,
                created_at=at,
            )
            cid = f"instagram:{comment}"
        elif channel == "twitter" and kind == "private_message":
            dm = f"95{n:010d}"
            body = twitter_message(a, message_id=dm, user_id=user, text=text, created_at=at)
            cid = f"twitter:{dm}"
        elif channel == "twitter":
            tweet = f"199{n:010d}"
            body = twitter_reply(
                a,
                tweet_id=tweet,
                in_reply_to=post if post.isdigit() else "1",
                user_id=user,
                name=name,
                text=text,
                created_at=at,
            )
            cid = f"twitter:{tweet}"
        elif channel == "youtube":
            comment = f"Ugz{n:08d}"
            s.add_youtube_comment(
                youtube_comment(
                    comment_id=comment,
                    video_id=post,
                    user_id=user,
                    name=name,
                    text=text,
                    published=_zulu(at),
                )
            )
            return cid_pair(c, f"youtube:{comment}")
        elif channel == "linkedin":
            activity = post if post.startswith("urn:li:") else "urn:li:activity:1"
            ms = int(datetime.fromisoformat(at).timestamp() * 1000)
            s.add_linkedin_comment(
                activity,
                linkedin_comment(
                    activity=activity, comment_id=f"{n}", actor=user, text=text, created_ms=ms
                ),
            )
            return cid_pair(c, f"linkedin:urn:li:comment:({activity},{n})")
        else:
            return None
        platform = "twitter" if channel == "twitter" else channel
        url = f"http://127.0.0.1:{self.connect.port}/webhooks/{platform}"
        status = deliver(url, body, sign(platform, a, body))
        if status != 200:
            raise RuntimeError(f"the connector answered {status} to a {channel} delivery")
        return cid_pair(c, cid)

    def replay(
        self, console: Console, sample: list[bytes], follow: Follow
    ) -> dict[str, dict[str, Any]]:
        """Every sample comment through its platform; the decisions, keyed by sample id."""
        ids: dict[str, str] = {}
        for n, line in enumerate(sample, start=1):
            pair = self._event(n, orjson.loads(line))
            if pair is not None:
                ids[pair[1]] = pair[0]
        decisions: dict[str, dict[str, Any]] = {}
        with Progress(
            TextColumn("[bold]sample via the platforms"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("decisions"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("sample", total=len(ids))
            found = follow(set(ids), lambda n: progress.update(task, completed=n))
        for comment_id, decision in found.items():
            decisions[ids[comment_id]] = {**decision, "comment_id": ids[comment_id]}
        self._settle()
        return decisions

    def _settle(self, quiet: float = 2.0, timeout: float = 60.0) -> None:
        """Until the sink has made no call for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.stand_ins.calls())
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.2)

    def print_calls(self, console: Console) -> None:
        writes = [c for c in self.stand_ins.calls() if c.method != "GET" or "search" in c.path]
        shapes: Counter[tuple[str, str]] = Counter()
        for call in writes:
            path = "/".join(
                "{id}" if re.search(r"\d", part) and part not in ("2", "v3") else part
                for part in call.path.split("/")
            )
            shapes[(call.platform, f"{call.method} {path}")] += 1
        table = Table(title="Platform calls the sink made (local stand-ins)")
        table.add_column("platform")
        table.add_column("call")
        table.add_column("count", justify="right")
        names = {
            "graph": "facebook + instagram (Graph API)",
            "x": "x",
            "youtube": "youtube",
            "linkedin": "linkedin",
        }
        for (platform, shape), count in sorted(shapes.items()):
            table.add_row(names.get(platform, platform), shape, str(count))
        console.print(table)
        sent = self.stand_ins.sent()
        hidden = sum(1 for v in self.stand_ins.state.hidden.values() if v)
        console.print(
            f"On the platforms: {hidden} comments hidden, {len(self.stand_ins.state.deleted)} "
            f"deleted, {len(self.stand_ins.state.banned)} authors blocked, {len(sent)} replies "
            f"and messages sent (each once); see moderation.outcomes for every action."
        )


def cid_pair(comment: dict[str, Any], comment_id: str) -> tuple[str, str]:
    return comment["id"], comment_id
