"""The console's tables (SQLAlchemy Core). Changes go through a new Alembic migration in
``migrations/versions/``; ``tests/unit/test_review_store.py`` checks the two agree."""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "NOT_PURGED",
    "PURGED",
    "appeal_attempts",
    "appeals",
    "audit",
    "cases",
    "comments",
    "login_failures",
    "metadata",
    "notifications",
    "outbox",
    "outcomes",
    "sessions",
    "users",
]

metadata = MetaData()

#: What stands in for a purged author id or text (the rows stay, so counts and links hold).
PURGED: Final = "(purged)"
#: The cases retention has yet to empty. Its scan reads them through a partial index, not the
#: whole table: purged rows stay for good and would otherwise be read again by every pass.
NOT_PURGED: Final = f"author_id != '{PURGED}'"

#: One case per comment that automation acted on (every decision but ``allow``).
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("comment_id", String(512), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("author_id", String(512), nullable=False),
    Column("version", Integer, nullable=False),
    Column("decision", JSON, nullable=False),
    Column("actions", String(400), nullable=False),
    Column("policy_version", String(100), nullable=False),
    Column("decided_at", String(40), nullable=False),
    Column("needs_person", Boolean, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("review_after", DateTime(), nullable=True),
    Column("report", Boolean, nullable=False),
    Column("employee", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(300), nullable=False),
    Column("claimed_by", String(100), nullable=True),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    UniqueConstraint("comment_id", name="uq_cases_comment_id"),
    Index(
        "ix_cases_unpurged_created_at",
        "created_at",
        sqlite_where=text(NOT_PURGED),
        postgresql_where=text(NOT_PURGED),
    ),
)

#: The comments themselves (text, author's name and role), from comments.<channel>. Every
#: comment is read (its decision may come before or after it); those without a case go after
#: ``STREAMPROC_REVIEW_ORPHAN_HOURS``.
comments = Table(
    "comments",
    metadata,
    Column("comment_id", String(512), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("author_id", String(512), nullable=False),
    Column("author_name", String(512), nullable=True),
    Column("role", String(20), nullable=True),
    Column("text", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    # When it was read: a comment no decision made a case of is purged after a while.
    Column("stored_at", DateTime(), nullable=True, index=True),
)

#: The latest state of each action the sink carried out (moderation.outcomes).
outcomes = Table(
    "outcomes",
    metadata,
    Column("action_id", String(700), primary_key=True),
    Column("comment_id", String(512), nullable=False, index=True),
    Column("action", String(40), nullable=False),
    Column("operation", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(500), nullable=True),
    Column("at", String(40), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", DateTime(), nullable=False),
)

#: Server-side sessions: the cookie holds a random token, the table only its SHA-256.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", DateTime(), nullable=False),
)

#: Failed sign-ins (keyed by a hash of name and address), for the rate limit across replicas.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, index=True),
    Column("at", DateTime(), nullable=False),
)

#: Append-only (a trigger refuses UPDATE and DELETE): who did what, when, why.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("case_id", Integer, nullable=True, index=True),
    Column("detail", Text, nullable=False),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("statement", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("answer", Text, nullable=True),
    Column("received_at", DateTime(), nullable=False),
    Column("answered_by", String(100), nullable=True),
    Column("answered_at", DateTime(), nullable=True),
    # "console" (recorded by a person as received) or "public" (the author's appeal link).
    Column("origin", String(20), nullable=False, server_default="console"),
    # The decision version a link named (a later edit is a new decision to appeal).
    Column("decision_version", Integer, nullable=True),
    # One open appeal per case: a repeated submission, on any replica, is not stored twice.
    Index(
        "uq_appeals_open_case",
        "case_id",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
)

#: Appeal submissions from the public link, keyed by a hash of the address, for the hourly
#: limit across replicas (rows older than the hour are dropped as new ones come).
appeal_attempts = Table(
    "appeal_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, index=True),
    Column("at", DateTime(), nullable=False, index=True),
)

#: Review records to publish on moderation.reviews, written in the action's transaction and
#: sent afterwards (the transactional outbox: nothing lost if the broker is down, sent once
#: per review id, which the sink and the worker treat idempotently).
outbox = Table(
    "outbox",
    metadata,
    Column("review_id", String(100), primary_key=True),
    Column("case_id", Integer, nullable=False),
    Column("key", String(512), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("sent_at", DateTime(), nullable=True),
)

#: The out-of-hours webhook for urgent cases: one row per case notified (or being retried), so
#: a case is announced once, across restarts and replicas.
notifications = Table(
    "notifications",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("next_at", DateTime(), nullable=False),
    Column("sent_at", DateTime(), nullable=True),
    Column("last_result", String(40), nullable=False),
)
