"""What agents do to a conversation: claim, reply, resolve; and requeueing when one is gone.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select, update

from handoff import keys
from handoff.storage.audit import record_audit
from handoff.http_errors import json_error
from handoff.live.events import (
    handoff_event,
)
from handoff.storage.models import (
    STATUS_AGENT,
    STATUS_BOT,
    STATUS_WAITING,
    Agent,
    Conversation,
    Handoff,
    Message,
    utcnow,
)
from handoff.routing.queue import PRIORITY_REQUEUED
from handoff.assistant.rasa_client import BotUnavailable
from handoff.live.serializers import queue_entry
from handoff.storage.writer import Draft, DuplicateMessage, Stored
from handoff.conversations.common import (
    append_message,
    check_holder,
    conversation_or_404,
    holder_of,
    local_agent,
    publish_messages,
    publish_queue,
    status_changed,
)
from handoff.conversations.customer_turns import _replay

log = logging.getLogger(__name__)

# A message as the API shows it: stored by the writer, or read back from the database.
AnyMessage = Stored | Message


async def do_claim(app: web.Application, conversation_id: str, agent: Agent) -> Conversation:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await conversation_or_404(db, conversation_id)
            if conversation.status == STATUS_AGENT and conversation.agent_id == agent.id:
                return conversation
            if conversation.status != STATUS_WAITING or conversation.handoff is None:
                raise json_error(
                    web.HTTPConflict,
                    "conversation is not waiting for an agent",
                    conversation_status=conversation.status,
                )
            agent = await local_agent(db, agent) or agent
            now = utcnow()
            conversation.handoff.claimed_at = now
            conversation.handoff.agent_id = agent.id
            conversation.handoff.agent = agent
            conversation.status = STATUS_AGENT
            conversation.agent_id = agent.id
            conversation.agent = agent
            await record_audit(
                db, "claim", agent=agent, conversation_id=conversation_id,
                details={"handoff_id": conversation.handoff.id},
            )
            joined = await append_message(
                db, conversation_id, "system", f"{agent.name} from our team has joined the chat."
            )
        await publish_messages(app, conversation_id, [joined], to_agents=True)
        await status_changed(app, conversation)
    await publish_queue(app)
    return conversation


@dataclass
class AgentReply:
    message: AnyMessage
    # False: a retry of a reply stored before under the same client_message_id.
    created: bool


async def do_agent_message(
    app: web.Application,
    conversation_id: str,
    agent: Agent,
    text: str,
    client_message_id: str | None = None,
) -> AgentReply:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        if client_message_id is not None:
            seq = await app[keys.CLIENT_IDS].seq_of(conversation_id, client_message_id)
            if seq is not None:
                return await _agent_retry(app, conversation_id, agent, seq)
        check_holder(await holder_of(app, conversation_id), agent)
        draft = Draft(
            "agent", text, client_message_id=client_message_id, agent_id=agent.id, author=agent.name
        )
        try:
            message = (await app[keys.WRITER].store(conversation_id, [draft]))[0]
        except DuplicateMessage as stored:
            return await _agent_retry(app, conversation_id, agent, stored.seq)
        await publish_messages(app, conversation_id, [message], to_agents=True)
        # After the customer has the reply; the agent's answer waits for it (one update).
        replied = app[keys.FIRST_REPLIES]
        if conversation_id not in replied:
            await _first_reply(app, conversation_id, message.created_at)
            # A gateway alone knows every change of holder (status_changed forgets it
            # then); among several, another's new handoff would go unseen here.
            if app[keys.REDIS] is None:
                replied.add(conversation_id)
        return AgentReply(message, created=True)


async def _first_reply(app: web.Application, conversation_id: str, at: dt.datetime) -> None:
    """The open handoff's first human reply, for the insights' waits (once: later replies
    change nothing)."""
    async with app[keys.DB].write() as db:
        await db.execute(
            update(Handoff)
            .where(
                Handoff.id == select(Conversation.handoff_id)
                .where(Conversation.id == conversation_id).scalar_subquery(),
                Handoff.first_reply_at.is_(None),
            )
            .values(first_reply_at=at)
        )


async def _agent_retry(
    app: web.Application, conversation_id: str, agent: Agent, seq: int
) -> AgentReply:
    """A console resent a reply (its answer was lost): the stored one, if it is theirs."""
    original = (await _replay(app, conversation_id, seq))[1]
    if original.sender != "agent" or original.agent_id != agent.id:
        raise json_error(
            web.HTTPConflict, "this client_message_id belongs to another message",
            field="client_message_id",
        )
    return AgentReply(original, created=False)


async def do_resolve(
    app: web.Application, conversation_id: str, agent: Agent, outcome: str | None
) -> Conversation:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await conversation_or_404(db, conversation_id)
            if conversation.status == STATUS_AGENT:
                check_holder(conversation, agent)
            elif conversation.status != STATUS_WAITING:
                raise json_error(
                    web.HTTPConflict,
                    "conversation is not handed off",
                    conversation_status=conversation.status,
                )
            handoff = conversation.handoff
            if handoff is not None:
                handoff.resolved_at = utcnow()
                handoff.outcome = outcome or "resolved"
                if handoff.agent_id is None:
                    handoff.agent_id = agent.id
            await record_audit(
                db, "resolve", agent=agent, conversation_id=conversation_id,
                details={"handoff_id": handoff.id if handoff else None,
                         "outcome": outcome or "resolved"},
            )
            conversation.status = STATUS_BOT
            conversation.handoff_id = None
            conversation.handoff = None
            conversation.agent_id = None
            conversation.agent = None
            back = await append_message(
                db,
                conversation_id,
                "system",
                f"{agent.name} has marked this conversation as resolved. "
                "The Baton assistant is back: ask me anything, any time.",
            )
        await publish_messages(app, conversation_id, [back], to_agents=True)
        await status_changed(app, conversation)
    await publish_queue(app)
    try:
        await app[keys.RASA].set_mode(conversation_id, STATUS_BOT)
    except BotUnavailable as exc:
        # The channel brings the tracker back in step with the next message anyway.
        log.info("could not tell Rasa that %s is back with the bot: %s", conversation_id, exc)
    return conversation


async def do_requeue_agent_conversations(app: web.Application, agent_id: int) -> list[str]:
    """An agent's connection is gone for good: their customers go back, first in line."""
    async with app[keys.DB].read() as db:
        held = list(
            (
                await db.scalars(
                    select(Conversation.id).where(
                        Conversation.status == STATUS_AGENT, Conversation.agent_id == agent_id
                    )
                )
            ).all()
        )
    for conversation_id in held:
        async with app[keys.TURN_LOCKS].hold(conversation_id):
            async with app[keys.DB].write() as db:
                conversation = await conversation_or_404(db, conversation_id)
                if conversation.status != STATUS_AGENT or conversation.agent_id != agent_id:
                    continue
                name = conversation.agent.name if conversation.agent else "Your agent"
                handoff = conversation.handoff
                if handoff is not None:
                    handoff.priority = PRIORITY_REQUEUED
                    handoff.requeued_at = utcnow()
                    handoff.claimed_at = None
                    handoff.agent_id = None
                    handoff.agent = None
                conversation.status = STATUS_WAITING
                conversation.agent_id = None
                conversation.agent = None
                # The gateway acts here, not an agent: the entry has no agent.
                await record_audit(
                    db, "requeue", agent=None, conversation_id=conversation_id,
                    details={"handoff_id": handoff.id if handoff else None,
                             "from": {"id": agent_id, "name": name}},
                )
                note = await append_message(
                    db,
                    conversation_id,
                    "system",
                    f"{name} lost their connection. You're now first in line for the next "
                    "colleague, who will see everything so far.",
                )
                entry = queue_entry(conversation)
            await publish_messages(app, conversation_id, [note], to_agents=True)
            await status_changed(app, conversation)
            await app[keys.PUBLISHER].to_agents(handoff_event(entry))
    if held:
        await publish_queue(app)
    return held


async def do_agent_gone(app: web.Application, agent_id: int) -> None:
    """An agent's grace period ran out (handoff.routing.presence): requeue what they held."""
    requeued = await do_requeue_agent_conversations(app, agent_id)
    if not requeued:
        # Fewer agents online changes every waiting customer's estimate.
        await publish_queue(app)
