"""Everything that changes a conversation: one transaction each, then the events.

Only this module publishes to widgets and consoles (typing excepted, and the console's
agent tools in handoff.resolutions, which follow the same pattern), so every event has
one place it comes from.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import keys
from .annotations import Reading
from .audit import record_audit
from .auth import new_token, token_hash
from .errors import json_error
from .events import handoff_event, message_event, presence_event, status_event
from .models import (
    STATUS_AGENT,
    STATUS_BOT,
    STATUS_WAITING,
    Agent,
    Conversation,
    Handoff,
    Message,
    utcnow,
)
from .queue import PRIORITY_REQUEUED, handoff_priority, places
from .rasa_client import BotMessage, BotTurn, BotUnavailable
from .serializers import message_dict, nlu_annotation, queue_entry

log = logging.getLogger(__name__)

BOT_UNAVAILABLE_TEXT = (
    "I'm sorry, our assistant is having trouble right now, so I've passed your message "
    "straight to our support team. A colleague will reply here as soon as they can, and "
    "you won't need to repeat anything."
)


NOBODY_ONLINE_TEXT = (
    "None of our team is online right now, I'm sorry. You can leave your email and a short "
    "message here, and a colleague will get back to you with everything you've told us so "
    "far. If you'd rather wait, your place in the queue is kept."
)
LONG_WAIT_TEXT = (
    "Our team is very busy right now, so the wait may be long. You can keep this window "
    "open, or leave your email and a short message and we'll get back to you; either way "
    "your place in the queue is kept."
)


@dataclass
class TurnResult:
    status: str
    messages: list[Message]


async def _next_seq(db: AsyncSession, conversation_id: str, count: int = 1) -> int:
    """Takes `count` seqs in one statement; returns the first."""
    last = await db.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + count, updated_at=utcnow())
        .returning(Conversation.last_seq)
    )
    assert last is not None
    return last - count + 1


async def _append_bot_messages(
    db: AsyncSession, conversation_id: str, messages: list[BotMessage]
) -> list[Message]:
    """A bot turn's replies in one update and one insert: it is on every turn's path."""
    if not messages:
        return []
    first = await _next_seq(db, conversation_id, len(messages))
    now = utcnow()
    replies = [
        Message(
            conversation_id=conversation_id,
            seq=first + index,
            sender="bot",
            text=bot.text,
            buttons=bot.buttons or None,
            created_at=now,
        )
        for index, bot in enumerate(messages)
    ]
    for reply in replies:
        reply.agent = None
    db.add_all(replies)
    await db.flush()
    return replies


async def _append(
    db: AsyncSession,
    conversation_id: str,
    sender: str,
    text: str,
    *,
    client_message_id: str | None = None,
    agent: Agent | None = None,
    buttons: list[dict[str, str]] | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        seq=await _next_seq(db, conversation_id),
        sender=sender,
        text=text,
        client_message_id=client_message_id,
        agent_id=agent.id if agent else None,
        buttons=buttons or None,
        created_at=utcnow(),
    )
    message.agent = await _local(db, agent)
    db.add(message)
    await db.flush()
    return message


async def _local(db: AsyncSession, agent: Agent | None) -> Agent | None:
    """This session's copy of an agent loaded by another session."""
    return await db.get(Agent, agent.id) if agent is not None else None


async def _conversation(db: AsyncSession, conversation_id: str) -> Conversation:
    conversation = await db.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise json_error(web.HTTPNotFound, "conversation not found")
    return conversation


async def _publish_messages(
    app: web.Application, conversation_id: str, messages: list[Message], to_agents: bool
) -> None:
    publisher = app[keys.PUBLISHER]
    for message in messages:
        await publisher.to_conversation(conversation_id, message_event(conversation_id, message_dict(message)))
        if to_agents:
            await publisher.to_agents(
                message_event(conversation_id, message_dict(message, for_agent=True))
            )


async def _publish_status(app: web.Application, conversation: Conversation) -> None:
    publisher = app[keys.PUBLISHER]
    agent = conversation.agent
    name, agent_id = (agent.name, agent.id) if agent is not None else (None, None)
    await publisher.to_conversation(
        conversation.id, status_event(conversation.id, conversation.status, name)
    )
    await publisher.to_agents(status_event(conversation.id, conversation.status, name, agent_id))


async def do_create_conversation(app: web.Application) -> tuple[Conversation, str]:
    token = new_token()
    async with app[keys.DB].write() as db:
        conversation = Conversation(
            id=secrets.token_hex(16),
            token_hash=token_hash(token),
            status=STATUS_BOT,
            last_seq=0,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        db.add(conversation)
    return conversation, token


async def _replay(db: AsyncSession, original: Message) -> TurnResult:
    """What a retried message gets: the stored message and what followed it in its turn."""
    later = (
        await db.scalars(
            select(Message)
            .where(Message.conversation_id == original.conversation_id, Message.seq > original.seq)
            .order_by(Message.seq)
        )
    ).all()
    turn = [original]
    for message in later:
        if message.sender == "customer":
            break
        turn.append(message)
    conversation = await _conversation(db, original.conversation_id)
    return TurnResult(status=conversation.status, messages=turn)


def _unanswered(replay: TurnResult, original: Message) -> bool:
    """A bot turn that never got its answer: nothing after it, nothing understood."""
    return replay.status == STATUS_BOT and len(replay.messages) == 1 and original.nlu is None


async def do_customer_message(
    app: web.Application,
    conversation_id: str,
    text: str,
    *,
    payload: str | None = None,
    client_message_id: str | None = None,
) -> TurnResult:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].read() as db:
            status, original = await _status_and_original(db, conversation_id, client_message_id)
            if original is not None:
                replay = await _replay(db, original)
                if not _unanswered(replay, original):
                    return replay
        if status != STATUS_BOT:
            message = await _store_customer_message(app, conversation_id, text, client_message_id)
            await _publish_messages(app, conversation_id, [message], to_agents=True)
            # A human has the conversation: the bot stays silent, but still reads along so
            # the agent sees what it understood and the assistant's memory stays whole.
            app[keys.ANNOTATOR].submit(Reading(message.id, conversation_id, payload or text))
            return TurnResult(status=status, messages=[message])

        # The bot has it (and only this turn could change that: the lock is ours). Storing
        # the message and asking Rasa go side by side, so the bot's answer waits for one
        # write, not two; the message is still stored before anything is answered.
        rasa = asyncio.ensure_future(
            app[keys.RASA].send(conversation_id, payload or text, uuid.uuid4().hex, STATUS_BOT)
        )
        try:
            if original is not None:
                # Stored, but the gateway stopped before the bot answered: answer it now.
                message = original
            else:
                message = await _store_customer_message(
                    app, conversation_id, text, client_message_id
                )
        except BaseException:
            rasa.cancel()
            await asyncio.gather(rasa, return_exceptions=True)
            raise
        if original is None:
            await _publish_messages(app, conversation_id, [message], to_agents=False)
        try:
            turn = await rasa
        except BotUnavailable as exc:
            log.warning("bot unavailable for %s: %s", conversation_id, exc)
            replies = await _hand_off(
                app,
                conversation_id,
                message,
                reason="bot_unavailable",
                disruption=None,
                context={
                    "summary": "The assistant could not answer, so the customer's message "
                    "came straight to the team. Read the transcript for what they need."
                },
                system_text=BOT_UNAVAILABLE_TEXT,
            )
            return TurnResult(status=STATUS_WAITING, messages=[message, *replies])
        return TurnResult(*await _apply_bot_turn(app, conversation_id, message, turn))


async def _status_and_original(
    db: AsyncSession, conversation_id: str, client_message_id: str | None
) -> tuple[str, Message | None]:
    """The conversation's status, and the message already stored under this client id."""
    status = await db.scalar(select(Conversation.status).where(Conversation.id == conversation_id))
    if status is None:
        raise json_error(web.HTTPNotFound, "conversation not found")
    original = None
    if client_message_id is not None:
        original = await db.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id,
                Message.client_message_id == client_message_id,
            )
        )
    return status, original


async def _store_customer_message(
    app: web.Application, conversation_id: str, text: str, client_message_id: str | None
) -> Message:
    async with app[keys.DB].write() as db:
        return await _append(
            db, conversation_id, "customer", text, client_message_id=client_message_id
        )


async def _apply_bot_turn(
    app: web.Application, conversation_id: str, message: Message, turn: BotTurn
) -> tuple[str, list[Message]]:
    async with app[keys.DB].write() as db:
        await db.execute(
            update(Message).where(Message.id == message.id).values(nlu=nlu_annotation(turn.nlu))
        )
        replies = await _append_bot_messages(db, conversation_id, turn.messages)
    message.nlu = nlu_annotation(turn.nlu)
    await _publish_messages(app, conversation_id, replies, to_agents=False)
    if turn.handoff is None:
        return STATUS_BOT, [message, *replies]
    notices = await _hand_off(
        app,
        conversation_id,
        message,
        reason=str(turn.handoff.get("reason") or "requested"),
        disruption=turn.handoff.get("disruption"),
        context=turn.handoff.get("context") or {},
        system_text=None,
    )
    return STATUS_WAITING, [message, *replies, *notices]


async def _hand_off(
    app: web.Application,
    conversation_id: str,
    trigger: Message,
    *,
    reason: str,
    disruption: str | None,
    context: dict[str, Any],
    system_text: str | None,
) -> list[Message]:
    agents_online = app[keys.SOCKETS].agents_online()
    long_wait = app[keys.SETTINGS].long_wait_seconds
    async with app[keys.DB].write() as db:
        handoff = Handoff(
            conversation_id=conversation_id,
            reason=reason,
            disruption=disruption,
            context=context,
            trigger_seq=trigger.seq,
            requested_at=utcnow(),
            priority=handoff_priority(reason, disruption, context),
        )
        db.add(handoff)
        await db.flush()
        replies = []
        if system_text:
            replies.append(await _append(db, conversation_id, "system", system_text))
        place = (await places(db, agents_online)).get(conversation_id)
        if agents_online == 0:
            replies.append(await _append(db, conversation_id, "system", NOBODY_ONLINE_TEXT))
        elif place and place.estimated_wait_seconds and place.estimated_wait_seconds > long_wait:
            replies.append(await _append(db, conversation_id, "system", LONG_WAIT_TEXT))
        conversation = await _conversation(db, conversation_id)
        conversation.status = STATUS_WAITING
        conversation.handoff_id = handoff.id
        conversation.handoff = handoff
        conversation.agent_id = None
        conversation.agent = None
        await db.flush()
        entry = queue_entry(conversation)
    await _publish_messages(app, conversation_id, replies, to_agents=False)
    await _publish_status(app, conversation)
    await app[keys.PUBLISHER].to_agents(handoff_event(entry))
    await publish_queue(app)
    return replies


async def publish_queue(app: web.Application) -> None:
    """Tells every waiting customer their place and expected wait, after any change."""
    async with app[keys.DB].read() as db:
        current = await places(db, app[keys.SOCKETS].agents_online())
    publisher = app[keys.PUBLISHER]
    for conversation_id, place in current.items():
        if app[keys.SOCKETS].customer_connected(conversation_id):
            await publisher.to_conversation(conversation_id, place.as_event(conversation_id))


async def do_claim(app: web.Application, conversation_id: str, agent: Agent) -> Conversation:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await _conversation(db, conversation_id)
            if conversation.status == STATUS_AGENT and conversation.agent_id == agent.id:
                return conversation
            if conversation.status != STATUS_WAITING or conversation.handoff is None:
                raise json_error(
                    web.HTTPConflict,
                    "conversation is not waiting for an agent",
                    conversation_status=conversation.status,
                )
            agent = await _local(db, agent) or agent
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
            joined = await _append(
                db, conversation_id, "system", f"{agent.name} from our team has joined the chat."
            )
        await _publish_messages(app, conversation_id, [joined], to_agents=True)
        await _publish_status(app, conversation)
    await publish_queue(app)
    return conversation


def _check_holder(conversation: Conversation, agent: Agent) -> None:
    if conversation.status != STATUS_AGENT or conversation.agent_id != agent.id:
        raise json_error(
            web.HTTPConflict,
            "claim the conversation first",
            conversation_status=conversation.status,
        )


async def do_agent_message(
    app: web.Application, conversation_id: str, agent: Agent, text: str
) -> Message:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await _conversation(db, conversation_id)
            _check_holder(conversation, agent)
            message = await _append(db, conversation_id, "agent", text, agent=agent)
        await _publish_messages(app, conversation_id, [message], to_agents=True)
        return message


async def do_resolve(
    app: web.Application, conversation_id: str, agent: Agent, outcome: str | None
) -> Conversation:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await _conversation(db, conversation_id)
            if conversation.status == STATUS_AGENT:
                _check_holder(conversation, agent)
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
            back = await _append(
                db,
                conversation_id,
                "system",
                f"{agent.name} has marked this conversation as resolved. "
                "The Baton assistant is back: ask me anything, any time.",
            )
        await _publish_messages(app, conversation_id, [back], to_agents=True)
        await _publish_status(app, conversation)
    await publish_queue(app)
    try:
        await app[keys.RASA].set_mode(conversation_id, STATUS_BOT)
    except BotUnavailable as exc:
        # The channel brings the tracker back in step with the next message anyway.
        log.info("could not tell Rasa that %s is back with the bot: %s", conversation_id, exc)
    return conversation


async def do_leave_contact(
    app: web.Application, conversation_id: str, contact: dict[str, str], text: str | None
) -> TurnResult:
    """The customer can't wait: keep their details and message for a follow-up."""
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await _conversation(db, conversation_id)
            if conversation.status != STATUS_WAITING or conversation.handoff is None:
                raise json_error(
                    web.HTTPConflict,
                    "contact details are taken while waiting for an agent",
                    conversation_status=conversation.status,
                )
            conversation.handoff.contact = {**contact, "left_at": utcnow().isoformat()}
            added = []
            if text:
                added.append(await _append(db, conversation_id, "customer", text))
            where = contact.get("email") or contact.get("phone")
            added.append(
                await _append(
                    db,
                    conversation_id,
                    "system",
                    f"Thank you. We'll get back to you at {where} as soon as a colleague is "
                    "free, and they'll have this whole conversation in front of them.",
                )
            )
            entry = queue_entry(conversation)
        await _publish_messages(app, conversation_id, added, to_agents=True)
        await app[keys.PUBLISHER].to_agents(handoff_event(entry))
        return TurnResult(status=STATUS_WAITING, messages=added)


async def do_rate(
    app: web.Application, conversation_id: str, score: int, comment: str | None
) -> Handoff:
    """The customer's satisfaction with their latest resolved handoff."""
    async with app[keys.DB].write() as db:
        handoff = await db.scalar(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id, Handoff.resolved_at.is_not(None))
            .order_by(Handoff.resolved_at.desc())
            .limit(1)
        )
        if handoff is None:
            raise json_error(web.HTTPConflict, "there is no resolved conversation to rate")
        handoff.rating = score
        handoff.rating_comment = comment
        handoff.rated_at = utcnow()
    return handoff


async def do_customer_presence(app: web.Application, conversation_id: str, online: bool) -> None:
    async with app[keys.DB].write() as db:
        await db.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(customer_left_at=None if online else utcnow())
        )
        status = await db.scalar(
            select(Conversation.status).where(Conversation.id == conversation_id)
        )
    if status != STATUS_BOT:
        await app[keys.PUBLISHER].to_agents(presence_event(conversation_id, online))


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
                conversation = await _conversation(db, conversation_id)
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
                note = await _append(
                    db,
                    conversation_id,
                    "system",
                    f"{name} lost their connection. You're now first in line for the next "
                    "colleague, who will see everything so far.",
                )
                entry = queue_entry(conversation)
            await _publish_messages(app, conversation_id, [note], to_agents=True)
            await _publish_status(app, conversation)
            await app[keys.PUBLISHER].to_agents(handoff_event(entry))
    if held:
        await publish_queue(app)
    return held
