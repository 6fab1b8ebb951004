"""Conversations, messages, handoffs, agents and their sessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        # Its foreign key to handoffs is added below: the two tables refer to each other.
        sa.Column("handoff_id", sa.Integer, nullable=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    )
    op.create_index("ix_conversations_status", "conversations", ["status"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("disruption", sa.String(32), nullable=True),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("trigger_seq", sa.Integer, nullable=True),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_open", "handoffs", ["resolved_at", "requested_at"])
    if op.get_bind().dialect.name != "sqlite":
        # SQLite cannot add a constraint to an existing table; there the column stays plain.
        op.create_foreign_key(
            "fk_conversations_handoff_id", "conversations", "handoffs", ["handoff_id"], ["id"]
        )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("client_message_id", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("buttons", sa.JSON, nullable=True),
        sa.Column("nlu", sa.JSON, nullable=True),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        sa.UniqueConstraint(
            "conversation_id", "client_message_id", name="uq_messages_conversation_client_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("messages")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_conversations_handoff_id", "conversations", type_="foreignkey")
    op.drop_table("handoffs")
    op.drop_table("conversations")
    op.drop_table("agent_sessions")
    op.drop_table("agents")
