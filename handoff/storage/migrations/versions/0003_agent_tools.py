"""Private notes, canned responses, empowered resolutions and the audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    # New tables only: no existing table is rebuilt (SQLite would cascade its deletes).
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_index("ix_notes_conversation_id", "notes", ["conversation_id"])
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shortcut", sa.String(32), nullable=False, unique=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("updated_by_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
    )
    op.create_table(
        "resolutions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("requested_by_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("decided_by_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("reference", sa.String(120), nullable=True),
        sa.Column("carried_out_at", UTC, nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
    )
    op.create_index("ix_resolutions_conversation_id", "resolutions", ["conversation_id"])
    op.create_index("ix_resolutions_status", "resolutions", ["status", "requested_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("conversation_id", sa.String(32), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_conversation", "audit_log", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("resolutions")
    op.drop_table("canned_responses")
    op.drop_table("notes")
