"""The cases' JSON API, bulk confirmation and evidence packs over HTTP, on a real SQLite file:
CSRF on every write, masked personal data, 4xx for what is unknown or not allowed, claims
respected, every download audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

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
from streamproc.review._schema import audit, outbox
from tests.unit.test_review_web import PASSWORD, csrf_of, decision

pytestmark = pytest.mark.asyncio(loop_scope="session")


def threat(comment_id: str) -> dict[str, Any]:
    doc = decision(comment_id, ["remove", "block", "report_platform", "escalate"])
    doc["categories"] = ["threat", "pii"]
    doc["matches"] = [  # in "uccido maria@example.org"
        {"category": "threat", "start": 0, "end": 6, "rule": "threat.it.uccido",
         "confidence": "high", "severity": "high"},
        {"category": "pii", "kind": "email", "start": 7, "end": 24, "rule": "email",
         "confidence": "high", "severity": "low"},
    ]  # fmt: skip
    doc["platform"] = {"comment_id": comment_id.split(":")[1], "user_id": "4711"}
    return doc


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], Any]]:
    engine = open_database(f"sqlite:///{tmp_path / 'review.db'}")
    store = Store(engine)
    accounts = Accounts(engine, attempts=3)
    accounts.add("rita", "reviewer", PASSWORD)
    accounts.add("anna", "reviewer", PASSWORD)
    accounts.add("carlo", "compliance", PASSWORD)
    store.ingest(
        [
            Incoming("decision", threat("facebook:1"), "a/0/1"),
            Incoming("comment", {"id": "facebook:1", "channel": "facebook",
                                 "author": {"id": "u-7", "name": "Maria Rossi"},
                                 "text": "uccido maria@example.org", "created_at": "t"}, "c/0/1"),
            Incoming("decision", decision("facebook:2", ["remove", "escalate"]), "a/0/2"),
            Incoming("decision", decision("facebook:3", ["remove", "escalate"]), "a/0/3"),
            Incoming("decision", decision("facebook:4", ["remove", "notify_compliance"]), "a/0/4"),
        ]
    )  # fmt: skip
    metrics = ReviewMetrics()
    app = make_app(ReviewSettings(secure_cookies=0), store, accounts, Actions(engine, store),
                   metrics)  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        client.metrics = metrics  # type: ignore[attr-defined]
        yield client, engine
    engine.dispose()


async def signed_in(client: TestClient[Any, Any], name: str = "rita") -> str:
    """Sign ``name`` in (the client's cookie jar keeps the session); the session's CSRF token."""
    client.session.cookie_jar.clear()
    page = await client.get("/login")
    data = {"csrf": csrf_of(await page.text()), "name": name, "password": PASSWORD}
    await client.post("/login", data=data, allow_redirects=False)
    return csrf_of(await (await client.get("/queue/all")).text())


async def test_the_api_lists_and_shows_cases_with_personal_data_masked(
    api: tuple[TestClient[Any, Any], Any],
) -> None:
    client, _ = api
    assert (await client.get("/api/v1/cases/1")).status == 401
    await signed_in(client)
    listing = await (await client.get("/api/v1/queues/all/cases")).json()
    assert [c["comment_id"] for c in listing["cases"]] == ["facebook:1", "facebook:2", "facebook:3"]
    assert all("text" not in c and c["author"].startswith("author-") for c in listing["cases"])
    reports = await (await client.get("/api/v1/queues/reports/cases")).json()
    assert [c["id"] for c in reports["cases"]] == [1]
    case = await (await client.get("/api/v1/cases/1")).json()
    assert case["text"] == "uccido [email]" and case["author_id"] is None
    # The author's ids name them as surely as their name: masked in the decision too.
    assert "author_id" not in case["decision"] and "user_id" not in case["decision"]["platform"]
    assert case["decision"]["platform"] == {"comment_id": "1"}
    assert case["categories"] == ["threat", "pii"]
    # Unknown, not visible (an employee's case for a reviewer) and unknown queues: 404.
    for path in ("/api/v1/cases/99", "/api/v1/cases/4", "/api/v1/queues/nope/cases"):
        assert (await client.get(path)).status == 404, path


async def test_api_actions_need_the_csrf_header_and_publish_an_overturn(
    api: tuple[TestClient[Any, Any], Any],
) -> None:
    client, engine = api
    csrf = await signed_in(client)
    assert (await client.post("/api/v1/cases/2/confirm", json={})).status == 403
    headers = {"X-CSRF-Token": csrf}
    bad = await client.post("/api/v1/cases/2/confirm", data=b"[1", headers=headers)
    assert bad.status == 400
    assert (await client.post("/api/v1/cases/2/explode", json={}, headers=headers)).status == 404
    assert (await client.post("/api/v1/cases/2/note", json={}, headers=headers)).status == 400
    long = {"reason": "x" * 2001}
    assert (await client.post("/api/v1/cases/2/confirm", json=long, headers=headers)).status == 413
    done = await client.post("/api/v1/cases/2/overturn", json={"reason": "fine"}, headers=headers)
    assert done.status == 200
    body = await done.json()
    assert body["case"]["status"] == "overturned" and len(body["review_ids"]) == 1
    again = await client.post("/api/v1/cases/2/overturn", json={}, headers=headers)
    assert again.status == 409
    with engine.connect() as connection:
        assert len(connection.execute(select(outbox)).all()) == 1  # nothing stored twice
    # An escalation names its measures, in a list.
    measures = {"measures": "block", "reason": "x"}
    assert (
        await client.post("/api/v1/cases/3/escalate", json=measures, headers=headers)
    ).status == 400
    measures = {"measures": ["block"], "reason": "threatens the staff"}
    escalated = await client.post("/api/v1/cases/3/escalate", json=measures, headers=headers)
    assert escalated.status == 200 and len((await escalated.json())["review_ids"]) == 1
    # A reviewer may not reveal personal data.
    assert (await client.post("/api/v1/cases/1/reveal", json={}, headers=headers)).status == 403


async def test_bulk_confirm_leaves_another_persons_claim_alone(
    api: tuple[TestClient[Any, Any], Any],
) -> None:
    client, engine = api
    anna = await signed_in(client, "anna")
    claim = await client.post("/api/v1/cases/3/claim", json={}, headers={"X-CSRF-Token": anna})
    assert claim.status == 200
    csrf = await signed_in(client, "rita")
    headers = {"X-CSRF-Token": csrf}
    bulk = {"case_ids": [1, 2, 3, 4, 99], "reason": "all insults at people"}
    result = await (await client.post("/api/v1/cases/confirm", json=bulk, headers=headers)).json()
    assert result["results"] == {"1": "confirmed", "2": "confirmed", "3": "claimed by anna",
                                 "4": "no such case", "99": "no such case"}  # fmt: skip
    refused = await client.post("/api/v1/cases/confirm", json={"case_ids": "1"}, headers=headers)
    assert refused.status == 400
    # The queue page's form does the same, and says how many it left.
    page = await client.post(
        "/queue/all/confirm", data={"csrf": csrf, "case_id": ["1", "3"]}, allow_redirects=True
    )
    assert "0 cases confirmed; 2 left as they were" in await page.text()
    assert (await client.post("/queue/all/confirm", data={"case_id": "3"})).status == 403
    with engine.connect() as connection:
        confirmations = [r for r in connection.execute(select(audit)) if r.action == "confirm"]
    assert sorted(r.case_id for r in confirmations) == [1, 2]
    # Two cases had their first review (the skipped ones none).
    first = client.metrics.registry.get_sample_value(  # type: ignore[attr-defined]
        "streamproc_review_time_to_first_review_seconds_count"
    )
    assert first == 2


async def test_an_evidence_pack_is_audited_and_masks_for_a_reviewer(
    api: tuple[TestClient[Any, Any], Any],
) -> None:
    client, engine = api
    await signed_in(client)
    case_page = await (await client.get("/case/1")).text()
    assert 'href="/case/1/evidence.txt"' in case_page
    assert re.search(r'id="strikes-in-force">Strikes in force: \d', case_page)
    pack = await (await client.get("/api/v1/cases/1/evidence")).json()
    assert pack["text"] == "uccido [email]" and pack["personal_data_masked"] is True
    assert pack["reports_due"] == ["report_platform"]
    assert pack["platform"] == {"comment_id": "1"}  # not the author's platform id
    assert len(pack["text_sha256"]) == 64 and "author_id" not in pack
    assert pack["statement_of_reasons"] is not None
    download = await client.get("/case/1/evidence.txt")
    assert download.headers["Content-Disposition"] == 'attachment; filename="evidence-case-1.txt"'
    text = await download.text()
    assert "threat by rule threat.it.uccido" in text and "maria@example.org" not in text
    assert "Maria Rossi" not in text and "4711" not in text
    assert (await client.get("/case/1/evidence.pdf")).status == 404
    assert (await client.get("/api/v1/cases/4/evidence")).status == 404
    with engine.connect() as connection:
        rows = [r for r in connection.execute(select(audit)) if r.action == "evidence"]
    assert len(rows) == 2 and all("masked" in r.detail for r in rows)
    assert re.search(r"maria@", " ".join(r.detail for r in rows)) is None
    # A role that may reveal gets the author's ids (and the download says so in the audit).
    await signed_in(client, "carlo")
    pack = await (await client.get("/api/v1/cases/1/evidence")).json()
    assert pack["platform"] == {"comment_id": "1", "user_id": "4711"}
    assert pack["author_id"] and pack["personal_data_masked"] is False


async def test_the_openapi_document_lists_exactly_the_api_routes(
    api: tuple[TestClient[Any, Any], Any],
) -> None:
    client, _ = api
    served = await (await client.get("/api/v1/openapi.json")).json()  # no sign-in needed
    assert served["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, item in served["paths"].items() for method in item
    }
    routed = {
        (route.resource.canonical, route.method)
        for route in client.server.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.method != "HEAD"
    }
    assert documented == routed
    # Every reference resolves.
    text = str(served)
    for ref in set(re.findall(r"#/components/(\w+)/(\w+)", text)):
        assert ref[1] in served["components"][ref[0]], ref
