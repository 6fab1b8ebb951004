"""History: conversations newest first, a page at a time (handoff.conversations.history).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # History's order and keyset; created_at never changes, so messages do not touch it.
    op.create_index("ix_conversations_created_at", "conversations", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_created_at", "conversations")
