"""The console's HTTP layer on a real SQLite file: sign-in, cookies, CSRF, the rate limit,
404 for what a role may not see, the security headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streamproc.review import (
    Accounts,
    Actions,
    Incoming,
    ReviewMetrics,
    ReviewSettings,
    Store,
    make_app,
    open_database,
)

PASSWORD = "correct horse battery"
# The client fixture runs in the session loop (the default fixture loop scope): so do the tests.
pytestmark = pytest.mark.asyncio(loop_scope="session")


def decision(comment_id: str, actions: list[str]) -> dict[str, Any]:
    return {
        "comment_id": comment_id, "channel": "facebook", "author_id": "u-7",
        "categories": ["insult"], "actions": actions,
        "matches": [{"category": "pii", "kind": "email", "start": 8, "end": 24, "rule": "email",
                     "confidence": "high", "severity": "low"}],
        "policy_version": "1", "reasons": [], "decided_at": "2026-12-01T10:00:00Z",
        "escalation": {"queue": "review", "urgent": False, "in_hours": True,
                       "review_after": "2026-12-01T10:00:00Z"},
        "reply": None,
    }  # fmt: skip


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    engine = open_database(f"sqlite:///{tmp_path / 'review.db'}")
    store = Store(engine)
    accounts = Accounts(engine, attempts=3)
    accounts.add("rita", "reviewer", PASSWORD)
    store.ingest(
        [
            Incoming("decision", decision("facebook:1", ["remove", "escalate"]), "a/0/1"),
            Incoming("decision", decision("facebook:2", ["remove", "notify_compliance"]), "a/0/2"),
            Incoming("comment", {"id": "facebook:1", "channel": "facebook",
                                 "author": {"id": "u-7", "name": "Maria Rossi"},
                                 "text": "scrivi a maria@example.org", "created_at": "x"}, "c/0/1"),
        ]
    )  # fmt: skip
    settings = ReviewSettings(secure_cookies=0)
    metrics = ReviewMetrics()
    app = make_app(settings, store, accounts, Actions(engine, store), metrics)
    async with TestClient(TestServer(app)) as test_client:
        test_client.metrics = metrics  # type: ignore[attr-defined]
        yield test_client
    engine.dispose()


async def sign_in(client: TestClient[Any, Any], password: str = PASSWORD) -> Any:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf is not None
    data = {"csrf": csrf.group(1), "name": "rita", "password": password}
    return await client.post("/login", data=data, allow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_sign_in_sets_a_strict_session_cookie(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/queue/now", allow_redirects=False)).status == 303
    assert (await client.get("/api/v1/queues")).status == 401
    response = await sign_in(client)
    assert response.status == 303
    cookie = response.cookies["streamproc_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    page = await client.get("/queue/now")
    assert page.status == 200
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert (await client.get("/api/v1/queues")).status == 200


async def test_a_post_without_the_csrf_token_is_refused(client: TestClient[Any, Any]) -> None:
    # Sign-in itself needs the token of its page.
    refused = await client.post("/login", data={"name": "rita", "password": PASSWORD})
    assert refused.status == 403
    await sign_in(client)
    assert (await client.post("/case/1/overturn", data={})).status == 403
    assert (await client.post("/case/1/overturn", data={"csrf": "forged"})).status == 403
    page = await client.get("/case/1")
    done = await client.post("/case/1/overturn", data={"csrf": csrf_of(await page.text())})
    assert done.status == 200 and "overturned" in await done.text()
    registry = client.metrics.registry  # type: ignore[attr-defined]
    labels = {"rule": "email", "result": "overturned"}
    assert registry.get_sample_value("streamproc_review_reviewed_rules_total", labels) == 1


async def test_personal_data_is_masked_and_employees_cases_do_not_exist(
    client: TestClient[Any, Any],
) -> None:
    await sign_in(client)
    page = await (await client.get("/case/1")).text()
    assert "maria@example.org" not in page and "Maria Rossi" not in page
    assert "[email]" in page
    assert (await client.get("/case/2")).status == 404  # the employee's (notify_compliance)
    assert (await client.get("/case/99")).status == 404
    assert (await client.get("/case/x")).status == 404
    assert (await client.get("/queue/compliance")).status == 404
    reveal = await client.post("/case/1/reveal", data={"csrf": csrf_of(page)})
    assert reveal.status == 403  # a reviewer may not reveal


async def test_failed_sign_ins_are_rate_limited(client: TestClient[Any, Any]) -> None:
    for _ in range(3):
        assert (await sign_in(client, "wrong password")).status == 401
    assert (await sign_in(client)).status == 429
