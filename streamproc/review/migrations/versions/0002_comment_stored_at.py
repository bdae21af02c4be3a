"""comments.stored_at: when a comment was read, so that those without a case can be purged.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("comments", sa.Column("stored_at", sa.DateTime(), nullable=True))
    op.create_index("ix_comments_stored_at", "comments", ["stored_at"])


def downgrade() -> None:
    op.drop_index("ix_comments_stored_at", table_name="comments")
    op.drop_column("comments", "stored_at")
