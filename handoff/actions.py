"""Everything that changes a conversation: one transaction each, then the events.

Only this module publishes to widgets and consoles (typing excepted), so every event has
one place it comes from.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import keys
from .auth import new_token, token_hash
from .errors import json_error
from .events import handoff_event, message_event, status_event
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
from .rasa_client import BotTurn, BotUnavailable
from .serializers import message_dict, nlu_annotation, queue_entry

log = logging.getLogger(__name__)

BOT_UNAVAILABLE_TEXT = (
    "I'm sorry, our assistant is having trouble right now, so I've passed your message "
    "straight to our support team. A colleague will reply here as soon as they can, and "
    "you won't need to repeat anything."
)


@dataclass
class TurnResult:
    status: str
    messages: list[Message]


async def _next_seq(db: AsyncSession, conversation_id: str) -> int:
    seq = await db.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1, updated_at=utcnow())
        .returning(Conversation.last_seq)
    )
    assert seq is not None
    return seq


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
    agent_name = conversation.agent.name if conversation.agent else None
    event = status_event(conversation.id, conversation.status, agent_name)
    await publisher.to_conversation(conversation.id, event)
    await publisher.to_agents(event)


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


async def do_customer_message(
    app: web.Application,
    conversation_id: str,
    text: str,
    *,
    payload: str | None = None,
    client_message_id: str | None = None,
) -> TurnResult:
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            if client_message_id is not None:
                original = await db.scalar(
                    select(Message).where(
                        Message.conversation_id == conversation_id,
                        Message.client_message_id == client_message_id,
                    )
                )
                if original is not None:
                    return await _replay(db, original)
            message = await _append(
                db, conversation_id, "customer", text, client_message_id=client_message_id
            )
            conversation = await _conversation(db, conversation_id)
            status = conversation.status
        await _publish_messages(app, conversation_id, [message], to_agents=status != STATUS_BOT)

        if status != STATUS_BOT:
            # A human has the conversation: the bot stays silent, but still reads along so
            # the agent sees what it understood and the assistant's memory stays whole.
            app[keys.TURN_LOCKS].spawn(_annotate(app, message.id, conversation_id, text, payload))
            return TurnResult(status=status, messages=[message])

        try:
            turn = await app[keys.RASA].send(
                conversation_id, payload or text, str(message.id), STATUS_BOT
            )
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


async def _apply_bot_turn(
    app: web.Application, conversation_id: str, message: Message, turn: BotTurn
) -> tuple[str, list[Message]]:
    async with app[keys.DB].write() as db:
        await db.execute(
            update(Message).where(Message.id == message.id).values(nlu=nlu_annotation(turn.nlu))
        )
        replies = [
            await _append(db, conversation_id, "bot", bot.text, buttons=bot.buttons)
            for bot in turn.messages
        ]
    message.nlu = nlu_annotation(turn.nlu)
    await _publish_messages(app, conversation_id, replies, to_agents=False)
    if turn.handoff is None:
        return STATUS_BOT, [message, *replies]
    await _hand_off(
        app,
        conversation_id,
        message,
        reason=str(turn.handoff.get("reason") or "requested"),
        disruption=turn.handoff.get("disruption"),
        context=turn.handoff.get("context") or {},
        system_text=None,
    )
    return STATUS_WAITING, [message, *replies]


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
    async with app[keys.DB].write() as db:
        handoff = Handoff(
            conversation_id=conversation_id,
            reason=reason,
            disruption=disruption,
            context=context,
            trigger_seq=trigger.seq,
            requested_at=utcnow(),
        )
        db.add(handoff)
        await db.flush()
        replies = []
        if system_text:
            replies.append(await _append(db, conversation_id, "system", system_text))
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
    return replies


async def _annotate(
    app: web.Application, message_id: int, conversation_id: str, text: str, payload: str | None
) -> None:
    try:
        turn = await app[keys.RASA].send(conversation_id, payload or text, str(message_id), "human")
    except BotUnavailable as exc:
        log.info("no annotation for message %s: %s", message_id, exc)
        return
    async with app[keys.DB].write() as db:
        await db.execute(
            update(Message).where(Message.id == message_id).values(nlu=nlu_annotation(turn.nlu))
        )


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
            joined = await _append(
                db, conversation_id, "system", f"{agent.name} from our team has joined the chat."
            )
        await _publish_messages(app, conversation_id, [joined], to_agents=True)
        await _publish_status(app, conversation)
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
    try:
        await app[keys.RASA].set_mode(conversation_id, STATUS_BOT)
    except BotUnavailable as exc:
        # The channel brings the tracker back in step with the next message anyway.
        log.info("could not tell Rasa that %s is back with the bot: %s", conversation_id, exc)
    return conversation
