"""The out-of-hours webhook against a real local HTTP server, on SQLite and PostgreSQL: an
urgent case outside hours is announced once (signed, without text or author), a failed delivery
is retried and still announced once, in-hours and closed cases are not."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from sqlalchemy import Engine, select, update

from streamproc.review import Actions, Incoming, ReviewSettings, Store
from streamproc.review._notify import UrgentNotifier
from streamproc.review._records import utcnow
from streamproc.review._schema import audit, cases, notifications
from tests.unit.test_review_store import REVIEWER, comment, decision, engine

__all__ = ["engine"]

# The receiver fixture serves on the session's loop: the tests must run on it too.
on_session_loop = pytest.mark.asyncio(loop_scope="session")

SECRET = "on-call-webhook-key"
OUT_OF_HOURS = {"queue": "urgent", "urgent": True, "in_hours": False,
                "review_after": "2026-12-05T22:00:00+01:00"}  # fmt: skip


class Receiver:
    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.fail = 0  # answer 503 this many times first

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail:
            self.fail -= 1
            return web.Response(status=503)
        self.deliveries.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield target, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


def _ingest(store: Store, comment_id: str, escalation: dict[str, Any]) -> int:
    doc = decision(comment_id, escalation=escalation, categories=["threat"])
    store.ingest(
        [Incoming("decision", doc, "a/0/1"), Incoming("comment", comment(comment_id), "c")]
    )
    case = next(c for c in store.cases_in("all", "reviewer") if c["comment_id"] == comment_id)
    return int(case["id"])


def _wake(engine: Engine) -> None:
    """The retry pause, elapsed."""
    with engine.begin() as connection:
        connection.execute(update(notifications).values(next_at=utcnow() - timedelta(seconds=1)))


@on_session_loop
async def test_an_urgent_case_outside_hours_is_announced_once(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    target, url = receiver
    store = Store(engine)
    urgent = _ingest(store, "facebook:1", OUT_OF_HOURS)
    _ingest(store, "facebook:2", {**OUT_OF_HOURS, "queue": "review", "in_hours": True})
    closed = _ingest(store, "facebook:3", OUT_OF_HOURS)
    Actions(engine, store).confirm(REVIEWER, closed, "handled")
    notifier = UrgentNotifier(engine, url, "https://review.example.org/", SECRET)

    target.fail = 1
    async with aiohttp.ClientSession() as session:
        assert await notifier.run_once(session) == 0  # 503: kept for a retry
        assert await notifier.run_once(session) == 0  # not before its pause
        _wake(engine)
        assert await notifier.run_once(session) == 1
        _wake(engine)
        assert await notifier.run_once(session) == 0  # once per case
        # Another console replica (a second notifier on the same database) does not repeat it.
        other = UrgentNotifier(engine, url, "https://review.example.org", SECRET)
        assert await other.run_once(session) == 0

    [(headers, body)] = target.deliveries
    payload = orjson.loads(body)
    assert payload["case_id"] == urgent and payload["categories"] == ["threat"]
    assert payload["case_url"] == f"https://review.example.org/case/{urgent}"
    assert "Urgent case outside moderation hours: threat on facebook" in payload["text"]
    for secret in ("Maria Rossi", "maria@example.org", "u-1", "idiot"):
        assert secret not in body.decode()
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Streamproc-Signature"] == f"sha256={expected}"
    assert headers["X-Streamproc-Delivery"] == f"urgent-case-{urgent}"
    with engine.connect() as connection:
        row = connection.execute(select(notifications)).one()
        notified = [r for r in connection.execute(select(audit)) if r.action == "notified"]
    assert (row.case_id, row.attempts, row.last_result) == (urgent, 2, "sent")
    assert [r.case_id for r in notified] == [urgent]


@on_session_loop
async def test_an_unreachable_webhook_never_raises_and_stale_cases_do_not_page(
    engine: Engine,
) -> None:
    store = Store(engine)
    _ingest(store, "facebook:9", OUT_OF_HOURS)
    notifier = UrgentNotifier(engine, "http://127.0.0.1:9/hook", "http://x")  # nothing listens
    async with aiohttp.ClientSession() as session:
        assert await notifier.run_once(session) == 0
    with engine.connect() as connection:
        assert connection.execute(select(notifications.c.last_result)).scalar() is not None
    # A case first seen more than a day after it arrived is the queue's, not the pager's.
    old = _ingest(store, "facebook:10", OUT_OF_HOURS)
    with engine.begin() as connection:
        connection.execute(
            update(cases).where(cases.c.id == old).values(created_at=utcnow() - timedelta(days=2))
        )
    assert old not in [c["id"] for c in notifier.due()]


def test_the_webhook_secret_stays_out_of_the_settings_repr() -> None:
    settings = ReviewSettings.from_env(
        {
            "STREAMPROC_REVIEW_URGENT_WEBHOOK": "https://hooks.example.org/x",
            "STREAMPROC_REVIEW_WEBHOOK_SECRET": SECRET,
        }
    )
    assert settings.webhook_secret == SECRET and SECRET not in repr(settings)
    assert settings.public_url == "http://127.0.0.1:8470"
    # Behind a proxy: the public address the appeal links use serves the webhook's links too.
    public = {"STREAMPROC_APPEAL_BASE_URL": "https://review.example.org/"}
    assert ReviewSettings.from_env(public).public_url == "https://review.example.org"
