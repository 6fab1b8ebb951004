"""The operations feed's disruptions with the bookings each touches, and the customers a
site vouched for by a signed identity (one row per conversation, in a table of its own).

New tables only: nothing stored before is read or changed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "disruptions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("flight_number", sa.String(16), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("details", sa.Text, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_index("ix_disruptions_date", "disruptions", ["date"])
    op.create_table(
        "disruption_bookings",
        sa.Column("disruption_id", sa.String(64),
                  sa.ForeignKey("disruptions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("booking_reference", sa.String(16), primary_key=True),
    )
    op.create_index(
        "ix_disruption_bookings_booking_reference", "disruption_bookings", ["booking_reference"]
    )
    op.create_table(
        "customer_identities",
        sa.Column("conversation_id", sa.String(32),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(120), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("bookings", sa.JSON, nullable=False),
        sa.Column("verified_at", UTC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("customer_identities")
    op.drop_index("ix_disruption_bookings_booking_reference", "disruption_bookings")
    op.drop_table("disruption_bookings")
    op.drop_index("ix_disruptions_date", "disruptions")
    op.drop_table("disruptions")
