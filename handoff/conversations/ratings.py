"""After an agent resolved: which handoff a rating is for, and whether to ask for one.

``customer_side.do_rate`` rates the conversation's latest resolved handoff. The widget asks
again after a reload (GET /api/conversations/{id}) while that same handoff is unrated
and recent, as Intercom and Zendesk keep their rating prompt until it is answered.
"""

from __future__ import annotations

import datetime as dt
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.storage.models import Handoff, utcnow
from handoff.live.serializers import iso
from handoff.shapes import http

# A customer who comes back later than this is no longer asked about that chat.
RATING_ASKED_FOR = dt.timedelta(hours=24)


def latest_resolved(conversation_id: str) -> Select[tuple[Handoff]]:
    """The handoff a rating is for. One row through ix_handoffs_conversation_id; the
    agent comes in the same statement (Handoff.agent is joined)."""
    return (
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.resolved_at.is_not(None))
        .order_by(Handoff.resolved_at.desc(), Handoff.id.desc())
        .limit(1)
    )


async def rating_prompt(db: AsyncSession, conversation_id: str) -> http.RatingPrompt | None:
    """The prompt while the handoff do_rate would rate is unrated and was resolved less
    than RATING_ASKED_FOR ago, else None.

    Only for a conversation that is back with the bot: the caller checks its status.
    """
    handoff = await db.scalar(latest_resolved(conversation_id))
    if handoff is None or handoff.rating is not None or handoff.resolved_at is None:
        return None
    if utcnow() - handoff.resolved_at >= RATING_ASKED_FOR:
        return None
    agent = http.AgentName(name=handoff.agent.name) if handoff.agent is not None else None
    return http.RatingPrompt(agent=agent, asked_at=iso(handoff.resolved_at))
