"""People: accounts with Argon2id password hashes, server-side sessions, the sign-in rate limit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from streamproc.core import StreamprocError
from streamproc.review._records import utcnow
from streamproc.review._schema import audit, login_failures, sessions, users
from streamproc.review._store import ROLES

__all__ = ["AccountError", "Accounts", "RateLimited"]

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
_DUMMY = _hasher.hash("not a password anyone has")
_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10


class AccountError(StreamprocError, ValueError):
    """An account cannot be created as asked."""


class RateLimited(StreamprocError):
    """Too many failed sign-ins for one name from one address: wait."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Accounts:
    def __init__(self, engine: Engine, attempts: int = 5, session_hours: float = 10.0) -> None:
        self.engine = engine
        self.attempts = attempts
        self.session_length = timedelta(hours=session_hours)

    def add(self, name: str, role: str, password: str, actor: str = "command line") -> int:
        if role not in ROLES:
            raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if not name or len(name) > 100 or not name.isprintable():
            raise AccountError("a user name is 1 to 100 printable characters")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
        now = utcnow()
        try:
            with self.engine.begin() as connection:
                user_id = connection.execute(
                    users.insert().values(
                        name=name, role=role, password_hash=_hasher.hash(password), created_at=now
                    )
                ).inserted_primary_key
                connection.execute(
                    audit.insert().values(
                        at=now, actor=actor, action="user_added", detail=f"{name} as {role}"
                    )
                )
        except IntegrityError:
            raise AccountError(f"there is already a user {name!r}") from None
        assert user_id is not None
        return int(user_id[0])

    def sign_in(self, name: str, password: str, address: str) -> tuple[str, dict[str, Any]]:
        """A new session token and the user, or None for a wrong name or password.

        Raises :class:`RateLimited` after ``attempts`` failures for the name from the address
        within 15 minutes (counted in the database, so across replicas)."""
        key = _digest(f"{name}\0{address}")
        now = utcnow()
        with self.engine.begin() as connection:
            failures = connection.execute(
                select(func.count())
                .select_from(login_failures)
                .where(login_failures.c.key == key, login_failures.c.at > now - _WINDOW)
            ).scalar_one()
            if failures >= self.attempts:
                raise RateLimited("too many failed sign-ins: try again in 15 minutes")
            row = connection.execute(select(users).where(users.c.name == name)).first()
            try:
                # A missing user costs the same hash as a wrong password: no name oracle.
                _hasher.verify(row.password_hash if row is not None else _DUMMY, password)
                ok = row is not None
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok or row is None:
                connection.execute(login_failures.insert().values(key=key, at=now))
                return "", {}
            connection.execute(delete(login_failures).where(login_failures.c.key == key))
            connection.execute(delete(sessions).where(sessions.c.expires_at < now))
            token = secrets.token_urlsafe(32)
            connection.execute(
                sessions.insert().values(
                    token_hash=_digest(token),
                    user_id=row.id,
                    csrf=secrets.token_urlsafe(32),
                    expires_at=now + self.session_length,
                )
            )
            connection.execute(
                audit.insert().values(at=now, actor=row.name, action="sign_in", detail="")
            )
            return token, {"id": row.id, "name": row.name, "role": row.role}

    def session(self, token: str) -> dict[str, Any] | None:
        """The signed-in user of a session token (with its CSRF token), or None."""
        if not token:
            return None
        query = (
            select(users.c.id, users.c.name, users.c.role, sessions.c.csrf)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == _digest(token), sessions.c.expires_at > utcnow())
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return dict(row._mapping) if row is not None else None

    def sign_out(self, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.token_hash == _digest(token)))
