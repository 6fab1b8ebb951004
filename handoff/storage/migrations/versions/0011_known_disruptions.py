"""The disruption a conversation's customer was told of: found by a verified booking
when the conversation opened, or by a booking reference they typed, so that its handoff
and the queue's group carry it (handoff.operations.known).

A new table only: nothing stored before is read or changed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_disruptions",
        sa.Column("conversation_id", sa.String(32),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("disruption_id", sa.String(64),
                  sa.ForeignKey("disruptions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("booking_reference", sa.String(16), nullable=False),
        sa.Column("known_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_known_disruptions_disruption_id", "known_disruptions", ["disruption_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_known_disruptions_disruption_id", "known_disruptions")
    op.drop_table("known_disruptions")
