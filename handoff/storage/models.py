"""The gateway's tables: conversations, their messages, handoffs and agents; the
agents' private notes, canned responses, empowered resolutions and the audit log; what
the bot could not answer, grouped into topics; the operations feed's disruptions and the
customers a site vouched for."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Date,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC and always hands back aware datetimes, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


# Conversation.status values
STATUS_BOT = "bot"
STATUS_WAITING = "waiting"
STATUS_AGENT = "agent"
STATUSES = (STATUS_BOT, STATUS_WAITING, STATUS_AGENT)

SENDERS = ("customer", "bot", "agent", "system")
# UnansweredTopic.decision of a topic whose questions are training data for its intent.
TOPIC_ASSIGNED = "assigned"
HANDOFF_REASONS = ("requested", "frustration", "disruption", "bot_failure", "bot_unavailable")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), default="agent")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AgentSession(Base):
    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[Optional[dt.datetime]]

    agent: Mapped[Agent] = relationship(lazy="joined")


class Conversation(Base):
    __tablename__ = "conversations"
    # History lists conversations newest first (handoff.conversations.history); retention
    # finds those idle longest.
    __table_args__ = (
        Index("ix_conversations_created_at", "created_at", "id"),
        Index("ix_conversations_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=STATUS_BOT, index=True)
    # The highest seq handed out; messages take last_seq + 1 inside the writing transaction.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The open handoff while status is waiting or agent.
    handoff_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("handoffs.id", use_alter=True, name="fk_conversations_handoff_id")
    )
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    # When the customer's last widget connection closed; null while one is open.
    customer_left_at: Mapped[Optional[dt.datetime]]
    # When its transcript and the customer's details were deleted, and why ("retention"
    # or "erasure"): the row stays, with what the insights count (handoff.conversations.retention).
    redacted_at: Mapped[Optional[dt.datetime]]
    redaction: Mapped[Optional[str]] = mapped_column(String(16))
    # Rasa's copy of the conversation is still to be deleted (Rasa was not reachable).
    assistant_forget_pending: Mapped[bool] = mapped_column(default=False)

    handoff: Mapped[Optional["Handoff"]] = relationship(
        foreign_keys=[handoff_id], lazy="joined", post_update=True
    )
    agent: Mapped[Optional[Agent]] = relationship(foreign_keys=[agent_id], lazy="joined")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint(
            "conversation_id", "client_message_id", name="uq_messages_conversation_client_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    client_message_id: Mapped[Optional[str]] = mapped_column(String(64))
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    # Quick-reply buttons of a bot message: [{"title", "payload"}].
    buttons: Mapped[Optional[list[Any]]]
    # What the assistant understood of a customer message (intent, entities, scores).
    nlu: Mapped[Optional[dict[str, Any]]]

    agent: Mapped[Optional[Agent]] = relationship(lazy="joined")

    @property
    def author(self) -> str | None:
        """The agent's display name, as handoff.storage.writer.Stored has it."""
        return self.agent.name if self.agent is not None else None


class Handoff(Base):
    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_open", "resolved_at", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    disruption: Mapped[Optional[str]] = mapped_column(String(32))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The customer message whose turn triggered the handoff.
    trigger_seq: Mapped[Optional[int]]
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[Optional[dt.datetime]]
    # When a person first wrote to the customer in this handoff (the insights' wait).
    first_reply_at: Mapped[Optional[dt.datetime]]
    resolved_at: Mapped[Optional[dt.datetime]]
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    outcome: Mapped[Optional[str]] = mapped_column(String(64))
    # Queue order: higher first, then the longest waiting (see handoff.routing.queue).
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # Set when an agent's conversation went back to the queue (they disconnected).
    requeued_at: Mapped[Optional[dt.datetime]]
    # Details the customer left for a follow-up: {"name", "email", "phone", "left_at"}.
    contact: Mapped[Optional[dict[str, Any]]]
    # The customer's satisfaction with this handoff, 1-5, and what they added.
    rating: Mapped[Optional[int]]
    rating_comment: Mapped[Optional[str]] = mapped_column(Text)
    rated_at: Mapped[Optional[dt.datetime]]

    agent: Mapped[Optional[Agent]] = relationship(lazy="joined")


# Resolution.status values
RESOLUTION_PENDING = "pending_approval"
RESOLUTION_IN_PROGRESS = "in_progress"
RESOLUTION_DONE = "done"
RESOLUTION_REJECTED = "rejected"
RESOLUTION_FAILED = "failed"
RESOLUTION_STATUSES = (
    RESOLUTION_PENDING,
    RESOLUTION_IN_PROGRESS,
    RESOLUTION_DONE,
    RESOLUTION_REJECTED,
    RESOLUTION_FAILED,
)


class Note(Base):
    """An agent's private note on a conversation; never shown to the customer."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    agent: Mapped[Agent] = relationship(lazy="joined")


class CannedResponse(Base):
    """A reply agents insert by its shortcut (e.g. "/bags"); supervisors edit them."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))


class Resolution(Base):
    """An empowered action an agent took or asked for (handoff.agent_tools.resolution_actions)."""

    __tablename__ = "resolutions"
    __table_args__ = (Index("ix_resolutions_status", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    handoff_id: Mapped[Optional[int]] = mapped_column(ForeignKey("handoffs.id"))
    # The configured action's id, and its label when it was asked for.
    action: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    # Money in minor units (cents), so no float ever holds an amount.
    amount_minor: Mapped[Optional[int]]
    currency: Mapped[Optional[str]] = mapped_column(String(3))
    # The details the action declares (e.g. the new flight and its departure), as stored.
    fields: Mapped[Optional[dict[str, Any]]]
    note: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The supervisor who approved or rejected it, when it needed one.
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    decided_at: Mapped[Optional[dt.datetime]]
    decision_reason: Mapped[Optional[str]] = mapped_column(Text)
    # What the booking or payment system answered (handoff.agent_tools.fulfilment).
    reference: Mapped[Optional[str]] = mapped_column(String(120))
    carried_out_at: Mapped[Optional[dt.datetime]]
    failure: Mapped[Optional[str]] = mapped_column(Text)
    # One action for every customer of a disruption (handoff.agent_tools.
    # disruption_resolutions): the disruption, and the batch its requests share, which a
    # supervisor approves as a whole when it is above the agent's authority.
    disruption_id: Mapped[Optional[str]] = mapped_column(String(64))
    batch_id: Mapped[Optional[str]] = mapped_column(String(32), index=True)

    requested_by: Mapped[Agent] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[Optional[Agent]] = relationship(
        foreign_keys=[decided_by_id], lazy="joined"
    )


class AuditEntry(Base):
    """Who changed what, when. Rows are only ever added (handoff.storage.audit.record_audit)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Null when the gateway itself acted (e.g. requeueing a disconnected agent's chats).
    agent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    # No foreign key: the log outlives whatever it tells about.
    conversation_id: Mapped[Optional[str]] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    agent: Mapped[Optional[Agent]] = relationship(lazy="joined")


class UnansweredTopic(Base):
    """Messages the bot could not answer that mean about the same (handoff.assistant.misses)."""

    __tablename__ = "unanswered_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sum of its messages' unit sentence vectors, 384 float32s: its direction is the
    # topic's, so a new message joins the topic whose sum it is nearest to.
    vector_sum: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # A supervisor's decision (handoff.insights.learning): "assigned" to `intent` (its
    # messages become training data), a "new_topic" named `name` for the team to write
    # an answer for, or "ignored"; null while nobody decided.
    decision: Mapped[Optional[str]] = mapped_column(String(16))
    intent: Mapped[Optional[str]] = mapped_column(String(64))
    name: Mapped[Optional[str]] = mapped_column(String(120))
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agents.id"))
    decided_at: Mapped[Optional[dt.datetime]]


class UnansweredMessage(Base):
    """A customer message the bot answered with out_of_scope or nlu_fallback."""

    __tablename__ = "unanswered_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_unanswered_conversation_seq"),
        Index("ix_unanswered_at", "at"),
        Index("ix_unanswered_topic_at", "topic_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    topic_id: Mapped[int] = mapped_column(ForeignKey("unanswered_topics.id"))
    intent: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The message's text, kept when retention deleted the transcript while the topic was
    # assigned to an intent: a supervisor chose it as training data (handoff.insights.learning).
    text: Mapped[Optional[str]] = mapped_column(Text)


class FrustrationSignal(Base):
    """A conversation whose customer sounded frustrated, and each signal heard in it, once
    (handoff.assistant.frustration): the insights count conversations and signals here
    instead of reading every message's NLU. signal "" marks the conversation itself."""

    __tablename__ = "frustration_signals"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    signal: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# Disruption.type values, as the operations feed sends them.
DISRUPTION_TYPES = ("cancelled", "delayed", "diverted", "schedule_change")


class Disruption(Base):
    """What the airline's operations feed said of one flight (handoff.operations); a
    later post under the same id replaces it (a delay becoming a cancellation)."""

    __tablename__ = "disruptions"
    # Supervisors list those of the last day on (handoff.operations.disruptions).
    __table_args__ = (Index("ix_disruptions_date", "date"),)

    # The feed's own id.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flight_number: Mapped[str] = mapped_column(String(16))
    # The flight's scheduled day, local to its departure, as the feed gives it.
    date: Mapped[dt.date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(32))
    details: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DisruptionBooking(Base):
    """A booking a disruption touches; found by its reference when its customer writes."""

    __tablename__ = "disruption_bookings"

    disruption_id: Mapped[str] = mapped_column(
        ForeignKey("disruptions.id", ondelete="CASCADE"), primary_key=True
    )
    booking_reference: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class CustomerIdentity(Base):
    """Who the embedding site vouched the customer is, by a signed identity
    (handoff.conversations.identity). A table of its own, so that forgetting a customer
    deletes these rows and touches no conversation column."""

    __tablename__ = "customer_identities"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[Optional[str]] = mapped_column(String(120))
    email: Mapped[Optional[str]] = mapped_column(String(320))
    # Booking references, upper case without spaces.
    bookings: Mapped[list[Any]] = mapped_column(default=list)
    verified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KnownDisruption(Base):
    """The disruption a conversation's customer was told of, and the booking it was found
    by (handoff.operations.known); at most one per conversation, the first found."""

    __tablename__ = "known_disruptions"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    disruption_id: Mapped[str] = mapped_column(
        ForeignKey("disruptions.id", ondelete="CASCADE"), index=True
    )
    booking_reference: Mapped[str] = mapped_column(String(16))
    known_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
