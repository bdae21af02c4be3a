"""CSV exports for the institution's records: the audit trail as it is, and the cases as
decision skeletons (no comment text, no author, no personal data: what was decided, by which
rules and policy version, and what people did with it)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final, TextIO

from sqlalchemy import Engine, false, select

from streamproc.review._schema import audit, cases

__all__ = ["AUDIT_COLUMNS", "CASE_COLUMNS", "export_audit", "export_cases"]

AUDIT_COLUMNS: Final = ("id", "at", "actor", "action", "case_id", "detail")
CASE_COLUMNS: Final = (
    "id",
    "comment_id",
    "channel",
    "categories",
    "rules",
    "actions",
    "policy_version",
    "decided_at",
    "status",
    "urgent",
    "report",
    "employee",
    "created_at",
    "updated_at",
)


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run: a leading =, +, - or @ is a formula there
    (CSV injection), and audit details are free text people typed."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _window(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    where = []
    if since is not None:
        where.append(column >= since)
    if until is not None:
        where.append(column < until)
    return where


def _rows(engine: Engine, query: Any) -> Iterator[Any]:
    with engine.connect() as connection:
        yield from connection.execution_options(stream_results=True, yield_per=1000).execute(query)


def export_audit(
    engine: Engine, out: TextIO, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Write the audit rows (oldest first) to ``out``; how many."""
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    query = select(audit).where(*_window(audit.c.at, since, until)).order_by(audit.c.id)
    count = 0
    for row in _rows(engine, query):
        writer.writerow([_cell(getattr(row, c)) for c in AUDIT_COLUMNS])
        count += 1
    return count


def export_cases(
    engine: Engine,
    out: TextIO,
    since: datetime | None = None,
    until: datetime | None = None,
    include_employees: bool = False,
) -> int:
    """Write the cases (oldest first) as skeletons to ``out``; how many. Employees' cases are
    compliance's: left out unless ``include_employees``."""
    writer = csv.writer(out)
    writer.writerow(CASE_COLUMNS)
    where = _window(cases.c.created_at, since, until)
    if not include_employees:
        where.append(cases.c.employee == false())
    count = 0
    for row in _rows(engine, select(cases).where(*where).order_by(cases.c.id)):
        decision = row.decision if isinstance(row.decision, dict) else {}
        matches = decision.get("matches") or []
        values = dict(row._mapping)
        values["categories"] = " ".join(str(c) for c in decision.get("categories") or [])
        values["rules"] = " ".join(
            sorted({str(m.get("rule")) for m in matches if isinstance(m, dict) and m.get("rule")})
        )
        writer.writerow([_cell(values[c]) for c in CASE_COLUMNS])
        count += 1
    return count
