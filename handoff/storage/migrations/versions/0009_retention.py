"""Retention and erasure (handoff.conversations.retention): when a conversation's transcript
and its customer's details were deleted and why, whether Rasa's copy is still to go, and the
text of an assigned example kept for the training data.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, never a batch: on SQLite a batch rebuilds the table,
    # and dropping the old conversations table would cascade to every message and handoff.
    op.add_column("conversations", sa.Column("redacted_at", UTC, nullable=True))
    op.add_column("conversations", sa.Column("redaction", sa.String(16), nullable=True))
    op.add_column(
        "conversations",
        sa.Column("assistant_forget_pending", sa.Boolean, nullable=False,
                  server_default=sa.false()),
    )
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])
    op.add_column("unanswered_messages", sa.Column("text", sa.Text, nullable=True))


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite 3.35 and later, PostgreSQL), again never a batch.
    op.execute("ALTER TABLE unanswered_messages DROP COLUMN text")
    op.drop_index("ix_conversations_updated_at", table_name="conversations")
    for column in ("assistant_forget_pending", "redaction", "redacted_at"):
        op.execute(f"ALTER TABLE conversations DROP COLUMN {column}")
