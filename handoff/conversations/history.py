"""Past and present conversations for the console's History: filters, search, pages.

A conversation's place in History is one of ``HISTORY_STATES``: ``bot`` (with the bot,
never handed off), ``waiting``, ``agent``, or ``resolved`` (back with the bot after an
agent resolved its handoff). Pages are newest first by when the conversation started,
with a keyset (``before``: the last id of the previous page), so a page stays the same
while new conversations arrive. Reason matches any of a conversation's handoffs; an
agent "handled" it when they held one of its handoffs (claimed, were transferred it,
resolved it: the audit log remembers those who passed it on). The search matches message
text, the handoffs' booking reference and customer name, the contact form's e-mail,
phone and name, and the start of the conversation's id.

The pages walk ix_conversations_created_at; the text search has no index of its own
(bench/history_search.py measures it): on 200,000 messages a word said once took
0.2-0.7 s on SQLite and PostgreSQL on 2 busy cores. A pg_trgm GIN index on messages.text
cut PostgreSQL's 4-8 times, but it would add to every message the gateway relays, and
on this machine its cost to inserts could not be told from the noise; left for a
measurement on a quiet machine.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.storage.models import (
    STATUS_AGENT,
    STATUS_BOT,
    STATUS_WAITING,
    Agent,
    AuditEntry,
    Conversation,
    Handoff,
    Message,
)
from handoff.live.serializers import agent_ref, handoff_shape, iso, rating_shape
from handoff.shapes import http

STATE_RESOLVED = "resolved"
HISTORY_STATES = (STATUS_BOT, STATUS_WAITING, STATUS_AGENT, STATE_RESOLVED)
# Searched handoff fields: what the bot found, and what the customer left to be reached.
SEARCHED_CONTEXT = ("booking_reference", "customer_name")
SEARCHED_CONTACT = ("email", "phone", "name")
PREVIEW_CHARS = 160
# Audit entries whose agent held the conversation at the time.
HANDLING_ACTIONS = ("claim", "transfer", "resolve")


@dataclass(frozen=True)
class HistoryQuery:
    state: str | None = None
    reason: str | None = None
    agent_id: int | None = None
    # The conversation was going on in [since, until): started before until, last
    # active at or after since.
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    text: str | None = None
    limit: int = 25
    # The page starts after this conversation (created_at, id), newest first.
    before: tuple[dt.datetime, str] | None = None


def _handoff_where(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Some handoff of the conversation matches (through ix_handoffs_conversation_id)."""
    return exists().where(Handoff.conversation_id == Conversation.id, *conditions)


def _handled_by(agent_id: int) -> ColumnElement[bool]:
    """Holds or held one of its handoffs (through ix_audit_log_conversation)."""
    return or_(
        _handoff_where(Handoff.agent_id == agent_id),
        exists().where(
            AuditEntry.conversation_id == Conversation.id,
            AuditEntry.agent_id == agent_id,
            AuditEntry.action.in_(HANDLING_ACTIONS),
        ),
    )


def _state_filter(state: str) -> ColumnElement[bool]:
    if state == STATE_RESOLVED:
        return and_(
            Conversation.status == STATUS_BOT, _handoff_where(Handoff.resolved_at.is_not(None))
        )
    if state == STATUS_BOT:
        return and_(Conversation.status == STATUS_BOT, ~_handoff_where())
    return Conversation.status == state


def _text_filter(text: str) -> ColumnElement[bool]:
    handoff_fields = [Handoff.context[key].as_string() for key in SEARCHED_CONTEXT] + [
        Handoff.contact[key].as_string() for key in SEARCHED_CONTACT
    ]
    return or_(
        Conversation.id.startswith(text.lower(), autoescape=True),
        exists().where(
            Message.conversation_id == Conversation.id,
            Message.text.icontains(text, autoescape=True),
        ),
        _handoff_where(or_(*(f.icontains(text, autoescape=True) for f in handoff_fields))),
    )


def conversations_query(query: HistoryQuery) -> Select[tuple[Conversation]]:
    """The page's conversations, one more than the limit (is there a next page?)."""
    # A redacted conversation has no transcript to show (handoff.conversations.retention).
    statement = select(Conversation).where(Conversation.redacted_at.is_(None))
    if query.state is not None:
        statement = statement.where(_state_filter(query.state))
    if query.reason is not None:
        statement = statement.where(_handoff_where(Handoff.reason == query.reason))
    if query.agent_id is not None:
        statement = statement.where(_handled_by(query.agent_id))
    if query.since is not None:
        statement = statement.where(Conversation.updated_at >= query.since)
    if query.until is not None:
        statement = statement.where(Conversation.created_at < query.until)
    if query.text:
        statement = statement.where(_text_filter(query.text))
    if query.before is not None:
        created_at, conversation_id = query.before
        statement = statement.where(
            or_(
                Conversation.created_at < created_at,
                and_(Conversation.created_at == created_at, Conversation.id < conversation_id),
            )
        )
    # ix_conversations_created_at walks this order; the filters above are probes per row.
    return statement.order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(
        query.limit + 1
    )


async def history_page(db: AsyncSession, query: HistoryQuery) -> http.HistoryPage:
    """The page's entries (see history_entry), and the id to ask the next page ``before``."""
    rows = list((await db.scalars(conversations_query(query))).unique().all())
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    ids = [c.id for c in rows]
    handoffs = await _handoffs_of(db, ids)
    handlers = await _handlers_of(db, ids, handoffs)
    last = await _last_messages(db, ids)
    matched = await _first_matches(db, ids, query.text) if query.text else {}
    return http.HistoryPage(
        conversations=[
            history_entry(c, handoffs[c.id], handlers[c.id], last.get(c.id), matched.get(c.id))
            for c in rows
        ],
        next=rows[-1].id if more else None,
    )


async def _handoffs_of(db: AsyncSession, ids: list[str]) -> dict[str, list[Handoff]]:
    found: dict[str, list[Handoff]] = defaultdict(list)
    if ids:
        for handoff in (
            await db.scalars(
                select(Handoff)
                .where(Handoff.conversation_id.in_(ids))
                .order_by(Handoff.requested_at, Handoff.id)
            )
        ).unique():
            found[handoff.conversation_id].append(handoff)
    return found


async def _handlers_of(
    db: AsyncSession, ids: list[str], handoffs: dict[str, list[Handoff]]
) -> dict[str, list[http.AgentRef]]:
    """Who handled each conversation, in the order they first did."""
    seen: dict[str, dict[int, http.AgentRef]] = defaultdict(dict)
    if ids:
        for conversation_id, agent_id, name in (
            await db.execute(
                select(AuditEntry.conversation_id, Agent.id, Agent.name)
                .join(Agent, AuditEntry.agent_id == Agent.id)
                .where(
                    AuditEntry.conversation_id.in_(ids),
                    AuditEntry.action.in_(HANDLING_ACTIONS),
                )
                .order_by(AuditEntry.id)
            )
        ).all():
            seen[conversation_id].setdefault(agent_id, http.AgentRef(id=agent_id, name=name))
    for conversation_id, theirs in handoffs.items():
        for handoff in theirs:
            if handoff.agent is not None:
                seen[conversation_id].setdefault(
                    handoff.agent.id, http.AgentRef(id=handoff.agent.id, name=handoff.agent.name)
                )
    return defaultdict(list, {cid: list(agents.values()) for cid, agents in seen.items()})


async def _last_messages(db: AsyncSession, ids: list[str]) -> dict[str, Message]:
    """Each conversation's newest message: the row at its last_seq (the unique index)."""
    if not ids:
        return {}
    messages = await db.scalars(
        select(Message)
        .join(
            Conversation,
            and_(Message.conversation_id == Conversation.id, Message.seq == Conversation.last_seq),
        )
        .where(Conversation.id.in_(ids))
    )
    return {m.conversation_id: m for m in messages.unique()}


async def _first_matches(db: AsyncSession, ids: list[str], text: str) -> dict[str, Message]:
    found: dict[str, Message] = {}
    if ids:
        for message in (
            await db.scalars(
                select(Message)
                .where(
                    Message.conversation_id.in_(ids),
                    Message.text.icontains(text, autoescape=True),
                )
                .order_by(Message.conversation_id, Message.seq)
            )
        ).unique():
            found.setdefault(message.conversation_id, message)
    return found


def history_state(conversation: Conversation, handoffs: list[Handoff]) -> str:
    if conversation.status != STATUS_BOT:
        return conversation.status
    return STATE_RESOLVED if any(h.resolved_at is not None for h in handoffs) else STATUS_BOT


def _preview(message: Message | None) -> http.Preview | None:
    if message is None:
        return None
    return http.Preview(
        seq=message.seq,
        sender=message.sender,
        text=message.text[:PREVIEW_CHARS],
        created_at=iso(message.created_at),
    )


def history_entry(
    conversation: Conversation,
    handoffs: list[Handoff],
    agents: list[http.AgentRef],
    last_message: Message | None,
    matched: Message | None,
) -> http.HistoryEntry:
    """One line of History: the conversation, its latest handoff, every rating given."""
    latest = handoffs[-1] if handoffs else None
    return http.HistoryEntry(
        id=conversation.id,
        status=conversation.status,
        state=history_state(conversation, handoffs),
        created_at=iso(conversation.created_at),
        updated_at=iso(conversation.updated_at),
        agent=agent_ref(conversation.agent),
        handoff=handoff_shape(latest),
        handoffs=len(handoffs),
        agents=agents,
        ratings=[rating_shape(h) for h in handoffs if h.rating is not None],
        last_message=_preview(last_message),
        match=_preview(matched),
    )
