"""Retention and the CSV exports, on a real SQLite file and a real PostgreSQL server: an old
case keeps its decision skeleton and loses text and personal data; exports carry no text."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, update

from streamproc.cli import main as cli
from streamproc.review import (
    Actions,
    Incoming,
    ReviewSettings,
    Store,
    export_audit,
    export_cases,
    open_database,
    purge_expired,
)
from streamproc.review._records import utcnow
from streamproc.review._retention import PURGED, expired_cases
from streamproc.review._schema import appeals, audit, cases, comments, outbox
from tests.unit.test_review_store import REVIEWER, comment, decision, engine

__all__ = ["engine"]  # the fixture, shared with the store's tests

SECRETS = ("Maria Rossi", "maria@example.org", "u-1")


def _age(engine: Engine, comment_id: str, days: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(cases)
            .where(cases.c.comment_id == comment_id)
            .values(created_at=utcnow() - timedelta(days=days))
        )


def _two_cases(engine: Engine) -> tuple[Store, int, int]:
    store = Store(engine)
    store.ingest(
        [
            Incoming("decision", decision("facebook:1"), "a/0/1"),
            Incoming("comment", comment("facebook:1"), "c/0/1"),
            Incoming("decision", decision("facebook:2"), "a/0/2"),
            Incoming("comment", comment("facebook:2"), "c/0/2"),
        ]
    )
    old, new = (c["id"] for c in store.cases_in("all", "reviewer"))
    return store, old, new


def test_an_old_case_keeps_its_skeleton_and_loses_text_and_personal_data(
    engine: Engine,
) -> None:
    store, old, new = _two_cases(engine)
    actions = Actions(engine, store)
    actions.record_appeal(REVIEWER, old, "I am Maria Rossi, write to maria@example.org")
    actions.overturn(REVIEWER, old, "not an insult here")
    actions.mark_sent([r["review_id"] for r in actions.pending_reviews()])
    _age(engine, "facebook:1", 401)

    done = purge_expired(engine, timedelta(days=400))
    assert (done.cases, done.comments, done.appeals) == (1, 1, 1)
    assert done.outbox >= 1
    purged = store.case(old, "reviewer")
    assert purged is not None and purged["comment"] is not None
    assert purged["comment"]["text"] == "" and purged["comment"]["author_name"] is None
    assert purged["author_id"] == PURGED
    assert purged["appeals"][0]["statement"] == PURGED
    # The skeleton: what was decided, by which rules and policy, and what people did.
    skeleton = purged["decision"]
    assert skeleton["actions"] == ["remove", "block", "escalate"]
    assert skeleton["matches"][0]["rule"] == "idiot"
    assert skeleton["policy_version"] == "2026.1" and skeleton["purged"] is True
    assert "platform" not in skeleton and "author_id" not in skeleton
    assert purged["status"] == "overturned"
    # The recent case is untouched, and nothing of the old one's personal data is left.
    recent = store.case(new, "reviewer")
    assert recent is not None and recent["comment"]["text"] == comment()["text"]
    with engine.connect() as connection:
        rows = [
            *connection.execute(select(cases).where(cases.c.id == old)),
            *connection.execute(select(comments).where(comments.c.comment_id == "facebook:1")),
            *connection.execute(select(appeals).where(appeals.c.case_id == old)),
            *connection.execute(select(outbox).where(outbox.c.case_id == old)),
        ]
    left = repr([tuple(r) for r in rows])
    assert left and all(s not in left for s in SECRETS), left
    # Idempotent, and audited without the text.
    assert purge_expired(engine, timedelta(days=400)).total == 0
    with engine.connect() as connection:
        entries = [r.detail for r in connection.execute(select(audit)) if r.action == "retention"]
    assert len(entries) == 1 and "1 cases" in entries[0]


def _plan(engine: Engine) -> str:
    """The database's plan for the retention scan (PostgreSQL told that a sequential scan is a
    last resort: on a table this small it would otherwise read the table whatever the indexes)."""
    compiled = expired_cases(utcnow(), 500).compile(dialect=engine.dialect)
    sql = str(compiled)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            args = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", args)
            return " | ".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {sql}", compiled.params)
        return " | ".join(str(row[0]) for row in rows)


def test_the_retention_scan_reads_only_the_cases_not_yet_purged(engine: Engine) -> None:
    # Purged rows stay for good: a scan of the whole table would read them on every pass.
    _store, _old, new = _two_cases(engine)
    _age(engine, "facebook:1", 401)
    assert purge_expired(engine, timedelta(days=400)).cases == 1
    plan = _plan(engine)
    assert "ix_cases_unpurged_created_at" in plan, plan
    # The index holds the unpurged cases only, so the purged one is no longer a candidate.
    with engine.connect() as connection:
        ids = [row.id for row in connection.execute(expired_cases(utcnow(), 500))]
    assert ids == [new]


def test_exports_carry_the_records_and_no_personal_data(engine: Engine) -> None:
    store, old, _ = _two_cases(engine)
    store.ingest([Incoming("comment", comment("facebook:3", role="employee"), "c/0/3")])
    store.ingest([Incoming("decision", decision("facebook:3"), "a/0/3")])
    actions = Actions(engine, store)
    actions.note(REVIEWER, old, '=HYPERLINK("http://x") looks fine')
    actions.confirm(REVIEWER, old, "insult at a person")

    out = io.StringIO()
    assert export_cases(engine, out) == 2  # the employee's case is compliance's
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["comment_id"] for r in rows] == ["facebook:1", "facebook:2"]
    assert rows[0]["rules"] == "idiot" and rows[0]["status"] == "confirmed"
    assert rows[0]["actions"] == "remove,block,escalate"
    assert all(s not in out.getvalue() for s in SECRETS)
    everyone = io.StringIO()
    assert export_cases(engine, everyone, include_employees=True) == 3

    trail = io.StringIO()
    assert export_audit(engine, trail) >= 2
    entries = list(csv.DictReader(io.StringIO(trail.getvalue())))
    note = next(e for e in entries if e["action"] == "note")
    # A spreadsheet must not run what a person typed.
    assert note["detail"].startswith("'=HYPERLINK") and note["actor"] == "rita"
    later = io.StringIO()
    assert export_audit(engine, later, since=utcnow() + timedelta(minutes=1)) == 0


def test_the_command_line_exports_and_purges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    monkeypatch.setenv("STREAMPROC_REVIEW_DATABASE", url)
    engine = open_database(url)
    _two_cases(engine)
    _age(engine, "facebook:1", 500)
    runner = CliRunner()
    result = runner.invoke(cli, ["review", "export", "cases", "-o", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c.csv").read_text().count("\n") == 3
    result = runner.invoke(cli, ["review", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 1 cases older than 400 days" in result.output
    monkeypatch.setenv("STREAMPROC_REVIEW_RETENTION_DAYS", "30")
    result = runner.invoke(cli, ["review", "purge"])
    assert result.exit_code != 0 and "at least 183" in result.output
    monkeypatch.setenv("STREAMPROC_REVIEW_RETENTION_DAYS", "0")
    assert ReviewSettings.from_env().retention_days == 0
    result = runner.invoke(cli, ["review", "purge"])
    assert result.exit_code != 0 and "never purge" in result.output
    engine.dispose()
