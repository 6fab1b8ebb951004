"""The details an empowered action takes besides its amount (e.g. the new flight).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column is added in place on SQLite too: no table is rebuilt.
    op.add_column("resolutions", sa.Column("fields", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resolutions") as batch:
        batch.drop_column("fields")
