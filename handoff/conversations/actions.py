"""Everything that changes a conversation: one transaction each, then the events.

Only this module publishes to widgets and consoles (typing excepted, and the console's
agent tools in handoff.agent_tools.resolutions, which follow the same pattern), so every event has
one place it comes from.

Messages that change nothing else (customer and agent messages, a bot turn's replies) go
through the group-commit writer (handoff.storage.writer) and read who has the conversation from
memory (handoff.storage.holders); state changes (handoff, claim, resolve, transfer, requeue)
are ORM transactions of their own, and each ends in ``status_changed``.
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

from handoff import keys
from handoff.storage.audit import record_audit
from handoff.access.auth import new_token, token_hash
from handoff.http_errors import json_error
from handoff.conversations.context import merged_context
from handoff.live.events import (
    context_event,
    handoff_event,
    message_event,
    presence_event,
    queue_event,
    rating_event,
    status_event,
)
from handoff.shapes.events import Event
from handoff.conversations.handoff_notices import BOT_UNAVAILABLE_TEXT, handoff_notice
from handoff.storage.holders import BOT, Holder
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
from handoff.routing.queue import PRIORITY_REQUEUED, Place, handoff_priority, places
from handoff.assistant.rasa_client import BotMessage, BotTurn, BotUnavailable
from handoff.conversations.ratings import latest_resolved
from handoff.live.serializers import message_dict, nlu_annotation, queue_entry, rating_dict
from handoff.routing.team import Team, team_of
from handoff.storage.writer import Draft, DuplicateMessage, Stored, store_in_transaction

log = logging.getLogger(__name__)

# A message as the API shows it: stored by the writer, or read back from the database.
AnyMessage = Stored | Message


@dataclass
class TurnResult:
    status: str
    messages: list[AnyMessage]


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
        await publisher.to_conversation(
            conversation_id, message_event(conversation_id, message_dict(message)), skip
        )
        if to_agents:
            await publisher.to_agents(
                message_event(conversation_id, message_dict(message, for_agent=True)),
                holder=holder,
            )


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
    app[keys.HOLDERS].set(conversation.id, Holder(conversation.status, agent_id, name))
    publisher = app[keys.PUBLISHER]
    await publisher.to_conversation(
        conversation.id, status_event(conversation.id, conversation.status, name)
    )
    await publisher.to_agents(status_event(conversation.id, conversation.status, name, agent_id))


async def do_create_conversation(app: web.Application) -> tuple[Conversation, str]:
    token = new_token()
    hashed = token_hash(token)
    async with app[keys.DB].write() as db:
        conversation = Conversation(
            id=secrets.token_hex(16),
            token_hash=hashed,
            status=STATUS_BOT,
            last_seq=0,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        db.add(conversation)
    # What its first messages would otherwise read back from the database.
    app[keys.TOKEN_HASHES].put(conversation.id, hashed)
    app[keys.HOLDERS].set(conversation.id, BOT)
    app[keys.CLIENT_IDS].adopt(conversation.id)
    return conversation, token


async def _replay(app: web.Application, conversation_id: str, seq: int) -> tuple[TurnResult, Message]:
    """What a retried message gets: the stored message and what followed it in its turn."""
    async with app[keys.DB].read() as db:
        messages = (
            await db.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.seq >= seq)
                .order_by(Message.seq)
            )
        ).all()
    original, later = messages[0], messages[1:]
    turn: list[AnyMessage] = [original]
    for message in later:
        if message.sender == "customer":
            break
        turn.append(message)
    holder = await holder_of(app, conversation_id)
    return TurnResult(status=holder.status, messages=turn), original


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
    sender_socket: web.WebSocketResponse | None = None,
) -> TurnResult:
    """A customer's message: a bot turn, or relayed to the agent who has it.

    `sender_socket`: the widget socket it came on. In human mode that socket is not sent
    the message as an event: its ack carries it (one frame fewer per relayed message).
    """
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        holder = await holder_of(app, conversation_id)
        original = None
        if client_message_id is not None:
            seq = await app[keys.CLIENT_IDS].seq_of(conversation_id, client_message_id)
            if seq is not None:
                replay, original = await _replay(app, conversation_id, seq)
                if not _unanswered(replay, original):
                    return replay
        draft = Draft("customer", text, client_message_id=client_message_id)
        if holder.status != STATUS_BOT:
            try:
                message = (await app[keys.WRITER].store(conversation_id, [draft]))[0]
            except DuplicateMessage as stored:
                return (await _replay(app, conversation_id, stored.seq))[0]
            await publish_messages(
                app, conversation_id, [message], to_agents=True, skip=sender_socket
            )
            # A human has the conversation: the bot stays silent, but still reads along so
            # the agent sees what it understood and the assistant's memory stays whole.
            app[keys.ANNOTATOR].submit(conversation_id, message.seq, payload or text)
            return TurnResult(status=holder.status, messages=[message])
        # The bot has it (and only this turn could change that: the lock is ours).
        return await _bot_turn(app, conversation_id, draft, payload or text, original)


async def _bot_turn(
    app: web.Application,
    conversation_id: str,
    draft: Draft,
    said: str,
    original: Message | None,
) -> TurnResult:
    writer = app[keys.WRITER]

    def ask() -> asyncio.Future[BotTurn]:
        return asyncio.ensure_future(
            app[keys.RASA].send(conversation_id, said, uuid.uuid4().hex, STATUS_BOT)
        )

    message: AnyMessage
    if original is not None:
        # Stored, but the gateway stopped before the bot answered: answer it now.
        message, rasa = original, ask()
    else:
        # Storing the message and asking Rasa go side by side, so the bot's answer waits
        # for one write, not two; the message is still committed before anything is
        # answered, and a message refused (a retry while the database is down) never
        # reaches Rasa (MessageWriter.store_alongside).
        try:
            (message,), rasa = await writer.store_alongside(conversation_id, [draft], ask)
        except DuplicateMessage as exc:
            # Stored before, unknown to this process's memory (handoff.storage.client_ids).
            replay, original = await _replay(app, conversation_id, exc.seq)
            if not _unanswered(replay, original):
                return replay
            message, rasa = original, ask()
    if original is None:
        await publish_messages(app, conversation_id, [message], to_agents=False)
    try:
        turn = await rasa
    except BotUnavailable as exc:
        log.warning("bot unavailable for %s: %s", conversation_id, exc)
        notices = await _hand_off(
            app,
            conversation_id,
            message.seq,
            reason="bot_unavailable",
            disruption=None,
            context={
                "summary": "The assistant could not answer, so the customer's message "
                "came straight to the team. Read the transcript for what they need."
            },
        )
        return TurnResult(status=STATUS_WAITING, messages=[message, *notices])
    understood = nlu_annotation(turn.nlu)
    if turn.handoff is None:
        replies = await writer.store(conversation_id, _bot_drafts(turn.messages))
        # What the bot understood is no message: it need not hold up the answer.
        writer.annotate_soon(conversation_id, message.seq, understood)
        message.nlu = understood
        await publish_messages(app, conversation_id, replies, to_agents=False)
        return TurnResult(status=STATUS_BOT, messages=[message, *replies])
    message.nlu = understood
    notices = await _hand_off(
        app,
        conversation_id,
        message.seq,
        reason=str(turn.handoff.get("reason") or "requested"),
        disruption=turn.handoff.get("disruption"),
        context=turn.handoff.get("context") or {},
        bot_replies=turn.messages,
        understood=understood,
    )
    return TurnResult(status=STATUS_WAITING, messages=[message, *notices])


def _bot_drafts(messages: list[BotMessage]) -> list[Draft]:
    return [Draft("bot", bot.text, buttons=bot.buttons or None) for bot in messages]


async def _hand_off(
    app: web.Application,
    conversation_id: str,
    trigger_seq: int,
    *,
    reason: str,
    disruption: str | None,
    context: dict[str, Any],
    bot_replies: list[BotMessage] | None = None,
    understood: dict[str, Any] | None = None,
) -> list[Stored]:
    """The bot's last replies, the handoff and what the customer is told: one transaction.

    The customer is told once that the team has the conversation, in words true of who is
    online and the opening hours (handoff.conversations.handoff_notices): the bot's handoff message (its
    last reply in this turn: action_handoff speaks last) or, when that would promise too
    much, the gateway's instead.
    """
    agents_online = app[keys.SOCKETS].agents_online()
    team = team_of(app)
    long_wait = app[keys.SETTINGS].long_wait_seconds
    async with app[keys.DB].write() as db:
        if understood is not None:
            await db.execute(
                update(Message)
                .where(Message.conversation_id == conversation_id, Message.seq == trigger_seq)
                .values(nlu=understood)
            )
        handoff = Handoff(
            conversation_id=conversation_id,
            reason=reason,
            disruption=disruption,
            context=context,
            trigger_seq=trigger_seq,
            requested_at=utcnow(),
            priority=handoff_priority(reason, disruption, context),
        )
        db.add(handoff)
        await db.flush()
        conversation = await conversation_or_404(db, conversation_id)
        conversation.status = STATUS_WAITING
        conversation.handoff_id = handoff.id
        conversation.handoff = handoff
        conversation.agent_id = None
        conversation.agent = None
        # Queued first: its place (and so a long wait) counts this conversation too.
        await db.flush()
        place = (await places(db, agents_online)).get(conversation_id)
        wait = place.estimated_wait_seconds if place else None
        drafts = _bot_drafts(bot_replies or [])
        notice = handoff_notice(reason, team, wait is not None and wait > long_wait)
        if notice is not None:
            if drafts and reason != "bot_unavailable":
                drafts[-1] = Draft("bot", notice)
            else:
                drafts.append(Draft("system", notice))
        replies = await _append_all(db, conversation_id, drafts)
        conversation = await conversation_or_404(db, conversation_id)
        entry = queue_entry(conversation)
    await publish_messages(app, conversation_id, replies, to_agents=False)
    await status_changed(app, conversation)
    await app[keys.PUBLISHER].to_agents(handoff_event(entry))
    await publish_queue(app)
    return replies


async def publish_queue(app: web.Application) -> None:
    """Tells every waiting customer their place and expected wait, after any change."""
    async with app[keys.DB].read() as db:
        current = await places(db, app[keys.SOCKETS].agents_online())
    team = team_of(app)
    publisher = app[keys.PUBLISHER]
    for conversation_id, place in current.items():
        if app[keys.SOCKETS].customer_connected(conversation_id):
            await publisher.to_conversation(conversation_id, place_event(conversation_id, place, team))


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


def check_holder(held: Conversation | Holder, agent: Agent) -> None:
    """409 unless the agent has the conversation (its row, or who has it from memory)."""
    if held.status != STATUS_AGENT or held.agent_id != agent.id:
        raise json_error(
            web.HTTPConflict, "claim the conversation first", conversation_status=held.status
        )


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
        return AgentReply(message, created=True)


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
        event = rating_event(conversation_id, rating_dict(handoff))
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


def place_event(conversation_id: str, place: Place, team: Team) -> Event:
    """A waiting customer's place in the queue, as their widget shows it."""
    return queue_event(
        conversation_id, place.position, place.estimated_wait_seconds, place.agents_online,
        team.as_fields(),
    )
