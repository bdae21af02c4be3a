"""retention index: the cases not yet purged, by creation time.

The retention pass looks for unpurged cases older than the cutoff; purged rows stay for good,
so without this partial index every pass read the whole table.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# As streamproc.review._schema.NOT_PURGED on the day of this migration.
_NOT_PURGED = "author_id != '(purged)'"


def upgrade() -> None:
    op.create_index(
        "ix_cases_unpurged_created_at",
        "cases",
        ["created_at"],
        sqlite_where=sa.text(_NOT_PURGED),
        postgresql_where=sa.text(_NOT_PURGED),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_unpurged_created_at", table_name="cases")
