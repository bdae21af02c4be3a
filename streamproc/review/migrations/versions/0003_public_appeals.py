"""Appeals from the public link: their origin and decision version, one open appeal per case
(a partial unique index), and the submissions per address for the rate limit.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(
            sa.Column("origin", sa.String(20), nullable=False, server_default="console")
        )
        batch.add_column(sa.Column("decision_version", sa.Integer, nullable=True))
    # A case with two open appeals from before keeps its first open; the others wait as
    # "superseded" (rare: the console recorded appeals by hand until now).
    op.execute(
        "UPDATE appeals SET status = 'superseded' WHERE status = 'open' AND id NOT IN "
        "(SELECT MIN(id) FROM appeals WHERE status = 'open' GROUP BY case_id)"
    )
    op.create_index(
        "uq_appeals_open_case",
        "appeals",
        ["case_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "appeal_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_appeal_attempts_key", "appeal_attempts", ["key"])
    op.create_index("ix_appeal_attempts_at", "appeal_attempts", ["at"])


def downgrade() -> None:
    op.drop_table("appeal_attempts")
    op.drop_index("uq_appeals_open_case", table_name="appeals")
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("decision_version")
        batch.drop_column("origin")
