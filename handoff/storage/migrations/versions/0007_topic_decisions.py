"""A supervisor's decision on an unanswered topic (handoff.insights.learning).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Batch: SQLite adds a column with a foreign key by rebuilding the (small) table.
    with op.batch_alter_table("unanswered_topics") as batch:
        batch.add_column(sa.Column("decision", sa.String(16), nullable=True))
        batch.add_column(sa.Column("intent", sa.String(64), nullable=True))
        batch.add_column(sa.Column("name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("decided_by_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("decided_at", UTC, nullable=True))
        batch.create_foreign_key(
            "fk_unanswered_topics_decided_by", "agents", ["decided_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("unanswered_topics") as batch:
        batch.drop_constraint("fk_unanswered_topics_decided_by", type_="foreignkey")
        for column in ("decided_at", "decided_by_id", "name", "intent", "decision"):
            batch.drop_column(column)
