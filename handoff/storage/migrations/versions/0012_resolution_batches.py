"""A bulk action over one disruption: each of its resolutions names the disruption and
the batch it belongs to, so that one above the agent's authority goes to a supervisor
as one request (handoff.agent_tools.disruption_resolutions).

Two nullable columns added in place: every row stored before keeps its values, and
reads NULL for both (a resolution of one conversation).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, never a batch rebuild: on SQLite a rebuild of a table
    # others point at with ON DELETE CASCADE can take their rows with it.
    op.add_column("resolutions", sa.Column("disruption_id", sa.String(64), nullable=True))
    op.add_column("resolutions", sa.Column("batch_id", sa.String(32), nullable=True))
    op.create_index("ix_resolutions_batch_id", "resolutions", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_resolutions_batch_id", "resolutions")
    op.drop_column("resolutions", "batch_id")
    op.drop_column("resolutions", "disruption_id")
