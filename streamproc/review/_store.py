"""Cases in the database: idempotent ingestion of decisions, outcomes and comments, the
queues, and what a case page shows. One transaction per batch of records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, and_, exists, false, func, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from streamproc.review._records import (
    PEOPLE_ACTIONS,
    REPORT_ACTIONS,
    parse_time,
    utcnow,
)
from streamproc.review._schema import appeals, cases, comments, outcomes

__all__ = ["QUEUES", "Incoming", "Store", "can"]

QUEUES: Final = ("now", "urgent", "deferred", "reports", "compliance", "appeals")

#: What each role may do. Only compliance sees employees' cases (and their queue).
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "reviewer": frozenset({"act"}),
    "compliance": frozenset({"act", "employees", "reveal"}),
    "admin": frozenset({"act", "reveal"}),
}
ROLES: Final = tuple(PERMISSIONS)


def can(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Incoming:
    """One usable record of a batch: its topic kind, its JSON and where it came from."""

    kind: str  # "decision", "outcome" or "comment"
    doc: dict[str, Any]
    source: str


def _insert(connection: Connection, table: Any) -> Any:
    """An INSERT that can say ON CONFLICT, in the connection's dialect."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _changed(connection: Connection, upsert: Any) -> bool:
    """Whether an upsert wrote a row (its RETURNING is empty when the WHERE kept the old one:
    rowcount is not reliable there across drivers)."""
    return connection.execute(upsert).first() is not None


def _version(doc: dict[str, Any]) -> int:
    version = doc.get("version")
    return version if isinstance(version, int) and version > 0 else 1


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- ingestion ------------------------------------------------------------------------

    def ingest(self, batch: Iterable[Incoming]) -> dict[str, int]:
        """Apply ``batch`` in one transaction; how many records of each kind changed nothing
        (``replayed``) or something. A replayed record never makes a second case."""
        counts: dict[str, int] = {}
        with self.engine.begin() as connection:
            for item in batch:
                if item.kind == "decision":
                    changed = self._decision(connection, item)
                elif item.kind == "outcome":
                    changed = self._outcome(connection, item.doc)
                else:
                    changed = self._comment(connection, item.doc)
                label = item.kind if changed else "replayed"
                counts[label] = counts.get(label, 0) + 1
        return counts

    def _decision(self, connection: Connection, item: Incoming) -> bool:
        doc = item.doc
        actions = [str(a) for a in doc["actions"]]
        if actions == ["allow"] and not self._has_case(connection, doc["comment_id"]):
            return False  # nothing for people, and no case to update
        escalation = doc.get("escalation") or {}
        now = utcnow()
        employee = "notify_compliance" in actions or self._is_employee(
            connection, doc["comment_id"]
        )
        row = {
            "comment_id": doc["comment_id"],
            "channel": doc["channel"],
            "author_id": doc["author_id"],
            "version": _version(doc),
            "decision": doc,
            "actions": ",".join(actions),
            "policy_version": doc["policy_version"],
            "decided_at": str(doc.get("decided_at", "")),
            "needs_person": bool(PEOPLE_ACTIONS & set(actions)),
            "urgent": bool(escalation.get("urgent")),
            "review_after": parse_time(escalation.get("review_after")),
            "report": bool(REPORT_ACTIONS & set(actions)),
            "employee": employee,
            "status": "open" if actions != ["allow"] else "superseded",
            "source": item.source,
            "created_at": now,
            "updated_at": now,
        }
        statement = _insert(connection, cases).values(**row)
        excluded = statement.excluded
        # A later version (an edit) replaces the decision; the same or an older one is a replay.
        kept = ("comment_id", "created_at", "claimed_by")
        statement = statement.on_conflict_do_update(
            index_elements=[cases.c.comment_id],
            set_={k: getattr(excluded, k) for k in row if k not in kept},
            where=cases.c.version < excluded.version,
        )
        return _changed(connection, statement.returning(cases.c.comment_id))

    def _has_case(self, connection: Connection, comment_id: str) -> bool:
        query = select(cases.c.id).where(cases.c.comment_id == comment_id)
        return connection.execute(query).first() is not None

    def _is_employee(self, connection: Connection, comment_id: str) -> bool:
        query = select(comments.c.role).where(comments.c.comment_id == comment_id)
        return connection.execute(query).scalar() == "employee"

    def _outcome(self, connection: Connection, doc: dict[str, Any]) -> bool:
        row = {
            "action_id": doc["action_id"],
            "comment_id": doc["comment_id"],
            "action": doc["action"],
            "operation": doc["operation"],
            "status": doc["status"],
            "reason": (doc.get("reason") or None) and str(doc["reason"])[:500],
            "at": doc["at"],
        }
        statement = _insert(connection, outcomes).values(**row)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[outcomes.c.action_id],
            set_={k: getattr(excluded, k) for k in row if k != "action_id"},
            where=or_(outcomes.c.at < excluded.at, outcomes.c.status != excluded.status),
        )
        return _changed(connection, statement.returning(outcomes.c.action_id))

    def _comment(self, connection: Connection, doc: dict[str, Any]) -> bool:
        author = doc["author"]
        role = author.get("role") if author.get("role") in ("public", "employee") else None
        row = {
            "comment_id": doc["id"],
            "channel": doc["channel"],
            "author_id": author["id"],
            "author_name": author.get("name") if isinstance(author.get("name"), str) else None,
            "role": role,
            "text": doc["text"],
            "version": _version(doc),
            "created_at": str(doc.get("created_at", "")),
        }
        statement = _insert(connection, comments).values(**row)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[comments.c.comment_id],
            set_={k: getattr(excluded, k) for k in row if k != "comment_id"},
            where=comments.c.version < excluded.version,
        )
        changed = _changed(connection, statement.returning(comments.c.comment_id))
        if role == "employee":
            connection.execute(
                cases.update()
                .where(cases.c.comment_id == doc["id"], cases.c.employee == false())
                .values(employee=True)
            )
        return changed

    # --- the queues -----------------------------------------------------------------------

    def _queue(self, name: str, now: datetime) -> ColumnElement[bool]:
        open_ = cases.c.status == "open"
        waiting = and_(open_, cases.c.needs_person == true())
        if name == "urgent":
            return and_(waiting, cases.c.urgent == true())
        if name == "deferred":
            return and_(waiting, cases.c.urgent == false(), cases.c.review_after > now)
        if name == "now":
            due = or_(cases.c.review_after.is_(None), cases.c.review_after <= now)
            return and_(waiting, cases.c.urgent == false(), due, cases.c.report == false())
        if name == "reports":
            return and_(open_, cases.c.report == true())
        if name == "compliance":
            return and_(open_, cases.c.employee == true())
        if name == "appeals":
            return exists().where(appeals.c.case_id == cases.c.id, appeals.c.status == "open")
        if name == "all":
            return true()
        raise KeyError(name)

    def _visible(self, role: str) -> ColumnElement[bool]:
        return true() if can(role, "employees") else cases.c.employee == false()

    def queues_for(self, role: str) -> tuple[str, ...]:
        return tuple(q for q in QUEUES if q != "compliance" or can(role, "employees"))

    def counts(self, role: str) -> dict[str, int]:
        now = utcnow()
        with self.engine.connect() as connection:
            return {
                name: int(
                    connection.execute(
                        select(func.count())
                        .select_from(cases)
                        .where(self._queue(name, now), self._visible(role))
                    ).scalar_one()
                )
                for name in self.queues_for(role)
            }

    def cases_in(self, queue: str, role: str, limit: int = 200) -> list[dict[str, Any]]:
        """The cases of ``queue`` a person of ``role`` may see, oldest first."""
        query = (
            select(cases)
            .where(self._queue(queue, utcnow()), self._visible(role))
            .order_by(cases.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def case(self, case_id: int, role: str) -> dict[str, Any] | None:
        """A case with its comment, outcomes, appeals and author history, if ``role`` may see it
        (an employee's case does not exist for anyone but compliance)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(cases).where(cases.c.id == case_id, self._visible(role))
            ).first()
            if row is None:
                return None
            case = dict(row._mapping)
            comment = connection.execute(
                select(comments).where(comments.c.comment_id == case["comment_id"])
            ).first()
            case["comment"] = dict(comment._mapping) if comment is not None else None
            case["outcomes"] = [
                dict(r._mapping)
                for r in connection.execute(
                    select(outcomes)
                    .where(outcomes.c.comment_id == case["comment_id"])
                    .order_by(outcomes.c.at)
                )
            ]
            case["appeals"] = [
                dict(r._mapping)
                for r in connection.execute(
                    select(appeals).where(appeals.c.case_id == case_id).order_by(appeals.c.id)
                )
            ]
            case["history"] = [
                dict(r._mapping)
                for r in connection.execute(
                    select(
                        cases.c.id,
                        cases.c.actions,
                        cases.c.status,
                        cases.c.decided_at,
                        cases.c.decision,
                    )
                    .where(
                        cases.c.channel == case["channel"],
                        cases.c.author_id == case["author_id"],
                        cases.c.id != case_id,
                        self._visible(role),
                    )
                    .order_by(cases.c.id.desc())
                    .limit(50)
                )
            ]
            return case
