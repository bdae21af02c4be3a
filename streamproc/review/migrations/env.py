"""Alembic environment: the connection is handed in by streamproc.review._migrate."""

from __future__ import annotations

from alembic import context

from streamproc.review._schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
