"""What the bot could not answer, grouped into topics (handoff.assistant.misses).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unanswered_topics",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("vector_sum", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("first_seen", UTC, nullable=False),
        sa.Column("last_seen", UTC, nullable=False),
    )
    op.create_index("ix_unanswered_topics_last_seen", "unanswered_topics", ["last_seen"])
    op.create_table(
        "unanswered_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(32),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("unanswered_topics.id"), nullable=False),
        sa.Column("intent", sa.String(32), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_unanswered_conversation_seq"),
    )
    op.create_index("ix_unanswered_at", "unanswered_messages", ["at"])
    op.create_index("ix_unanswered_topic_at", "unanswered_messages", ["topic_id", "at"])


def downgrade() -> None:
    op.drop_table("unanswered_messages")
    op.drop_table("unanswered_topics")
