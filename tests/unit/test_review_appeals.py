"""Appeals from the public link and statements of reasons.

The service layer on a real SQLite file and a real PostgreSQL server (one open appeal per case,
the shared rate limit, answers through the outbox, the audit trail); the HTTP layer on SQLite
(every status code of the appeal page, the JSON API, the metrics)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine, select

from streamproc._appeal import AppealSettings, appeal_link, make_token
from streamproc.review import (
    Accounts,
    ActionError,
    Actions,
    Incoming,
    ReviewMetrics,
    ReviewSettings,
    Store,
    make_app,
    open_database,
)
from streamproc.review._appeals import Appeals, NoSuchDecision
from streamproc.review._schema import appeals, audit, outbox

SECRET = "the appeal secret of the tests, 32+ chars"
SETTINGS = AppealSettings(secret=SECRET, base_url="https://review.example.org", attempts=3)
DECIDED = "2026-12-01T10:00:00.000+00:00"
PASSWORD = "correct horse battery"
REVIEWER = {"name": "rita", "role": "reviewer"}


def decision(comment_id: str = "facebook:1", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "comment_id": comment_id, "channel": "facebook", "author_id": "u-1",
        "categories": ["insult", "pii"], "actions": ["remove", "warn"],
        "matches": [
            {"category": "insult", "start": 0, "end": 5, "rule": "insult.en.idiot",
             "confidence": "high", "severity": "medium"},
            {"category": "pii", "kind": "email", "start": 16, "end": 33, "rule": "pii.email",
             "confidence": "high", "severity": "high"}],
        "policy_version": "2026.1", "reasons": ["insult: Respect (clause 3)"],
        "decided_at": DECIDED, "escalation": None, "reply": "Warning", "version": 1,
        "platform": {"comment_id": "1", "user_id": "9"},
    }  # fmt: skip
    doc.update(changes)
    return doc


COMMENT = {
    "id": "facebook:1", "channel": "facebook", "author": {"id": "u-1", "name": "Maria Rossi"},
    "text": "idiot, write to maria@example.org", "created_at": "2026-12-01T09:59:00Z",
}  # fmt: skip


def token(comment_id: str = "facebook:1", version: int = 1) -> str:
    link = appeal_link(SETTINGS, decision(comment_id, version=version))
    assert link is not None
    return link.rsplit("/", 1)[1]


@pytest.fixture
def engine(review_database: str) -> Iterator[Engine]:
    engine = open_database(review_database)
    Store(engine).ingest(
        [
            Incoming("decision", decision(), "a/0/1"),
            Incoming("comment", COMMENT, "c/0/1"),
            Incoming("decision", decision("facebook:2", author_id="u-2"), "a/0/2"),
        ]
    )
    yield engine
    engine.dispose()


def rows(engine: Engine, table: Any) -> list[Any]:
    first = next(iter(table.c))
    with engine.connect() as connection:
        return list(connection.execute(select(table).order_by(first)))


def test_an_appeal_is_stored_once_and_waits_for_a_person(engine: Engine) -> None:
    store = Store(engine)
    service = Appeals(engine, store, SETTINGS)
    first, created = service.receive(token(), "I was quoting someone", "192.0.2.1")
    assert created and first["status"] == "open" and first["origin"] == "public"
    again, created = service.receive(token(), "again, reworded", "192.0.2.1")
    assert not created and again["id"] == first["id"]
    assert len(rows(engine, appeals)) == 1
    assert [c["id"] for c in store.cases_in("appeals", "reviewer")] == [first["case_id"]]
    # Nothing decides it automatically: no review record until a person answers.
    assert rows(engine, outbox) == []
    received = [a for a in rows(engine, audit) if a.action == "appeal_received"]
    assert [(a.actor, a.case_id) for a in received] == [("author (appeal link)", 1)]
    # The console cannot record a second open appeal for the case either.
    with pytest.raises(ActionError, match="already has an open appeal"):
        Actions(engine, store).record_appeal(REVIEWER, first["case_id"], "by hand")


def test_an_upheld_appeal_reinstates_and_answers_through_the_sink(engine: Engine) -> None:
    store = Store(engine)
    service = Appeals(engine, store, SETTINGS)
    appeal, _ = service.receive(token(), "It was a quote", "192.0.2.1")
    Actions(engine, store).answer_appeal(REVIEWER, appeal["id"], True, "You are right.")
    records = sorted((r.payload for r in rows(engine, outbox)), key=lambda r: r["action"])
    assert [(r["action"], r["overturned"]) for r in records] == [
        ("reinstate", True),
        ("reply", False),
    ]
    assert records[1]["text"] == "You are right."
    assert store.case(appeal["case_id"], "reviewer")["status"] == "overturned"  # type: ignore[index]
    answered = service.get(appeal["id"], "reviewer")
    assert answered is not None and answered["status"] == "upheld"
    # A repeat of the answered appeal (same decision version) is not a new one.
    repeat, created = service.receive(token(), "once more", "192.0.2.1")
    assert not created and repeat["id"] == appeal["id"]
    statement = service.statement(appeal["case_id"], "reviewer")
    assert statement is not None
    assert statement["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert statement["reviewed_by"] == ["rita"]


def test_the_rate_limit_is_per_address_and_in_the_database(engine: Engine) -> None:
    # Two services on one database: replicas share the limit.
    one = Appeals(engine, Store(engine), SETTINGS)
    two = Appeals(engine, Store(engine), SETTINGS)
    for service in (one, two, one):
        with pytest.raises(ActionError) as empty:
            service.receive(token(), "  ", "198.51.100.7")
        assert empty.value.status == 400
    with pytest.raises(ActionError) as limited:
        two.receive(token(), "a real statement", "198.51.100.7")
    assert limited.value.status == 429
    _, created = two.receive(token(), "a real statement", "198.51.100.8")
    assert created
    with pytest.raises(ActionError) as long:
        one.receive(token("facebook:2"), "x" * 2001, "198.51.100.9")
    assert long.value.status == 413


def test_the_statement_of_reasons_masks_personal_data(engine: Engine) -> None:
    service = Appeals(engine, Store(engine), SETTINGS)
    statement = service.statement(1, "reviewer")
    assert statement is not None
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert statement["decision_account"] == []
    assert statement["automated_detection"] is True
    assert statement["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert [f["matched"] for f in statement["facts"]] == ["idiot", "[email]"]
    assert statement["policy_version"] == "2026.1"
    assert statement["appeal_url"] == f"https://review.example.org/appeal/{token()}"
    encoded = orjson.dumps(statement).decode()
    assert "maria@example.org" not in encoded and "Maria" not in encoded and "u-1" not in encoded
    _, _, public = service.open(token())
    assert "reviewed_by" not in public
    with pytest.raises(NoSuchDecision):
        service.open(token("facebook:404"))


# --- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    engine = open_database(f"sqlite:///{tmp_path / 'review.db'}")
    store = Store(engine)
    accounts = Accounts(engine)
    accounts.add("rita", "reviewer", PASSWORD)
    store.ingest([Incoming("decision", decision(), "a/0/1"), Incoming("comment", COMMENT, "c")])
    appeal = AppealSettings(secret=SECRET, base_url="https://review.example.org", attempts=4)
    settings = ReviewSettings(secure_cookies=0, appeal=appeal)
    metrics = ReviewMetrics()
    app = make_app(settings, store, accounts, Actions(engine, store), metrics)
    async with TestClient(TestServer(app)) as test_client:
        test_client.metrics = metrics  # type: ignore[attr-defined]
        yield test_client
    engine.dispose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def received(client: TestClient[Any, Any], result: str) -> float | None:
    registry = client.metrics.registry  # type: ignore[attr-defined]
    return registry.get_sample_value(  # type: ignore[no-any-return]
        "streamproc_review_appeals_received_total", {"result": result}
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_the_appeal_page_answers_each_case_with_its_status(
    client: TestClient[Any, Any],
) -> None:
    path = f"/appeal/{token()}"
    page = await client.get(path)
    assert page.status == 200
    html = await page.text()
    assert "Statement of reasons" in html and "[email]" in html
    assert "maria@example.org" not in html and "Maria" not in html
    csrf = csrf_of(html)
    assert (await client.get(f"/appeal/{token()[:-2]}xx")).status == 404
    old = make_token(SECRET, "facebook:1", 1, 1_000_000_000)  # 2001: long expired
    assert (await client.get(f"/appeal/{old}")).status == 410
    assert (await client.post(path, data={"statement": "no token"})).status == 403
    assert (await client.post(path, data={"csrf": "forged", "statement": "x"})).status == 403
    assert (await client.post(path, data={"csrf": csrf, "statement": " "})).status == 400
    too_long = await client.post(path, data={"csrf": csrf, "statement": "x" * 2001})
    assert too_long.status == 413
    body = await client.post(path, data={"csrf": csrf, "statement": "x" * 20_000})
    assert body.status == 413  # over the 16 KiB body limit
    first = await client.post(path, data={"csrf": csrf, "statement": "It was a quote."})
    assert first.status == 201 and "received" in await first.text()
    again = await client.post(path, data={"csrf": csrf, "statement": "It was a quote."})
    assert again.status == 200
    # 10 per hour by default; this test's settings allow 4 per address, all used now.
    assert (await client.post(path, data={"csrf": csrf, "statement": "more"})).status == 429
    for result, count in (("accepted", 1), ("duplicate", 1), ("csrf", 2), ("forged", 1),
                          ("expired", 1), ("invalid", 1), ("rate_limited", 1)):  # fmt: skip
        assert received(client, result) == count, result
    assert (received(client, "too_long") or 0) >= 2


@pytest.mark.asyncio(loop_scope="session")
async def test_the_api_lists_shows_and_answers_appeals(client: TestClient[Any, Any]) -> None:
    page = await client.get(f"/appeal/{token()}")
    csrf = csrf_of(await page.text())
    await client.post(f"/appeal/{token()}", data={"csrf": csrf, "statement": "A quote."})
    assert (await client.get("/api/v1/appeals")).status == 401
    login = await client.get("/login")
    await client.post(
        "/login", data={"csrf": csrf_of(await login.text()), "name": "rita", "password": PASSWORD}
    )
    listing = await (await client.get("/api/v1/appeals?status=open")).json()
    [appeal] = listing["appeals"]
    assert appeal["statement"] == "A quote." and appeal["origin"] == "public"
    shown = await (await client.get(f"/api/v1/appeals/{appeal['id']}")).json()
    assert shown["statement_of_reasons"]["case_id"] == appeal["case_id"]
    assert (await client.get("/api/v1/appeals/99")).status == 404
    assert (await client.get("/api/v1/appeals/x")).status == 404
    statement = await client.get(f"/api/v1/cases/{appeal['case_id']}/statement")
    assert (await statement.json())["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert (await client.get("/api/v1/cases/99/statement")).status == 404
    case_page = await (await client.get(f"/case/{appeal['case_id']}")).text()
    assert 'id="statement"' in case_page
    session_csrf = csrf_of(case_page)
    answer = f"/api/v1/appeals/{appeal['id']}/answer"
    verdict = {"decision": "uphold", "answer": "You are right: reinstated."}
    assert (await client.post(answer, json=verdict)).status == 403
    headers = {"X-CSRF-Token": session_csrf}
    bad = await client.post(answer, json={"decision": "maybe"}, headers=headers)
    assert bad.status == 400
    empty = await client.post(answer, json={"decision": "uphold", "answer": ""}, headers=headers)
    assert empty.status == 400
    done = await client.post(answer, json=verdict, headers=headers)
    assert done.status == 200
    result = await done.json()
    assert result["appeal"]["status"] == "upheld" and len(result["review_ids"]) == 2
    assert (await client.post(answer, json=verdict, headers=headers)).status == 409
    registry = client.metrics.registry  # type: ignore[attr-defined]
    decided = {"outcome": "upheld"}
    assert registry.get_sample_value("streamproc_review_appeals_decided_total", decided) == 1
    assert registry.get_sample_value("streamproc_review_appeals_open") == 0
