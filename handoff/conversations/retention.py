"""Retention and erasure: a conversation's transcript and its customer's details deleted,
what the insights count kept.

Retention (Settings.retention_days, BATON_RETENTION_DAYS; 0 keeps everything) redacts the
conversations with the bot whose last message is older than that, in batches, at the
gateway's start and every Settings.retention_sweep_seconds after. Erasure redacts the
conversations a supervisor chose, at once (handoff.web.views.privacy).

Deleted: the messages (with what the NLU read of them), agents' notes, the identity the
customer's site signed (handoff.conversations.identity), the contact details left for a
follow-up, rating comments, the handoff context but for KEPT_CONTEXT, the free
text of empowered resolutions (their fields, note, reasons, reference, failure) and of
their audit entries, and Rasa's tracker (bot/forgetting.py). The conversation's token stops
working: the widget starts afresh.

Kept: the conversation row with its times; each handoff's reason, disruption, times,
outcome, priority and rating; resolutions' action, amount, currency, status and times; the
unanswered questions' topics and counts, the frustration signals, and the audit log's
entries themselves. An unanswered question in a topic assigned to an intent keeps its
text when retention deletes the transcript: a supervisor chose it as training data.
Erasure deletes that text too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import delete, func, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.access.auth import TokenHashes
from handoff.assistant.pool import setup_rasa
from handoff.assistant.rasa_client import BotUnavailable
from handoff.live.sockets import SocketRegistry
from handoff.metrics import Metrics
from handoff.settings import Settings
from handoff.storage.db import setup_database
from handoff.storage.models import (
    STATUS_BOT,
    TOPIC_ASSIGNED,
    AuditEntry,
    Conversation,
    CustomerIdentity,
    KnownDisruption,
    Handoff,
    Message,
    Note,
    Resolution,
    UnansweredMessage,
    UnansweredTopic,
    utcnow,
)

log = logging.getLogger(__name__)

RETENTION, ERASURE = "retention", "erasure"
# What a handoff's context keeps: what the insights count, and nothing that names anyone.
KEPT_CONTEXT = ("flight_number", "frustration", "intents_seen", "known_disruption")
# Free text that audit entries of resolutions carry (handoff.agent_tools.resolutions).
AUDIT_FREE_TEXT = ("fields", "reference", "failure", "reason")
# A token's hash is 64 hex digits, so no token matches this.
NO_TOKEN = "redacted"
# Conversations a transaction: short write locks on SQLite.
BATCH = 500
# Conversations a /forget call: Rasa takes each one's lock, all within BATON_RASA_TIMEOUT.
FORGET_BATCH = 200
# Messages written into a conversation after it was redacted (a message in flight, or a
# gateway whose token cache still knew it) are deleted by the sweeps of this long after.
LATE_MESSAGES = dt.timedelta(days=2)


@dataclass
class Redacted:
    """What one redaction deleted."""

    conversations: list[str] = field(default_factory=list)
    messages: int = 0
    notes: int = 0

    def add(self, other: "Redacted") -> None:
        self.conversations += other.conversations
        self.messages += other.messages
        self.notes += other.notes


async def redact(
    db: AsyncSession,
    conversation_ids: list[str],
    why: str,
    now: dt.datetime,
    idle_before: dt.datetime | None = None,
) -> Redacted:
    """Redacts those of the conversations not redacted yet (and, with idle_before, still
    with the bot and idle since then), in the caller's transaction."""
    if not conversation_ids:
        return Redacted()
    conditions = [Conversation.id.in_(conversation_ids), Conversation.redacted_at.is_(None)]
    if idle_before is not None:
        conditions += [Conversation.status == STATUS_BOT, Conversation.updated_at < idle_before]
    done = list(
        (await db.execute(
            update(Conversation).where(*conditions)
            .values(redacted_at=now, redaction=why, token_hash=NO_TOKEN,
                    assistant_forget_pending=True)
            .returning(Conversation.id)
            .execution_options(synchronize_session=False)
        )).scalars()
    )
    if not done:
        return Redacted()
    await _examples(db, done, keep=why == RETENTION)
    messages = await db.execute(delete(Message).where(Message.conversation_id.in_(done)))
    notes = await db.execute(delete(Note).where(Note.conversation_id.in_(done)))
    await db.execute(delete(CustomerIdentity).where(CustomerIdentity.conversation_id.in_(done)))
    await db.execute(delete(KnownDisruption).where(KnownDisruption.conversation_id.in_(done)))
    await _handoffs(db, done)
    await db.execute(
        update(Resolution).where(Resolution.conversation_id.in_(done))
        .values(fields=null(), note=None, decision_reason=None, reference=None, failure=None)
        .execution_options(synchronize_session=False)
    )
    await _audit(db, done)
    return Redacted(sorted(done), messages.rowcount, notes.rowcount)


async def _examples(db: AsyncSession, done: list[str], keep: bool) -> None:
    """Keeps the text of assigned topics' questions (retention), or deletes every kept
    text of these conversations (erasure)."""
    mine = UnansweredMessage.conversation_id.in_(done)
    if not keep:
        statement = update(UnansweredMessage).where(mine).values(text=None)
    else:
        text = (
            select(Message.text)
            .where(Message.conversation_id == UnansweredMessage.conversation_id,
                   Message.seq == UnansweredMessage.seq)
            .scalar_subquery()
        )
        assigned = select(UnansweredTopic.id).where(UnansweredTopic.decision == TOPIC_ASSIGNED)
        statement = (
            update(UnansweredMessage)
            .where(mine, UnansweredMessage.topic_id.in_(assigned))
            .values(text=text)
        )
    await db.execute(statement.execution_options(synchronize_session=False))


async def _handoffs(db: AsyncSession, done: list[str]) -> None:
    rows = (await db.execute(
        select(Handoff.id, Handoff.context, Handoff.contact)
        .where(Handoff.conversation_id.in_(done))
    )).all()
    if not rows:
        return
    await db.execute(
        update(Handoff).where(Handoff.conversation_id.in_(done))
        .values(contact=null(), rating_comment=None)
        .execution_options(synchronize_session=False)
    )
    await db.execute(update(Handoff), [
        {"id": handoff_id,
         "context": {key: context[key] for key in KEPT_CONTEXT if key in (context or {})},
         # That a contact was left is counted (the insights' contact_left); who left it goes.
         **({"contact": {"left_at": contact.get("left_at")}} if contact else {})}
        for handoff_id, context, contact in rows
    ])


async def _audit(db: AsyncSession, done: list[str]) -> None:
    rows = (await db.execute(
        select(AuditEntry.id, AuditEntry.details).where(AuditEntry.conversation_id.in_(done))
    )).all()
    changed = [
        {"id": entry_id,
         "details": {key: value for key, value in details.items() if key not in AUDIT_FREE_TEXT}}
        for entry_id, details in rows
        if details and any(key in details for key in AUDIT_FREE_TEXT)
    ]
    if changed:
        await db.execute(update(AuditEntry), changed)


async def expired(db: AsyncSession, idle_before: dt.datetime, limit: int = BATCH) -> list[str]:
    """Conversations with the bot, not redacted, idle since before `idle_before`, the
    longest idle first."""
    return list((await db.scalars(
        select(Conversation.id)
        .where(Conversation.redacted_at.is_(None), Conversation.status == STATUS_BOT,
               Conversation.updated_at < idle_before)
        .order_by(Conversation.updated_at)
        .limit(limit)
    )).all())


async def redaction_counts(db: AsyncSession) -> tuple[int, int]:
    """(conversations redacted, those whose copy Rasa has still to delete)."""
    row = (await db.execute(select(
        func.count(Conversation.redacted_at),
        func.count().filter(Conversation.assistant_forget_pending.is_(True)),
    ))).one()
    return int(row[0]), int(row[1])


def after_redaction(app: web.Application, redacted: Redacted) -> None:
    """This process forgets the tokens and closes the widgets of redacted conversations
    (4404: widget.js starts a new conversation)."""
    hashes = app[keys.TOKEN_HASHES]
    for conversation_id in redacted.conversations:
        hashes.forget(conversation_id)
        app[keys.SOCKETS].end_conversation(conversation_id)


async def forget_in_assistant(
    app: web.Application, only: list[str] | None = None
) -> int | None:
    """Asks Rasa to delete the trackers still to go (of `only`, if given), FORGET_BATCH a
    call; how many went, None when Rasa could not be reached (the rest stay pending, for
    the next sweep)."""
    forgotten = 0
    while True:
        async with app[keys.DB].read() as db:
            pending = list((await db.scalars(
                select(Conversation.id).where(
                    Conversation.assistant_forget_pending.is_(True),
                    *([Conversation.id.in_(only)] if only is not None else []),
                ).order_by(Conversation.id).limit(FORGET_BATCH)
            )).all())
        if not pending:
            return forgotten
        try:
            await app[keys.RASA].forget(pending)
        except BotUnavailable as exc:
            log.warning("Rasa did not delete %d conversations' trackers: %s", len(pending), exc)
            return None
        async with app[keys.DB].write() as db:
            await db.execute(
                update(Conversation).where(Conversation.id.in_(pending))
                .values(assistant_forget_pending=False)
                .execution_options(synchronize_session=False)
            )
        forgotten += len(pending)


@dataclass
class Sweep:
    """What one retention sweep did."""

    redacted: Redacted
    late_messages: int
    # Trackers Rasa deleted; None: Rasa could not be reached, they are still pending.
    forgotten: int | None


async def sweep(app: web.Application, now: dt.datetime | None = None) -> Sweep:
    """Redacts every conversation past the retention period, deletes late messages, and
    has Rasa forget what it still holds of redacted conversations."""
    now = now or utcnow()
    settings = app[keys.SETTINGS]
    redacted = Redacted()
    if settings.retention_days:
        idle_before = now - dt.timedelta(days=settings.retention_days)
        while True:
            async with app[keys.DB].write() as db:
                batch = await redact(
                    db, await expired(db, idle_before), RETENTION, now, idle_before
                )
            if not batch.conversations:
                break
            redacted.add(batch)
            after_redaction(app, batch)
    recent = select(Conversation.id).where(Conversation.redacted_at >= now - LATE_MESSAGES)
    late_messages = 0
    # Read first: a sweep with nothing to delete takes no write lock (on SQLite every other
    # writer of the file would wait for it).
    async with app[keys.DB].read() as db:
        any_recent = await db.scalar(recent.limit(1))
    if any_recent is not None:
        async with app[keys.DB].write() as db:
            late = await db.execute(delete(Message).where(Message.conversation_id.in_(recent)))
            late_messages = late.rowcount
    forgotten = await forget_in_assistant(app)
    if redacted.conversations:
        log.info("retention: %d conversations redacted, %d messages and %d notes deleted",
                 len(redacted.conversations), redacted.messages, redacted.notes)
    return Sweep(redacted, late_messages, forgotten)


async def sweep_once(settings: Settings) -> Sweep:
    """One sweep outside a running gateway (`python -m handoff retention`): the pieces of
    the app it needs, set up and torn down as the gateway does."""
    app = web.Application()
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = Metrics()
    app[keys.TOKEN_HASHES] = TokenHashes()
    app[keys.SOCKETS] = SocketRegistry()
    async with AsyncExitStack() as stack:
        for setup in (setup_database, setup_rasa):
            context = setup(app)
            await anext(context)
            stack.push_async_callback(_finish, context)
        return await sweep(app)


async def _finish(context: AsyncIterator[None]) -> None:
    await anext(context, None)


async def setup_retention(app: web.Application) -> AsyncIterator[None]:
    """The sweep at the start and every retention_sweep_seconds, in the background."""
    settings = app[keys.SETTINGS]

    async def sweeping() -> None:
        while True:
            try:
                await sweep(app)
            except Exception:  # a failed sweep is retried at the next
                log.exception("retention sweep failed")
            await asyncio.sleep(settings.retention_sweep_seconds)

    task = asyncio.create_task(sweeping()) if settings.retention_sweep_seconds > 0 else None
    yield
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
