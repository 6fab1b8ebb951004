"""What else a customer gives: contact details, a rating, presence; and the bot's later
readings of the handoff's context.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy import update

from handoff import keys
from handoff.http_errors import json_error
from handoff.conversations.context import merged_context
from handoff.live.events import (
    context_event,
    handoff_event,
    presence_event,
    rating_event,
)
from handoff.storage.models import (
    STATUS_BOT,
    STATUS_WAITING,
    Conversation,
    Handoff,
    Message,
    utcnow,
)
from handoff.conversations.ratings import latest_resolved
from handoff.live.serializers import queue_entry, rating_shape
from handoff.storage.writer import Stored
from handoff.conversations.common import (
    agent_holding,
    append_message,
    conversation_or_404,
    publish_messages,
)
from handoff.conversations.customer_turns import TurnResult

log = logging.getLogger(__name__)

# A message as the API shows it: stored by the writer, or read back from the database.
AnyMessage = Stored | Message


async def do_leave_contact(
    app: web.Application, conversation_id: str, contact: dict[str, str], text: str | None
) -> TurnResult:
    """The customer can't wait: keep their details and message for a follow-up."""
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await conversation_or_404(db, conversation_id)
            if conversation.status != STATUS_WAITING or conversation.handoff is None:
                raise json_error(
                    web.HTTPConflict,
                    "contact details are taken while waiting for an agent",
                    conversation_status=conversation.status,
                )
            conversation.handoff.contact = {**contact, "left_at": utcnow().isoformat()}
            added: list[AnyMessage] = []
            if text:
                added.append(await append_message(db, conversation_id, "customer", text))
            where = contact.get("email") or contact.get("phone")
            added.append(
                await append_message(
                    db,
                    conversation_id,
                    "system",
                    f"Thank you. We'll get back to you at {where} as soon as a colleague is "
                    "free, and they'll have this whole conversation in front of them.",
                )
            )
            entry = queue_entry(conversation)
        await publish_messages(app, conversation_id, added, to_agents=True)
        await app[keys.PUBLISHER].to_agents(handoff_event(entry))
        return TurnResult(status=STATUS_WAITING, messages=added)


async def do_rate(
    app: web.Application, conversation_id: str, score: int, comment: str | None
) -> Handoff:
    """The customer's satisfaction with their latest resolved handoff."""
    async with app[keys.DB].write() as db:
        handoff = await db.scalar(latest_resolved(conversation_id))
        if handoff is None:
            raise json_error(web.HTTPConflict, "there is no resolved conversation to rate")
        handoff.rating = score
        handoff.rating_comment = comment
        handoff.rated_at = utcnow()
        event = rating_event(conversation_id, rating_shape(handoff))
    # To the agent who resolved it (their consoles) and to consoles that have it open.
    await app[keys.PUBLISHER].to_agents(event, holder=handoff.agent_id)
    return handoff


async def do_customer_presence(app: web.Application, conversation_id: str, online: bool) -> None:
    async with app[keys.DB].write() as db:
        await db.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(customer_left_at=None if online else utcnow())
        )
    holder = await app[keys.HOLDERS].get(conversation_id)
    if holder is not None and holder.status != STATUS_BOT:
        await app[keys.PUBLISHER].to_agents(presence_event(conversation_id, online))


async def do_update_context(
    app: web.Application, conversation_id: str, annotation: dict[str, Any]
) -> None:
    """What the bot read in a later customer message joins the open handoff's context,
    so the agent's console shows it without a reload (handoff.context)."""
    async with app[keys.DB].write() as db:
        conversation = await db.get(Conversation, conversation_id, populate_existing=True)
        handoff = conversation.handoff if conversation is not None else None
        if handoff is None or conversation.status == STATUS_BOT:
            return
        context = merged_context(handoff.context or {}, annotation)
        if context is None:
            return
        # A new dict: SQLAlchemy does not see changes inside a JSON value.
        handoff.context = context
        handoff_id = handoff.id
    await app[keys.PUBLISHER].to_agents(
        context_event(conversation_id, handoff_id, context),
        holder=await agent_holding(app, conversation_id),
    )
