"""One local HTTP server for every platform stand-in, run in a thread of its own.

Mounted under ``/graph`` (Facebook and Instagram), ``/x``, ``/youtube`` and ``/linkedin``;
:meth:`StandIns.env` gives the ``STREAMPROC_*`` variables that point ``connect`` and ``sink``
at it. Every request is recorded; :meth:`StandIns.fail` and :meth:`StandIns.hold` make it
answer with an error (a 429 and its ``Retry-After``...) or hold its answer for a while after
doing what was asked (to stop a sink between a call and its outcome).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from typing import Any

import orjson
from aiohttp import web

from streamproc.local._process import free_port
from streamproc.local.platforms._accounts import Accounts
from streamproc.local.platforms._graph import graph_api
from streamproc.local.platforms._others import linkedin_api, x_api, youtube_api
from streamproc.local.platforms._state import Call, Fault, PlatformState

__all__ = ["StandIns"]


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(await request.post())
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


class StandIns:
    def __init__(self, accounts: Accounts | None = None, port: int | None = None) -> None:
        self.accounts = accounts or Accounts()
        self.state = PlatformState()
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # --- life ------------------------------------------------------------------------------

    def start(self) -> StandIns:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._start())
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="platform-stand-ins", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the platform stand-ins did not start")
        return self

    async def _start(self) -> None:
        app = web.Application()
        for prefix, handler in (
            ("graph", graph_api),
            ("x", x_api),
            ("youtube", youtube_api),
            ("linkedin", linkedin_api),
        ):
            app.router.add_route("*", f"/{prefix}{{tail:/.*}}", self._handler(prefix, handler))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> StandIns:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self, platform: str, api: Any) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = Call(
                platform,
                request.method,
                request.match_info["tail"],
                dict(request.query),
                await _body(request),
                time.time(),
            )
            self.state.record(call)
            fault = self.state.fault_for(platform, call.method, call.path)
            if fault is not None and fault.status:
                body = orjson.dumps(fault.body) if fault.body is not None else b""
                return web.Response(
                    status=fault.status,
                    body=body,
                    headers={"Content-Type": "application/json", **fault.headers},
                )
            response: web.StreamResponse
            if platform == "graph":
                response = api(call, self.state, self.accounts)
            else:
                response = api(call, self.state, self.accounts, request.headers)
            if fault is not None and fault.hold:
                await asyncio.sleep(fault.hold)
            return response

        return handle

    # --- for tests and the demo -------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return self.accounts.env(self.base_url)

    def fail(
        self,
        platform: str,
        method: str,
        path: str,
        status: int,
        *,
        count: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``count`` requests matching (``path`` is a regex) with ``status``."""
        with self.state.lock:
            self.state.faults.append(
                Fault(platform, method, re.compile(path), count, status, headers or {}, body)
            )

    def hold(self, platform: str, method: str, path: str, seconds: float, count: int = 1) -> None:
        """Do what the next matching request asks, then wait ``seconds`` before answering."""
        with self.state.lock:
            self.state.faults.append(Fault(platform, method, re.compile(path), count, hold=seconds))

    def calls(self, platform: str | None = None, method: str | None = None) -> list[Call]:
        return [c for c in self.state.calls_of(platform) if method is None or c.method == method]

    def sent(self, platform: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            return [
                dict(s) for s in self.state.sent if platform is None or s["platform"] == platform
            ]

    def is_hidden(self, platform: str, comment_id: str) -> bool:
        with self.state.lock:
            return self.state.hidden.get((platform, comment_id), False)

    def is_banned(self, platform: str, user_id: str) -> bool:
        with self.state.lock:
            return (platform, user_id) in self.state.banned

    def add_youtube_comment(self, resource: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.youtube_comments.append(resource)

    def add_linkedin_comment(self, post: str, comment: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.linkedin_posts.setdefault(post, []).append(comment)
