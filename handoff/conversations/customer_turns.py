"""A customer's message and the bot's turn: stored, answered, handed off when needed.

Messages that change nothing else go through the group-commit writer
(handoff.storage.writer) and read who has the conversation from memory
(handoff.storage.holders); a handoff is a transaction of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.access.auth import new_token, token_hash
from handoff.live.events import (
    handoff_event,
)
from handoff.conversations.handoff_notices import handoff_notice
from handoff.conversations.identity import VerifiedIdentity
from handoff.operations.known import (
    KEEP_GOING,
    TALK_TO_A_PERSON,
    disruption_of_bookings,
    known_of,
    offer_text,
    typed_references,
    with_known,
)
from handoff.storage.holders import BOT
from handoff.storage.models import (
    STATUS_BOT,
    STATUS_WAITING,
    Conversation,
    CustomerIdentity,
    Disruption,
    Handoff,
    KnownDisruption,
    Message,
    utcnow,
)
from handoff.routing.queue import handoff_priority, places
from handoff.assistant.frustration import frustrated_signals, record_frustration
from handoff.assistant.misses import miss_of
from handoff.assistant.rasa_client import BotMessage, BotTurn, BotUnavailable
from handoff.live.serializers import nlu_annotation, queue_entry
from handoff.routing.team import team_of
from handoff.storage.writer import Draft, DuplicateMessage, Stored
from handoff.conversations.common import (
    _append_all,
    conversation_or_404,
    holder_of,
    publish_messages,
    publish_queue,
    status_changed,
)

log = logging.getLogger(__name__)

# A message as the API shows it: stored by the writer, or read back from the database.
AnyMessage = Stored | Message

# The widget's "Talk to a person" (Rasa's own payload for the intent): while a bot turn
# of the conversation waits for Rasa, it hands off at once instead of waiting behind it.
ASK_FOR_PERSON = "/human_handoff"


@dataclass
class WaitingTurn:
    """A bot turn waiting for Rasa; the customer's "Talk to a person" cancels it."""

    rasa: asyncio.Future[BotTurn]
    asked_for_person: bool = False


@dataclass
class TurnResult:
    status: str
    messages: list[AnyMessage]


async def do_create_conversation(
    app: web.Application, identity: VerifiedIdentity | None = None
) -> tuple[Conversation, str]:
    """A new conversation; with the identity its site vouched for, if any (kept in
    customer_identities, in the same transaction). When one of its bookings has an
    active disruption, the bot's first message tells them so and offers a person."""
    offer: list[Stored] = []
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
        if identity is not None:
            await db.flush()  # the conversation's row before the one that refers to it
            db.add(
                CustomerIdentity(
                    conversation_id=conversation.id,
                    customer_id=identity.customer_id,
                    name=identity.name,
                    email=identity.email,
                    bookings=identity.bookings,
                    verified_at=conversation.created_at,
                )
            )
            found = await disruption_of_bookings(
                db, identity.bookings, app[keys.SETTINGS].tzinfo
            )
            if found is not None:
                offer = await _offer(db, conversation.id, *found)
    # What its first messages would otherwise read back from the database.
    app[keys.TOKEN_HASHES].put(conversation.id, hashed)
    await app[keys.HOLDERS].changed(conversation.id, BOT)
    app[keys.CLIENT_IDS].adopt(conversation.id)
    await publish_messages(app, conversation.id, offer, to_agents=False)
    return conversation, token


def _keep(
    db: AsyncSession, conversation_id: str, disruption: Disruption, booking_reference: str
) -> None:
    """The conversation keeps which disruption it is about, for its handoff and the
    queue's group."""
    db.add(KnownDisruption(
        conversation_id=conversation_id, disruption_id=disruption.id,
        booking_reference=booking_reference, known_at=utcnow(),
    ))


async def _offer(
    db: AsyncSession, conversation_id: str, disruption: Disruption, booking_reference: str
) -> list[Stored]:
    """The customer is told of their disruption and offered a person."""
    _keep(db, conversation_id, disruption, booking_reference)
    draft = Draft("bot", offer_text(disruption), buttons=[TALK_TO_A_PERSON, KEEP_GOING])
    return await _append_all(db, conversation_id, [draft])


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
    if payload == ASK_FOR_PERSON:
        waiting = app[keys.WAITING_BOT_TURNS].get(conversation_id)
        if waiting is not None and not waiting.rasa.done():
            waiting.asked_for_person = True
            waiting.rasa.cancel()  # out of the admission's queue, or abandoned in flight
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
    started = time.monotonic()

    def ask(sent_at: dt.datetime | None = None) -> asyncio.Future[BotTurn]:
        return asyncio.ensure_future(
            app[keys.RASA].send(conversation_id, said, uuid.uuid4().hex, STATUS_BOT, sent_at)
        )

    message: AnyMessage
    if original is not None:
        # Stored, but the gateway stopped before the bot answered: answer it now, as of
        # when it was sent.
        message, rasa = original, ask(_aware(original.created_at))
    else:
        # On PostgreSQL storing the message and asking Rasa go side by side, so the bot's
        # answer waits for one write, not two; the message is still committed before
        # anything is answered, and a message refused (a retry while the database is
        # down) never reaches Rasa (MessageWriter.store_alongside).
        try:
            (message,), rasa = await writer.store_alongside(conversation_id, [draft], ask)
        except DuplicateMessage as exc:
            # Stored before, unknown to this process's memory (handoff.storage.client_ids).
            replay, original = await _replay(app, conversation_id, exc.seq)
            if not _unanswered(replay, original):
                return replay
            message, rasa = original, ask(_aware(original.created_at))
    if original is None:
        await publish_messages(app, conversation_id, [message], to_agents=False)
    waiting = app[keys.WAITING_BOT_TURNS][conversation_id] = WaitingTurn(rasa)
    turn: BotTurn | None
    try:
        turn = await rasa
    except asyncio.CancelledError:
        # Cancelled for the customer's "Talk to a person", or this turn itself cancelled.
        task = asyncio.current_task()
        if not waiting.asked_for_person or (task is not None and task.cancelling()):
            raise
        turn = None
    except BotUnavailable as exc:
        log.warning("bot unavailable for %s: %s", conversation_id, exc)
        app[keys.METRICS].bot_turn("bot_unavailable", time.monotonic() - started)
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
    finally:
        del app[keys.WAITING_BOT_TURNS][conversation_id]
    if turn is None:
        app[keys.METRICS].bot_turn("handoff", time.monotonic() - started)
        notices = await _hand_off(
            app,
            conversation_id,
            message.seq,
            reason="requested",
            disruption=None,
            context={
                "summary": "The customer asked for a person while the assistant was slow "
                "to answer. Read the transcript for what they need."
            },
        )
        return TurnResult(status=STATUS_WAITING, messages=[message, *notices])
    understood = nlu_annotation(turn.nlu)
    miss = miss_of(turn.nlu)
    if miss is not None:
        # For the report of what the bot could not answer: off the answer's path.
        app[keys.TURN_LOCKS].spawn(app[keys.MISSES].record(
            conversation_id, message.seq, *miss, _aware(message.created_at)
        ))
    signals = frustrated_signals(understood["frustration"])
    if signals is not None:
        app[keys.TURN_LOCKS].spawn(record_frustration(
            app[keys.DB], conversation_id, signals, _aware(message.created_at)
        ))
    app[keys.METRICS].bot_turn(
        "answered" if turn.handoff is None else "handoff", time.monotonic() - started
    )
    if turn.handoff is None:
        offered = await _typed_disruption(
            app, conversation_id, said, understood["entities"], offer=True
        )
        if offered:
            writer.annotate_soon(conversation_id, message.seq, understood)
            message.nlu = understood
            await publish_messages(app, conversation_id, offered, to_agents=False)
            return TurnResult(status=STATUS_BOT, messages=[message, *offered])
        replies = await writer.store(conversation_id, _bot_drafts(turn.messages))
        # What the bot understood is no message: it need not hold up the answer.
        writer.annotate_soon(conversation_id, message.seq, understood)
        message.nlu = understood
        await publish_messages(app, conversation_id, replies, to_agents=False)
        return TurnResult(status=STATUS_BOT, messages=[message, *replies])
    message.nlu = understood
    await _typed_disruption(app, conversation_id, said, understood["entities"], offer=False)
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


async def _typed_disruption(
    app: web.Application,
    conversation_id: str,
    said: str,
    entities: list[dict[str, Any]],
    *,
    offer: bool,
) -> list[Stored]:
    """A booking reference the customer typed that has an active disruption, found once
    per conversation. With `offer`, the bot's answer gives way to the offer (it would
    ask them to explain what the feed already said); without (the bot is handing off),
    it is only kept, for the handoff. Empty: nothing found, the bot's answer stands."""
    references = typed_references(said, entities)
    if not references:
        return []  # most turns: no database read at all
    # Read first: a reference-like word that matches nothing takes no write lock (on
    # SQLite, one for the whole database). The turn lock keeps this conversation's
    # next message from finding it unknown meanwhile.
    async with app[keys.DB].read() as db:
        if await known_of(db, conversation_id) is not None:
            return []
        found = await disruption_of_bookings(db, references, app[keys.SETTINGS].tzinfo)
    if found is None:
        return []
    async with app[keys.DB].write() as db:
        if offer:
            return await _offer(db, conversation_id, *found)
        _keep(db, conversation_id, *found)
        return []


def _aware(when: dt.datetime) -> dt.datetime:
    """SQLite gives back naive UTC times, PostgreSQL aware ones."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


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
        known = await known_of(db, conversation_id)
        if known is not None:
            # Whatever the path to a person, operations' word says what this is about.
            reason, disruption = "disruption", known[0].type
            context = with_known(context, *known)
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
    if reason == "frustration":
        # With the conversation's own signals (the same question again...), for the insights.
        signals = frustrated_signals(context.get("frustration"), handed_off=True) or []
        app[keys.TURN_LOCKS].spawn(record_frustration(app[keys.DB], conversation_id, signals, utcnow()))
    return replies
