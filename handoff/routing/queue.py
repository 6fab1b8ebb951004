"""The human queue: its order, each customer's place in it, and the expected wait.

Order: disrupted plans first, then high frustration, then everyone else; within a
priority, the longest waiting first. A conversation whose agent disconnected goes back
at the very front.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.storage.models import STATUS_WAITING, Conversation, Handoff, utcnow

PRIORITY_NORMAL = 0
PRIORITY_FRUSTRATED = 1
PRIORITY_DISRUPTED = 2
PRIORITY_REQUEUED = 3
HIGH_FRUSTRATION = 0.7
# The waits of the last this-many claims, within the look-back window, make the estimate.
HISTORY_SIZE = 50
HISTORY_WINDOW = dt.timedelta(days=7)


def handoff_priority(reason: str, disruption: str | None, context: dict[str, Any]) -> int:
    if disruption:
        return PRIORITY_DISRUPTED
    frustration = context.get("frustration") if isinstance(context, dict) else None
    score = frustration.get("score", 0) if isinstance(frustration, dict) else 0
    if reason == "frustration" or (isinstance(score, (int, float)) and score >= HIGH_FRUSTRATION):
        return PRIORITY_FRUSTRATED
    return PRIORITY_NORMAL


async def waiting_in_order(db: AsyncSession) -> list[str]:
    """The ids of the waiting conversations, first in line first."""
    return list(
        (
            await db.scalars(
                select(Conversation.id)
                .join(Handoff, Conversation.handoff_id == Handoff.id)
                .where(Conversation.status == STATUS_WAITING)
                .order_by(Handoff.priority.desc(), Handoff.requested_at, Handoff.id)
            )
        ).all()
    )


async def typical_wait_seconds(db: AsyncSession) -> float | None:
    """The median wait of recent claimed handoffs; None without history."""
    since = utcnow() - HISTORY_WINDOW
    rows = (
        await db.execute(
            select(Handoff.requested_at, Handoff.claimed_at)
            .where(Handoff.claimed_at.is_not(None), Handoff.claimed_at >= since)
            .order_by(Handoff.claimed_at.desc())
            .limit(HISTORY_SIZE)
        )
    ).all()
    waits = [(claimed - requested).total_seconds() for requested, claimed in rows]
    return statistics.median(waits) if waits else None


@dataclass(frozen=True)
class Place:
    position: int
    estimated_wait_seconds: int | None
    agents_online: int


def estimate(position: int, typical_wait: float | None, agents_online: int) -> int | None:
    """Each customer ahead adds a typical wait, shared among the agents online."""
    if typical_wait is None or agents_online == 0:
        return None
    return max(30, round(typical_wait * position / agents_online))


async def places(db: AsyncSession, agents_online: int) -> dict[str, Place]:
    waiting = await waiting_in_order(db)
    typical = await typical_wait_seconds(db)
    return {
        conversation_id: Place(index, estimate(index, typical, agents_online), agents_online)
        for index, conversation_id in enumerate(waiting, start=1)
    }
