"""Queue priority, requeueing, contact details left for follow-up, satisfaction ratings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): SQLite would cascade a rebuilt table's deletes.
    op.add_column("handoffs", sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
    op.add_column("handoffs", sa.Column("requeued_at", UTC, nullable=True))
    op.add_column("handoffs", sa.Column("contact", sa.JSON, nullable=True))
    op.add_column("handoffs", sa.Column("rating", sa.Integer, nullable=True))
    op.add_column("handoffs", sa.Column("rating_comment", sa.Text, nullable=True))
    op.add_column("handoffs", sa.Column("rated_at", UTC, nullable=True))
    op.create_index("ix_handoffs_queue", "handoffs", ["resolved_at", "priority", "requested_at"])
    op.add_column("conversations", sa.Column("customer_left_at", UTC, nullable=True))


def downgrade() -> None:
    op.drop_column("conversations", "customer_left_at")
    op.drop_index("ix_handoffs_queue", "handoffs")
    for column in ("rated_at", "rating_comment", "rating", "contact", "requeued_at", "priority"):
        op.drop_column("handoffs", column)
