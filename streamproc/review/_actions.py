"""What people do with a case: claim, confirm, overturn, note, reveal, appeals. Each action is
one transaction with its audit row and the review records it publishes (the outbox)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from streamproc.core import StreamprocError
from streamproc.review._records import review_record, utcnow
from streamproc.review._schema import appeals, audit, cases, outbox
from streamproc.review._store import Store, can

__all__ = ["ESCALATIONS", "ActionError", "Actions", "write_audit"]

MAX_TEXT = 2000
#: What a person may add to an automated decision.
ESCALATIONS = ("remove", "block", "report_platform", "report_authorities")
Effect = tuple[str, bool, str | None]  # (review action, overturned, text)


def write_audit(
    connection: Any,
    actor: str,
    action: str,
    case_id: int | None,
    detail: str,
    at: datetime | None = None,
) -> None:
    """One row of the append-only audit trail, in ``connection``'s transaction."""
    connection.execute(
        audit.insert().values(
            at=at or utcnow(),
            actor=actor,
            action=action,
            case_id=case_id,
            detail=detail[:MAX_TEXT],
        )
    )


class ActionError(StreamprocError, ValueError):
    """An action that cannot be done (unknown case, not allowed, already done)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def overturn_effects(actions: list[str]) -> list[str]:
    """The review records an overturn publishes: reinstate what was removed, lift a block.
    A decision that did neither (a warning) still needs one record for the worker to drop
    its strike: ``reinstate``, which on a visible comment changes nothing on the platform."""
    effects = [e for a, e in (("remove", "reinstate"), ("block", "unblock")) if a in actions]
    return effects or ["reinstate"]


class Actions:
    def __init__(self, engine: Engine, store: Store) -> None:
        self.engine = engine
        self.store = store
        #: Called with the seconds from a case's arrival to its first review (the metrics).
        self.on_first_review: Callable[[float], None] | None = None

    def _case(self, user: dict[str, Any], case_id: int) -> dict[str, Any]:
        case = self.store.case(case_id, user["role"])
        if case is None:
            raise ActionError(f"no case {case_id}", 404)
        if not can(user["role"], "act"):
            raise ActionError("this role cannot act on cases", 403)
        return case

    def _audit(
        self, connection: Any, user: dict[str, Any], action: str, case_id: int | None, detail: str
    ) -> None:
        write_audit(connection, user["name"], action, case_id, detail)

    def _publish(
        self, connection: Any, case: dict[str, Any], effects: Sequence[tuple[str, bool, str | None]]
    ) -> list[str]:
        ids = []
        for action, overturned, text in effects:
            review_id, key, record = review_record(case, action, overturned, text)
            connection.execute(
                outbox.insert().values(
                    review_id=review_id,
                    case_id=case["id"],
                    key=key.decode(),
                    payload=record,
                    created_at=utcnow(),
                )
            )
            ids.append(review_id)
        return ids

    def claim(self, user: dict[str, Any], case_id: int) -> None:
        self._case(user, case_id)
        with self.engine.begin() as connection:
            connection.execute(
                cases.update().where(cases.c.id == case_id).values(claimed_by=user["name"])
            )
            self._audit(connection, user, "claim", case_id, "")

    def confirm(self, user: dict[str, Any], case_id: int, reason: str = "") -> None:
        """The automated decision stands; nothing to publish (the platform part is done)."""
        self._decide(user, case_id, "confirmed", reason)

    def overturn(self, user: dict[str, Any], case_id: int, reason: str = "") -> list[str]:
        """Undo the automated decision: reinstate, unblock, and the worker drops the strike."""
        return self._decide(user, case_id, "overturned", reason)

    def _decide(self, user: dict[str, Any], case_id: int, status: str, reason: str) -> list[str]:
        case = self._case(user, case_id)
        if case["status"] == "overturned":
            raise ActionError("the case is already overturned")
        with self.engine.begin() as connection:
            # The status guard makes two people's simultaneous clicks one action.
            changed = connection.execute(
                cases.update()
                .where(cases.c.id == case_id, cases.c.status == case["status"])
                .values(status=status, updated_at=utcnow())
            ).rowcount
            if not changed:
                raise ActionError("the case changed meanwhile: reload it")
            ids: list[str] = []
            if status == "overturned":
                actions = case["decision"].get("actions", [])
                effects = [(e, True, None) for e in overturn_effects(actions)]
                ids = self._publish(connection, case, effects)
            self._audit(connection, user, status.removesuffix("ed"), case_id, reason)
        if case["status"] == "open" and self.on_first_review is not None:
            self.on_first_review((utcnow() - case["created_at"]).total_seconds())
        return ids

    def escalate(
        self, user: dict[str, Any], case_id: int, measures: Sequence[str], reason: str = ""
    ) -> list[str]:
        """A person goes further than automation did: ``remove`` the comment, ``block`` its
        author (review records the sink carries out), ``report_platform`` /
        ``report_authorities`` (the case waits in the reports queue, with its evidence pack,
        until the report is filed and confirmed). Measures the decision already took are not
        repeated. The review ids published."""
        wanted = list(dict.fromkeys(measures))
        unknown = sorted(set(wanted) - set(ESCALATIONS))
        if not wanted or unknown:
            raise ActionError(f"escalate to one or more of {', '.join(ESCALATIONS)}", 400)
        if not reason.strip():
            raise ActionError("an escalation needs its reason (it is audited)", 400)
        case = self._case(user, case_id)
        if case["status"] != "open":
            raise ActionError(f"the case is {case['status']}: only an open case is escalated")
        done = set(case["decision"].get("actions", []))
        report = any(m.startswith("report_") for m in wanted)
        with self.engine.begin() as connection:
            changed = connection.execute(
                cases.update()
                .where(cases.c.id == case_id, cases.c.status == "open")
                .values(
                    # A report still to file keeps the case open, in the reports queue.
                    status="open" if report else "escalated",
                    report=case["report"] or report,
                    updated_at=utcnow(),
                )
            ).rowcount
            if not changed:
                raise ActionError("the case changed meanwhile: reload it")
            effects = [
                (m, False, None) for m in ("remove", "block") if m in wanted and m not in done
            ]
            ids = self._publish(connection, case, effects)
            self._audit(connection, user, "escalate", case_id, f"{', '.join(wanted)}: {reason}")
        if self.on_first_review is not None:
            self.on_first_review((utcnow() - case["created_at"]).total_seconds())
        return ids

    def note(self, user: dict[str, Any], case_id: int, text: str) -> None:
        self._case(user, case_id)
        if not text.strip():
            raise ActionError("an empty note", 400)
        with self.engine.begin() as connection:
            self._audit(connection, user, "note", case_id, text)

    def reveal(self, user: dict[str, Any], case_id: int) -> dict[str, Any]:
        """The case with its personal data, audited; only for roles with ``reveal``."""
        case = self.store.case(case_id, user["role"])
        if case is None:  # first: a case one may not see does not exist (no 403 oracle)
            raise ActionError(f"no case {case_id}", 404)
        if not can(user["role"], "reveal"):
            raise ActionError("this role cannot reveal personal data", 403)
        with self.engine.begin() as connection:
            self._audit(connection, user, "reveal", case_id, "personal data shown")
        return case

    def record_appeal(self, user: dict[str, Any], case_id: int, statement: str) -> int:
        self._case(user, case_id)
        if not statement.strip() or len(statement) > MAX_TEXT:
            raise ActionError(f"an appeal's statement is 1 to {MAX_TEXT} characters", 400)
        try:
            with self.engine.begin() as connection:
                appeal_id = connection.execute(
                    appeals.insert().values(
                        case_id=case_id, statement=statement, status="open", received_at=utcnow()
                    )
                ).inserted_primary_key
                assert appeal_id is not None
                self._audit(connection, user, "appeal", case_id, f"appeal {appeal_id[0]} recorded")
        except IntegrityError:  # the unique index: one open appeal per case
            raise ActionError("the case already has an open appeal: answer it first") from None
        return int(appeal_id[0])

    def answer_appeal(
        self, user: dict[str, Any], appeal_id: int, upheld: bool, answer: str
    ) -> list[str]:
        """Decide an appeal: the reasoned answer goes to the author through the sink (a reply);
        an upheld appeal also overturns the decision."""
        if not answer.strip() or len(answer) > MAX_TEXT:
            raise ActionError(f"an answer is 1 to {MAX_TEXT} characters", 400)
        with self.engine.connect() as connection:
            appeal = connection.execute(select(appeals).where(appeals.c.id == appeal_id)).first()
        if appeal is None:
            raise ActionError(f"no appeal {appeal_id}", 404)
        case = self._case(user, appeal.case_id)
        if appeal.status != "open":
            raise ActionError("the appeal is already answered")
        status = "upheld" if upheld else "rejected"
        with self.engine.begin() as connection:
            changed = connection.execute(
                appeals.update()
                .where(appeals.c.id == appeal_id, appeals.c.status == "open")
                .values(
                    status=status, answer=answer, answered_by=user["name"], answered_at=utcnow()
                )
            ).rowcount
            if not changed:
                raise ActionError("the appeal changed meanwhile: reload it")
            effects: list[tuple[str, bool, str | None]] = []
            if upheld and case["status"] != "overturned":
                connection.execute(
                    cases.update()
                    .where(cases.c.id == case["id"])
                    .values(status="overturned", updated_at=utcnow())
                )
                actions = case["decision"].get("actions", [])
                effects = [(e, True, None) for e in overturn_effects(actions)]
            effects.append(("reply", False, answer))
            ids = self._publish(connection, case, effects)
            self._audit(connection, user, f"appeal_{status}", case["id"], answer)
        return ids

    def pending_reviews(self, limit: int = 100) -> list[dict[str, Any]]:
        query = (
            select(outbox.c.review_id, outbox.c.key, outbox.c.payload)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.created_at)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]

    def mark_sent(self, review_ids: list[str]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                outbox.update().where(outbox.c.review_id.in_(review_ids)).values(sent_at=utcnow())
            )
