"""Health and readiness, and the small HTTP endpoint that serves them beside ``/metrics``.

``/healthz`` answers 200 while the service's event loop is alive (a heartbeat it beats at least
every few seconds), 503 once it has been silent for ``stale_after`` seconds: a stuck loop is
for the orchestrator to restart. ``/readyz`` answers 200 once the service says it is ready
(the worker: policy loaded and its first partition assignment recovered), 503 before, with the
reason in the body. Everything else is the Prometheus exposition of ``registry``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

__all__ = ["Health", "serve_http"]


class Health:
    """Liveness and readiness of one service; thread-safe (the endpoint runs in a thread)."""

    def __init__(self, stale_after: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.stale_after = stale_after
        self.clock = clock
        self._beat = clock()
        self._not_ready = "starting"
        self._lock = threading.Lock()

    def beat(self) -> None:
        with self._lock:
            self._beat = self.clock()

    def ready(self) -> None:
        with self._lock:
            self._not_ready = ""

    def not_ready(self, reason: str) -> None:
        with self._lock:
            self._not_ready = reason

    def liveness(self) -> tuple[bool, str]:
        with self._lock:
            silent = self.clock() - self._beat
        if silent > self.stale_after:
            return False, f"event loop silent for {silent:.0f} s"
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        with self._lock:
            reason = self._not_ready
        return (not reason), (reason or "ready")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes: no log
        pass


def serve_http(
    port: int, address: str, registry: CollectorRegistry, health: Health
) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``address:port`` from a thread."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in ("/healthz", "/readyz"):
            ok, text = health.liveness() if path == "/healthz" else health.readiness()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [text.encode() + b"\n"]
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    server = make_server(address, port, app, _Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="streamproc-http", daemon=True)
    thread.start()
    return server, thread
