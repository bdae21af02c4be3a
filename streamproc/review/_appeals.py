"""Appeals from the public link and the statements of reasons: the service layer the appeal page,
the case page and the JSON API share.

An author's appeal is stored once (one open appeal per case, a unique index; a second
submission returns the first), rate-limited per address in the database (so replicas share the
limit) and never decided automatically: it waits in the appeals queue for a person, whose
answer :meth:`Actions.answer_appeal` sends back through the sink.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Engine, delete, false, func, select, true
from sqlalchemy.exc import IntegrityError

from streamproc._appeal import (
    AppealSettings,
    AppealToken,
    decided_epoch,
    decision_token,
    read_token,
)
from streamproc.review._actions import MAX_TEXT, ActionError, write_audit
from streamproc.review._reasons import statement_of_reasons
from streamproc.review._records import utcnow
from streamproc.review._schema import appeal_attempts, appeals, audit, cases
from streamproc.review._store import Store, can

__all__ = ["PUBLIC_ACTOR", "AppealRateLimited", "Appeals", "NoSuchDecision"]

PUBLIC_ACTOR: Final = "author (appeal link)"
_WINDOW: Final = timedelta(hours=1)
_REVIEW_ACTIONS: Final = ("confirm", "overturn", "appeal_upheld", "appeal_rejected")


class AppealRateLimited(ActionError):
    def __init__(self) -> None:
        super().__init__("too many appeals from this address: try again in an hour", 429)


class NoSuchDecision(LookupError):
    """A genuine token whose decision the console has no case of (not read yet, or purged)."""


class Appeals:
    def __init__(self, engine: Engine, store: Store, settings: AppealSettings) -> None:
        self.engine = engine
        self.store = store
        self.settings = settings

    # --- statements of reasons -------------------------------------------------------------

    def _link(self, case: dict[str, Any]) -> tuple[str | None, int | None]:
        """The case's appeal address (relative when no public address is set) and its end."""
        secret, base = self.settings.secret, self.settings.base_url
        at = decided_epoch(case["decision"].get("decided_at"))
        token = decision_token(secret, case["decision"]) if secret else None
        if token is None or at is None:
            return None, None
        return f"{(base or '').rstrip('/')}/appeal/{token}", at + self.settings.days * 86400

    def _reviewers(self, case_id: int) -> list[str]:
        query = (
            select(audit.c.actor)
            .where(audit.c.case_id == case_id, audit.c.action.in_(_REVIEW_ACTIONS))
            .order_by(audit.c.id)
        )
        with self.engine.connect() as connection:
            return list(dict.fromkeys(r.actor for r in connection.execute(query)))

    def statement(self, case_id: int, role: str) -> dict[str, Any] | None:
        """The statement of reasons as the console shows it (with who reviewed), or None when
        ``role`` may not see the case."""
        case = self.store.case(case_id, role)
        if case is None:
            return None
        link, until = self._link(case)
        return statement_of_reasons(case, self._reviewers(case_id), link, until, public=False)

    # --- the public link -------------------------------------------------------------------

    def open(self, token: str) -> tuple[AppealToken, dict[str, Any], dict[str, Any]]:
        """(token, case, public statement) of an appeal link. Raises ForgedToken, ExpiredToken
        or NoSuchDecision."""
        if not self.settings.secret:
            raise NoSuchDecision("appeal links are not configured")
        read = read_token(self.settings.secret, token, self.settings.days)
        with self.engine.connect() as connection:
            case_id = connection.execute(
                select(cases.c.id).where(cases.c.comment_id == read.comment_id)
            ).scalar()
        # The author sees their own case, whoever may see it in the console.
        case = self.store.case(int(case_id), "compliance") if case_id is not None else None
        if case is None:
            raise NoSuchDecision(read.comment_id)
        until = read.expires_at(self.settings.days)
        statement = statement_of_reasons(case, [], None, until, public=True)
        return read, case, statement

    def receive(self, token: str, text: str, address: str) -> tuple[dict[str, Any], bool]:
        """Store the author's appeal: (the appeal, whether it is new). A second submission
        while one is open (or for a decision already appealed) returns the first."""
        read, case, _ = self.open(token)
        key = hashlib.sha256(f"appeal\0{address}".encode()).hexdigest()
        now = utcnow()
        with self.engine.begin() as connection:
            tries = connection.execute(
                select(func.count())
                .select_from(appeal_attempts)
                .where(appeal_attempts.c.key == key, appeal_attempts.c.at > now - _WINDOW)
            ).scalar_one()
            if tries >= self.settings.attempts:
                raise AppealRateLimited()
            connection.execute(delete(appeal_attempts).where(appeal_attempts.c.at < now - _WINDOW))
            connection.execute(appeal_attempts.insert().values(key=key, at=now))
        if not text.strip():
            raise ActionError("write why the decision should be reviewed", 400)
        if len(text) > MAX_TEXT:
            raise ActionError(f"an appeal is at most {MAX_TEXT} characters", 413)
        existing = self._existing(case["id"], read.version)
        if existing is not None:
            return existing, False
        try:
            with self.engine.begin() as connection:
                appeal_id = connection.execute(
                    appeals.insert().values(
                        case_id=case["id"],
                        statement=text,
                        status="open",
                        received_at=now,
                        origin="public",
                        decision_version=read.version,
                    )
                ).inserted_primary_key
                assert appeal_id is not None
                detail = f"appeal {appeal_id[0]} from the public link"
                write_audit(connection, PUBLIC_ACTOR, "appeal_received", case["id"], detail, at=now)
        except IntegrityError:  # another replica stored it a moment ago (the unique index)
            again = self._existing(case["id"], read.version)
            if again is None:
                raise
            return again, False
        stored = self.get(int(appeal_id[0]), "compliance")
        assert stored is not None
        return stored, True

    def _existing(self, case_id: int, version: int) -> dict[str, Any] | None:
        """The appeal a new submission would repeat: the case's open one, or an earlier one
        from the link about the same version of the decision."""
        query = (
            select(appeals.c.id)
            .where(appeals.c.case_id == case_id)
            .where(
                (appeals.c.status == "open")
                | ((appeals.c.origin == "public") & (appeals.c.decision_version == version))
            )
            .order_by(appeals.c.id)
        )
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return self.get(int(found), "compliance") if found is not None else None

    # --- the API ---------------------------------------------------------------------------

    def _visible(self, role: str) -> Any:
        return true() if can(role, "employees") else cases.c.employee == false()

    def listing(
        self, role: str, status: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        query = (
            select(appeals, cases.c.comment_id, cases.c.channel)
            .join(cases, cases.c.id == appeals.c.case_id)
            .where(self._visible(role))
            .order_by(appeals.c.id)
            .limit(limit)
        )
        if status:
            query = query.where(appeals.c.status == status)
        with self.engine.connect() as connection:
            return [_appeal_json(dict(r._mapping)) for r in connection.execute(query)]

    def get(self, appeal_id: int, role: str) -> dict[str, Any] | None:
        query = (
            select(appeals, cases.c.comment_id, cases.c.channel)
            .join(cases, cases.c.id == appeals.c.case_id)
            .where(appeals.c.id == appeal_id, self._visible(role))
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return _appeal_json(dict(row._mapping)) if row is not None else None

    def open_count(self) -> int:
        query = select(func.count()).select_from(appeals).where(appeals.c.status == "open")
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())


def _appeal_json(row: dict[str, Any]) -> dict[str, Any]:
    for name in ("received_at", "answered_at"):
        if row.get(name) is not None:
            row[name] = row[name].isoformat() + "+00:00"
    return row
