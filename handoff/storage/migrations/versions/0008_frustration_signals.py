"""What the insights count without reading every message: frustrated conversations and
their signals (handoff.assistant.frustration), and each handoff's first human reply.

Filled from what is stored already: customer messages scored at or above the threshold,
frustration handoffs' context, and the first agent message after each handoff's trigger.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
# handoff.assistant.frustration's, as of this revision.
THRESHOLD = 0.6
BATCH = 5000


def _signals(frustration: Any, handed_off: bool) -> list[str] | None:
    if not isinstance(frustration, dict):
        return [] if handed_off else None
    score = frustration.get("score")
    if not handed_off and not (isinstance(score, (int, float)) and score >= THRESHOLD):
        return None
    return sorted({s[:40] for s in frustration.get("signals") or [] if isinstance(s, str) and s})


def _at(value: Any) -> dt.datetime:
    """SQLite gives a raw query's times as text, naive UTC."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(str(value))
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def upgrade() -> None:
    op.add_column("handoffs", sa.Column("first_reply_at", UTC, nullable=True))
    op.execute(
        "UPDATE handoffs SET first_reply_at = ("
        " SELECT m.created_at FROM messages m"
        " WHERE m.conversation_id = handoffs.conversation_id"
        " AND m.seq > coalesce(handoffs.trigger_seq, 0) AND m.sender = 'agent'"
        " AND (handoffs.resolved_at IS NULL OR m.created_at <= handoffs.resolved_at)"
        " ORDER BY m.seq LIMIT 1)"
    )
    table = op.create_table(
        "frustration_signals",
        sa.Column("conversation_id", sa.String(32),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("signal", sa.String(40), primary_key=True),
        sa.Column("at", UTC, nullable=False),
    )
    bind = op.get_bind()
    found: dict[tuple[str, str], Any] = {}
    readings = bind.execute(sa.text(
        "SELECT conversation_id, nlu, created_at FROM messages "
        "WHERE sender = 'customer' AND nlu IS NOT NULL"
    ))
    handoffs = bind.execute(sa.text(
        "SELECT conversation_id, context, requested_at FROM handoffs WHERE reason = 'frustration'"
    ))
    for rows, handed_off in ((readings, False), (handoffs, True)):
        for conversation_id, data, at in rows:
            data = _json(data) or {}
            signals = _signals(data.get("frustration") if isinstance(data, dict) else None, handed_off)
            if signals is not None:
                for signal in ["", *signals]:
                    found.setdefault((conversation_id, signal), _at(at))
    values = [{"conversation_id": c, "signal": s, "at": at} for (c, s), at in found.items()]
    for start in range(0, len(values), BATCH):
        op.bulk_insert(table, values[start:start + BATCH])


def downgrade() -> None:
    op.drop_table("frustration_signals")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("first_reply_at")
