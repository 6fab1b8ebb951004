"""The reads the API's views answer with, each a named query, so no view writes SQL.

Each takes the request's session and returns rows; the rows' joined relationships
(``lazy="joined"``) come with them, hence ``unique()`` where a row has collections.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.storage.models import (
    STATUS_AGENT,
    STATUS_WAITING,
    Agent,
    CannedResponse,
    Conversation,
    CustomerIdentity,
    Handoff,
    Message,
    Note,
    Resolution,
)


async def open_queue(db: AsyncSession) -> list[Conversation]:
    """The queue: held conversations first, then by priority, then oldest request first."""
    rows = await db.scalars(
        select(Conversation)
        .join(Handoff, Conversation.handoff_id == Handoff.id)
        .where(Conversation.status.in_((STATUS_WAITING, STATUS_AGENT)))
        .order_by(Conversation.status.desc(), Handoff.priority.desc(), Handoff.requested_at)
    )
    return list(rows.unique().all())


async def transcript(db: AsyncSession, conversation_id: str) -> list[Message]:
    """Every message of a conversation, in order."""
    rows = await db.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.seq)
    )
    return list(rows.all())


async def messages_after(db: AsyncSession, conversation_id: str, after: int) -> list[Message]:
    """The messages a client has not seen: those with a seq above ``after``, in order."""
    rows = await db.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after)
        .order_by(Message.seq)
    )
    return list(rows.all())


async def identity_of(db: AsyncSession, conversation_id: str) -> CustomerIdentity | None:
    """Who the site vouched the conversation's customer is; None: anonymous."""
    return await db.get(CustomerIdentity, conversation_id)


async def handoffs_of(db: AsyncSession, conversation_id: str) -> list[Handoff]:
    """Every handoff of a conversation, oldest first."""
    rows = await db.scalars(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.requested_at)
    )
    return list(rows.unique().all())


async def notes_of(db: AsyncSession, conversation_id: str) -> list[Note]:
    rows = await db.scalars(
        select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id)
    )
    return list(rows.unique().all())


async def resolutions_of(db: AsyncSession, conversation_id: str) -> list[Resolution]:
    rows = await db.scalars(
        select(Resolution)
        .where(Resolution.conversation_id == conversation_id)
        .order_by(Resolution.id)
    )
    return list(rows.unique().all())


async def all_agents(db: AsyncSession) -> list[Agent]:
    """Every agent, by name (the id tells two of one name apart)."""
    rows = await db.scalars(select(Agent).order_by(Agent.name, Agent.id))
    return list(rows.all())


async def all_canned(db: AsyncSession) -> list[CannedResponse]:
    """Every canned response, by shortcut."""
    rows = await db.scalars(select(CannedResponse).order_by(CannedResponse.shortcut))
    return list(rows.all())
