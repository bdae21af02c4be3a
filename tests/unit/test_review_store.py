"""The review console's database layer on a real SQLite file and a real PostgreSQL server:
migrations, idempotent ingestion, who sees what, the actions' records, the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from streamproc.review import (
    AccountError,
    Accounts,
    ActionError,
    Actions,
    Incoming,
    RateLimited,
    Store,
    open_database,
)
from streamproc.review._schema import audit, cases, metadata, outbox
from streamproc.sink import Capabilities
from streamproc.sink._plan import plan_review
from streamproc.sink._runner import _problem as sink_problem
from streamproc.worker._pipeline import _parse_review as worker_parse_review
from tests.integration._platforms import validate


@pytest.fixture
def engine(review_database: str) -> Iterator[Engine]:
    engine = open_database(review_database)
    yield engine
    engine.dispose()


def decision(comment_id: str = "facebook:1", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "comment_id": comment_id,
        "channel": "facebook",
        "author_id": "u-1",
        "categories": ["insult"],
        "actions": ["remove", "block", "escalate"],
        "matches": [{"category": "insult", "start": 0, "end": 5, "rule": "idiot",
                     "confidence": "high", "severity": "medium"}],
        "policy_version": "2026.1",
        "reasons": ["insult (clause 3)"],
        "decided_at": "2026-12-01T10:00:00.000Z",
        "escalation": {"queue": "review", "urgent": False, "in_hours": True,
                       "review_after": "2026-12-01T10:00:00Z"},
        "reply": None,
        "platform": {"comment_id": "1", "user_id": "9"},
    }  # fmt: skip
    doc.update(changes)
    return doc


def comment(comment_id: str = "facebook:1", role: str | None = None) -> dict[str, Any]:
    return {
        "id": comment_id,
        "channel": "facebook",
        "author": {"id": "u-1", "name": "Maria Rossi", "role": role},
        "text": "idiot, write to maria@example.org",
        "created_at": "2026-12-01T10:00:00Z",
    }


REVIEWER = {"name": "rita", "role": "reviewer"}
COMPLIANCE = {"name": "carlo", "role": "compliance"}


def case_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(cases)).scalar_one())


def test_the_migrations_build_exactly_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    open_database(engine.url.render_as_string(hide_password=False)).dispose()  # again: a no-op


def test_a_replayed_decision_never_makes_a_second_case(engine: Engine) -> None:
    store = Store(engine)
    batch = [Incoming("decision", decision(), "moderation.actions/0/7")]
    assert store.ingest(batch) == {"decision": 1}
    assert store.ingest(batch) == {"replayed": 1}
    # A crash-and-retry decision (same version, another decided_at) is a replay too.
    again = decision(decided_at="2026-12-01T10:00:05.000Z")
    assert store.ingest([Incoming("decision", again, "moderation.actions/0/9")]) == {"replayed": 1}
    assert case_count(engine) == 1
    # An edit (a later version) updates the one case.
    edited = decision(version=1764583200, actions=["remove", "escalate", "report_platform"])
    assert store.ingest([Incoming("decision", edited, "moderation.actions/0/12")]) == {
        "decision": 1
    }
    assert case_count(engine) == 1
    [only] = store.cases_in("reports", "reviewer")
    assert only["version"] == 1764583200
    # Allowed comments make no case; outcomes and comments replay idempotently too.
    allowed = decision("facebook:2", actions=["allow"], matches=[], escalation=None)
    outcome = {"action_id": "facebook:1:1:remove", "comment_id": "facebook:1",
               "action": "remove", "operation": "hide", "status": "done",
               "at": "2026-12-01T10:00:01Z"}  # fmt: skip
    items = [
        Incoming("decision", allowed, "a/0/1"),
        Incoming("outcome", outcome, "o/0/1"),
        Incoming("comment", comment(), "c/0/1"),
    ]
    assert store.ingest(items) == {"replayed": 1, "outcome": 1, "comment": 1}
    assert store.ingest(items) == {"replayed": 3}
    assert case_count(engine) == 1
    # A comment no case refers to is purged after a while; one with a case stays.
    store.ingest([Incoming("comment", comment("facebook:2"), "c/0/2")])
    assert store.purge_orphan_comments(timedelta(hours=1)) == 0
    assert store.purge_orphan_comments(timedelta(0)) == 1
    kept = store.case(only["id"], "reviewer")
    assert kept is not None and kept["comment"] is not None


def test_only_compliance_sees_an_employees_case(engine: Engine) -> None:
    store = Store(engine)
    actions = Actions(engine, store)
    store.ingest([Incoming("decision", decision("facebook:1"), "a/0/1")])
    # The employee's comment arrives after its decision: the case becomes compliance's.
    store.ingest(
        [
            Incoming("decision", decision("facebook:2"), "a/0/2"),
            Incoming("comment", comment("facebook:2", role="employee"), "c/0/1"),
        ]
    )
    employee_case = store.cases_in("compliance", "compliance")[0]["id"]
    assert store.counts("reviewer") == {"now": 1, "urgent": 0, "deferred": 0, "reports": 0,
                                        "appeals": 0}  # fmt: skip
    assert store.counts("compliance")["now"] == 2
    assert store.oldest("compliance")["now"] >= 0.0 and store.oldest("reviewer")["urgent"] == 0.0
    assert store.counts("compliance")["compliance"] == 1
    assert [c["comment_id"] for c in store.cases_in("all", "reviewer")] == ["facebook:1"]
    assert store.case(employee_case, "reviewer") is None
    assert store.case(employee_case, "admin") is None
    assert store.case(employee_case, "compliance") is not None
    for attempt in (actions.overturn, actions.confirm, actions.reveal):
        with pytest.raises(ActionError) as refused:
            attempt(REVIEWER, employee_case)
        assert refused.value.status == 404
    public_case = store.cases_in("now", "reviewer")[0]["id"]
    with pytest.raises(ActionError) as refused:
        actions.reveal(REVIEWER, public_case)
    assert refused.value.status == 403
    revealed = actions.reveal(COMPLIANCE, employee_case)
    assert revealed["comment"]["author_name"] == "Maria Rossi"
    with engine.connect() as connection:
        rows = connection.execute(select(audit.c.actor, audit.c.action, audit.c.case_id)).all()
    assert [tuple(r) for r in rows] == [("carlo", "reveal", employee_case)]


def test_an_overturn_publishes_records_the_worker_and_the_sink_accept(engine: Engine) -> None:
    store = Store(engine)
    actions = Actions(engine, store)
    store.ingest([Incoming("decision", decision(), "a/0/1")])
    case_id = store.cases_in("now", "reviewer")[0]["id"]
    ids = actions.overturn(REVIEWER, case_id, "sarcasm, not an insult")
    with pytest.raises(ActionError):
        actions.overturn(REVIEWER, case_id)  # never twice
    pending = actions.pending_reviews()
    assert [r["review_id"] for r in pending] == ids
    assert [r["payload"]["action"] for r in pending] == ["reinstate", "unblock"]
    for row in pending:
        record = row["payload"]
        assert row["key"] == "u-1"
        parsed = worker_parse_review(orjson.dumps(record))
        assert isinstance(parsed, dict) and parsed["overturned"] is True
        assert sink_problem("moderation.reviews", record, "moderation.reviews") is None
        assert record["platform"] == {"comment_id": "1", "user_id": "9"}
        validate(record, "review")
    caps = Capabilities(hide=True, unban=True)
    steps = [s for row in pending for s in plan_review(row["payload"], caps, "hide")]
    assert [(s.operation, s.kind) for s in steps] == [("unhide", "call"), ("unban", "call")]
    actions.mark_sent(ids)
    assert actions.pending_reviews() == []
    assert store.counts("reviewer")["now"] == 0
    # An appeal upheld on a confirmed case overturns it and answers the author.
    store.ingest([Incoming("decision", decision("facebook:3", actions=["warn"]), "a/0/2")])
    warned = store.cases_in("all", "reviewer")[-1]["id"]
    appeal = actions.record_appeal(REVIEWER, warned, "I was quoting the article")
    assert store.counts("reviewer")["appeals"] == 1
    actions.answer_appeal(REVIEWER, appeal, True, "You are right: the warning is withdrawn.")
    effects = [(r["payload"]["action"], r["payload"]["overturned"]) for r in
               actions.pending_reviews()]  # fmt: skip
    assert effects == [("reinstate", True), ("reply", False)]
    for row in actions.pending_reviews():
        validate(row["payload"], "review")
    with pytest.raises(ActionError):
        actions.answer_appeal(REVIEWER, appeal, False, "again")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(outbox)).scalar_one() == 4
        kinds = connection.execute(select(audit.c.action).order_by(audit.c.id)).scalars().all()
    assert kinds == ["overturn", "appeal", "appeal_upheld"]


def test_a_person_escalates_beyond_what_automation_did(engine: Engine) -> None:
    store = Store(engine)
    actions = Actions(engine, store)
    # Automation only escalated: the reviewer removes, blocks and reports to the authorities.
    held = decision("facebook:5", actions=["escalate"], categories=["threat"])
    store.ingest([Incoming("decision", held, "a/0/5")])
    [case] = store.cases_in("now", "reviewer")
    with pytest.raises(ActionError) as empty:
        actions.escalate(REVIEWER, case["id"], [], "a threat")
    assert empty.value.status == 400
    with pytest.raises(ActionError):
        actions.escalate(REVIEWER, case["id"], ["jail"], "a threat")
    with pytest.raises(ActionError):
        actions.escalate(REVIEWER, case["id"], ["block"], "  ")  # the reason is required
    measures = ["remove", "block", "report_authorities", "block"]
    ids = actions.escalate(REVIEWER, case["id"], measures, "a threat to the office staff")
    pending = actions.pending_reviews()
    assert [r["review_id"] for r in pending] == ids
    assert [r["payload"]["action"] for r in pending] == ["remove", "block"]
    for row in pending:
        record = row["payload"]
        validate(record, "review")
        assert sink_problem("moderation.reviews", record, "moderation.reviews") is None
        parsed = worker_parse_review(orjson.dumps(record))
        assert isinstance(parsed, dict) and parsed["overturned"] is False  # no strike undone
    caps = Capabilities(hide=True, ban=True)
    steps = [s for row in pending for s in plan_review(row["payload"], caps, "hide")]
    assert [(s.operation, s.kind) for s in steps] == [("hide", "call"), ("ban", "call")]
    # The report is still to file: the case waits in the reports queue, open.
    [report] = store.cases_in("reports", "reviewer")
    assert report["id"] == case["id"] and report["status"] == "open"
    assert store.counts("reviewer")["now"] == 0
    # A measure the decision already took is not repeated; a closed case is not escalated.
    store.ingest([Incoming("decision", decision("facebook:6"), "a/0/6")])
    blocked = store.cases_in("now", "reviewer")[0]["id"]
    assert actions.escalate(REVIEWER, blocked, ["block"], "confirmed, and more") == []
    assert store.case(blocked, "reviewer")["status"] == "escalated"  # type: ignore[index]
    with pytest.raises(ActionError):
        actions.escalate(REVIEWER, blocked, ["remove"], "again")
    with engine.connect() as connection:
        details = [r.detail for r in connection.execute(select(audit)) if r.action == "escalate"]
    assert details == ["remove, block, report_authorities: a threat to the office staff",
                       "block: confirmed, and more"]  # fmt: skip


def test_the_audit_trail_is_append_only(engine: Engine) -> None:
    Accounts(engine).add("alba", "admin", "a long enough password")
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(select(audit.c.actor)).scalars().all() == ["command line"]


def test_sign_in_sessions_and_the_rate_limit(engine: Engine) -> None:
    accounts = Accounts(engine, attempts=3)
    accounts.add("rita", "reviewer", "correct horse battery")
    with pytest.raises(AccountError):
        accounts.add("rita", "reviewer", "another long password")
    with pytest.raises(AccountError):
        accounts.add("bob", "superuser", "another long password")
    with pytest.raises(AccountError):
        accounts.add("bob", "reviewer", "short")
    token, user = accounts.sign_in("rita", "correct horse battery", "10.0.0.1")
    assert user["role"] == "reviewer"
    session = accounts.session(token)
    assert session is not None and session["name"] == "rita" and len(session["csrf"]) > 30
    assert accounts.session("forged") is None
    for _ in range(3):
        assert accounts.sign_in("rita", "wrong", "10.0.0.2") == ("", {})
    with pytest.raises(RateLimited):
        accounts.sign_in("rita", "correct horse battery", "10.0.0.2")
    assert accounts.sign_in("rita", "correct horse battery", "10.0.0.1")[0]  # other address
    accounts.sign_out(token)
    assert accounts.session(token) is None


def test_what_the_console_cannot_use_is_named_never_quoted() -> None:
    from streamproc.review import ReviewSettings, classify

    settings = ReviewSettings(comment_topics=("comments.facebook",))
    assert classify("moderation.actions", b"{not json", settings) == (
        "invalid_json", None, "not JSON",
    )  # fmt: skip
    secret = b'{"comment_id": "facebook:1", "channel": "facebook", "author_id": "Maria Rossi"}'
    kind, doc, problem = classify("moderation.actions", secret, settings)
    assert (kind, doc) == ("decision", None)
    assert problem is not None and "Maria" not in problem
    assert classify("moderation.outcomes", None, settings) == ("skip", None, None)  # tombstone
    kind, doc, problem = classify("comments.facebook", orjson.dumps(comment()), settings)
    assert (kind, problem) == ("comment", None) and doc is not None
