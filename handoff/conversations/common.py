"""Helpers every conversation action shares: storing, the holder, publishing.

State changes end in ``status_changed``, which updates the holders' cache and then the
sockets; only the conversation and agent-tool actions call these.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.http_errors import json_error
from handoff.live.events import (
    message_event,
    queue_event,
    status_event,
)
from handoff.shapes.events import Event
from handoff.storage.holders import Holder
from handoff.storage.models import (
    STATUS_AGENT,
    Agent,
    Conversation,
    Message,
)
from handoff.routing.queue import Place, places
from handoff.live.serializers import console_message_shape, message_shape
from handoff.routing.team import Team, team_of
from handoff.storage.writer import Draft, Stored, store_in_transaction

log = logging.getLogger(__name__)

# A message as the API shows it: stored by the writer, or read back from the database.
AnyMessage = Stored | Message


async def _append_all(db: AsyncSession, conversation_id: str, drafts: list[Draft]) -> list[Stored]:
    """Messages added inside a state change's own transaction."""
    return await store_in_transaction(db, conversation_id, drafts)


async def append_message(
    db: AsyncSession, conversation_id: str, sender: str, text: str, *, agent: Agent | None = None
) -> Stored:
    draft = Draft(
        sender, text, agent_id=agent.id if agent else None, author=agent.name if agent else None
    )
    return (await _append_all(db, conversation_id, [draft]))[0]


async def local_agent(db: AsyncSession, agent: Agent | None) -> Agent | None:
    """This session's copy of an agent loaded by another session."""
    return await db.get(Agent, agent.id) if agent is not None else None


async def conversation_or_404(db: AsyncSession, conversation_id: str) -> Conversation:
    conversation = await db.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise json_error(web.HTTPNotFound, "conversation not found")
    return conversation


async def holder_of(app: web.Application, conversation_id: str) -> Holder:
    """Who has the conversation (from memory); 404 when there is no such conversation."""
    holder = await app[keys.HOLDERS].get(conversation_id)
    if holder is None:
        raise json_error(web.HTTPNotFound, "conversation not found")
    return holder


async def publish_messages(
    app: web.Application,
    conversation_id: str,
    messages: list[AnyMessage],
    to_agents: bool,
    skip: web.WebSocketResponse | None = None,
) -> None:
    """`skip`: the widget socket that sent them, which gets them in its ack instead."""
    publisher = app[keys.PUBLISHER]
    holder = await agent_holding(app, conversation_id) if to_agents else None
    for message in messages:
        shape = message_shape(message)
        await publisher.to_conversation(
            conversation_id, message_event(conversation_id, shape), skip
        )
        if to_agents:
            console = console_message_shape(message, shape)
            await publisher.to_agents(message_event(conversation_id, console), holder=holder)


async def agent_holding(app: web.Application, conversation_id: str) -> int | None:
    """The agent who has the conversation; None while it waits (every console sees it)."""
    holder = await app[keys.HOLDERS].get(conversation_id)
    if holder is None or holder.status != STATUS_AGENT:
        return None
    return holder.agent_id


async def status_changed(app: web.Application, conversation: Conversation) -> None:
    """Every change of who has a conversation ends here: the cache, then the sockets."""
    agent = conversation.agent
    name, agent_id = (agent.name, agent.id) if agent is not None else (None, None)
    await app[keys.HOLDERS].changed(conversation.id, Holder(conversation.status, agent_id, name))
    # A new handoff (or a requeue) may need its first reply recorded (agent_side).
    app[keys.FIRST_REPLIES].discard(conversation.id)
    publisher = app[keys.PUBLISHER]
    await publisher.to_conversation(
        conversation.id, status_event(conversation.id, conversation.status, name)
    )
    await publisher.to_agents(status_event(conversation.id, conversation.status, name, agent_id))


async def publish_queue(app: web.Application) -> None:
    """Tells every waiting customer their place and expected wait, after any change."""
    async with app[keys.DB].read() as db:
        current = await places(db, app[keys.SOCKETS].agents_online())
    app[keys.METRICS].waiting_for_person.set(len(current))
    team = team_of(app)
    publisher = app[keys.PUBLISHER]
    for conversation_id, place in current.items():
        if app[keys.SOCKETS].customer_connected(conversation_id):
            await publisher.to_conversation(conversation_id, place_event(conversation_id, place, team))


def check_holder(held: Conversation | Holder, agent: Agent) -> None:
    """409 unless the agent has the conversation (its row, or who has it from memory)."""
    if held.status != STATUS_AGENT or held.agent_id != agent.id:
        raise json_error(
            web.HTTPConflict, "claim the conversation first", conversation_status=held.status
        )


def place_event(conversation_id: str, place: Place, team: Team) -> Event:
    """A waiting customer's place in the queue, as their widget shows it."""
    return queue_event(
        conversation_id, place.position, place.estimated_wait_seconds, place.agents_online,
        team.as_fields(),
    )
