"""A customer's right to erasure: a supervisor finds the customer's conversations, then
erases those they chose (handoff.conversations.retention redacts them), audited.

A customer is found by the id or email their site signed for them (a verified customer),
the email or phone number they left for a follow-up or typed in the chat, or a booking
reference among their signed bookings, in a handoff's context or in what they wrote. The
search only lists: the supervisor picks from it, as Zendesk's and Intercom's deletion
asks for confirmation of what goes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.conversations.retention import (
    ERASURE,
    Redacted,
    after_redaction,
    forget_in_assistant,
    redact,
)
from handoff.storage.audit import record_audit
from handoff.storage.models import (
    STATUS_BOT,
    Agent,
    Conversation,
    CustomerIdentity,
    Handoff,
    Message,
    utcnow,
)

# The most conversations one search lists and one erasure takes.
MOST = 100


class ErasureRefused(ValueError):
    """What cannot be erased as asked; the message says why."""

    def __init__(self, message: str, status: int, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Who:
    """How the customer is named: any of these, at least one."""

    email: str | None = None
    phone: str | None = None
    booking_reference: str | None = None
    customer_id: str | None = None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _compact(code: str) -> str:
    return "".join(code.split()).upper()


@dataclass
class Found:
    conversation: Conversation
    matched: list[str]


async def find(db: AsyncSession, who: Who) -> list[Found]:
    """The conversations that name the customer, newest first, with what matched."""
    matched: dict[str, list[str]] = {}

    def hit(conversation_id: str, what: str) -> None:
        whats = matched.setdefault(conversation_id, [])
        if what not in whats:
            whats.append(what)

    customer_text = (Message.sender == "customer",)
    if who.customer_id:
        for (cid,) in await db.execute(
            select(CustomerIdentity.conversation_id)
            .where(CustomerIdentity.customer_id == who.customer_id.strip())
        ):
            hit(cid, "verified customer id")
    if who.email:
        email = who.email.strip().lower()
        for (cid,) in await db.execute(
            select(CustomerIdentity.conversation_id)
            .where(func.lower(CustomerIdentity.email) == email)
        ):
            hit(cid, "verified email")
        for (cid,) in await db.execute(
            select(Handoff.conversation_id)
            .where(func.lower(Handoff.contact["email"].as_string()) == email)
        ):
            hit(cid, "contact email")
        for (cid,) in await db.execute(
            select(Message.conversation_id).distinct()
            .where(*customer_text, Message.text.icontains(email, autoescape=True))
        ):
            hit(cid, "email in a message")
    if who.phone:
        digits = _digits(who.phone)
        # Stored as typed ("+44 20 7946 0000"): compared by their digits.
        for cid, phone in await db.execute(
            select(Handoff.conversation_id, Handoff.contact["phone"].as_string())
            .where(cast(Handoff.contact, String).icontains(digits[-4:], autoescape=True))
        ):
            if phone and _digits(phone) == digits:
                hit(cid, "contact phone")
    if who.booking_reference:
        code = _compact(who.booking_reference)
        for (cid,) in await db.execute(
            select(CustomerIdentity.conversation_id)
            .where(cast(CustomerIdentity.bookings, String).contains(f'"{code}"', autoescape=True))
        ):
            hit(cid, "verified booking")
        for (cid,) in await db.execute(
            select(Handoff.conversation_id)
            .where(Handoff.context["booking_reference"].as_string() == code)
        ):
            hit(cid, "booking reference")
        for (cid,) in await db.execute(
            select(Message.conversation_id).distinct()
            .where(*customer_text, Message.text.icontains(code, autoescape=True))
        ):
            hit(cid, "booking reference in a message")
    if not matched:
        return []
    conversations = (await db.scalars(
        select(Conversation).where(Conversation.id.in_(matched))
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())
        .limit(MOST)
    )).unique().all()
    return [Found(c, matched[c.id]) for c in conversations]


@dataclass
class Erasure:
    redacted: Redacted
    already: list[str]
    # Rasa deleted its copies; False: the next sweep asks again.
    assistant_forgotten: bool


async def do_erase(
    app: web.Application, conversation_ids: list[str], supervisor: Agent, reason: str
) -> Erasure:
    """The erasure, then this process forgets the tokens and closes the widgets, and Rasa
    deletes its trackers."""
    async with app[keys.DB].write() as db:
        redacted, already = await erase(db, conversation_ids, supervisor, reason, utcnow())
    after_redaction(app, redacted)
    forgotten = await forget_in_assistant(app, redacted.conversations)
    return Erasure(redacted, already, forgotten is not None)


async def erase(
    db: AsyncSession, conversation_ids: list[str], supervisor: Agent, reason: str,
    now: dt.datetime,
) -> tuple[Redacted, list[str]]:
    """Redacts the conversations, in the caller's transaction; (what was redacted now,
    those that already were). Refused whole when one is unknown or with a person."""
    ids = list(dict.fromkeys(conversation_ids))
    rows = {
        row.id: row for row in (await db.execute(
            select(Conversation.id, Conversation.status, Conversation.redacted_at)
            .where(Conversation.id.in_(ids)).with_for_update()
        )).all()
    }
    unknown = [cid for cid in ids if cid not in rows]
    if unknown:
        raise ErasureRefused(
            f"no such conversation: {', '.join(unknown)}", 404, "conversation_ids"
        )
    open_ = [cid for cid in ids if rows[cid].status != STATUS_BOT]
    if open_:
        raise ErasureRefused(
            f"still with the team, resolve first: {', '.join(open_)}", 409, "conversation_ids"
        )
    already = [cid for cid in ids if rows[cid].redacted_at is not None]
    redacted = await redact(db, ids, ERASURE, now)
    for conversation_id in redacted.conversations:
        await record_audit(
            db, "conversation_erased", agent=supervisor, conversation_id=conversation_id,
            details={"reason": reason},
        )
    await record_audit(db, "erasure", agent=supervisor, details={
        "conversation_ids": redacted.conversations, "already_erased": already,
        "reason": reason, "messages": redacted.messages, "notes": redacted.notes,
    })
    return redacted, already
