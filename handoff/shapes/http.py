"""The HTTP API's bodies, and the payloads socket events carry (a message, a note ...).

Descriptions here are the OpenAPI document's (handoff/web/openapi.py generates its
components from these classes).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from handoff.shapes.base import (
    ClientMessageId,
    HandoffReason,
    HistoryState,
    Moment,
    OpenShape,
    Sender,
    Seq,
    Shape,
    Status,
)

# --- payloads --------------------------------------------------------------------------


class ErrorDetail(Shape):
    """An error answer's ``error``; a socket's ``error`` frame carries the same."""

    status: int
    message: str
    field: Annotated[str, Meta(description="the input field that is wrong")] | UnsetType = UNSET
    errors: Annotated[
        dict[str, str], Meta(description="the contact form: every wrong field's message, by field")
    ] | UnsetType = UNSET
    retry_after: Annotated[int, Meta(description="429: seconds to wait")] | UnsetType = UNSET
    conversation_status: Annotated[
        Status, Meta(description="409: the conversation's status now")
    ] | UnsetType = UNSET
    resolution_status: Annotated[
        str, Meta(description="409 on a decided request: its status now")
    ] | UnsetType = UNSET
    given: Annotated[
        float, Meta(description="an amount refused: what its conversation was given already")
    ] | UnsetType = UNSET
    remaining: Annotated[
        float, Meta(description="an amount refused: what more its conversation may be given")
    ] | UnsetType = UNSET
    total: Annotated[
        float, Meta(description="a disruption's action refused: its amounts' sum")
    ] | UnsetType = UNSET
    limit: Annotated[
        float, Meta(description="a disruption's action refused: the caller's limit at once")
    ] | UnsetType = UNSET
    conversations: Annotated[
        list[str], Meta(description="a disruption's action refused: the conversations past "
                        "the caller's cap")
    ] | UnsetType = UNSET
    batch_id: Annotated[
        str, Meta(description="409: the request is one of this bulk action's, approved with it")
    ] | UnsetType = UNSET


class Error(Shape):
    """Every 4xx and 5xx answer of the API."""

    error: ErrorDetail


class Button(Shape):
    title: str
    payload: str


class Message(Shape):
    seq: Seq
    sender: Sender
    text: str
    created_at: Moment
    buttons: list[Button]
    author: Annotated[str | None, Meta(description="the agent's display name")]


class IntentScore(OpenShape):
    intent: str | None
    confidence: float


class Frustration(OpenShape):
    score: Annotated[float, Meta(ge=0, le=1)]
    signals: list[str]


class Disruption(OpenShape):
    type: str | None


class Nlu(Shape):
    """What the gateway keeps of Rasa's parse of a customer message (docs/contract.md)."""

    intent: str | None
    confidence: float
    intent_ranking: list[IntentScore]
    entities: list[dict[str, Any]]
    frustration: Frustration
    disruption: Disruption


class AgentMessage(Message):
    """A message as the console sees it: customer messages carry the bot's ``nlu``."""

    nlu: Nlu | None | UnsetType = UNSET


class AgentRef(Shape):
    id: int
    name: str


class AgentName(Shape):
    """An agent as the customer sees them."""

    name: str


class Handoff(Shape):
    id: int
    reason: HandoffReason
    disruption: str | None
    context: Annotated[
        dict[str, Any],
        Meta(
            description="What the agent needs (docs/contract.md): summary, "
            "booking_reference, flight_number, customer_name, dates, resolved_dates "
            "(said -> ISO day), places, frustration {score, signals, drivers}, "
            "intents_seen. Updated while a person has the conversation (the console's "
            "`context` event)."
        ),
    ]
    requested_at: Moment
    claimed_at: Moment | None
    resolved_at: Moment | None
    agent: AgentRef | None
    outcome: str | None
    priority: int
    requeued_at: Moment | None
    contact: dict[str, Any] | None
    rating: int | None
    rating_comment: str | None
    rated_at: Moment | None


class Rating(Shape):
    """What the customer said of one handoff, after an agent resolved it."""

    handoff_id: int
    score: Annotated[int, Meta(ge=1, le=5)]
    comment: str | None
    rated_at: Moment
    agent: AgentRef | None


class QueueEntry(Shape):
    id: str
    status: Status
    handoff: Handoff | None
    agent: AgentRef | None
    customer_left_at: Moment | None


class Preview(Shape):
    seq: Seq
    sender: Sender
    text: Annotated[str, Meta(max_length=160)]
    created_at: Moment


class HistoryEntry(Shape):
    """One conversation in History. state: bot (never handed off), waiting, agent, or
    resolved (back with the bot after an agent resolved it). handoff: the latest; agents:
    everyone who handled one of its handoffs; ratings: every rating given; last_message:
    the newest message (first 160 characters); match: the first message whose text
    matches q, or null."""

    id: str
    status: Status
    state: HistoryState
    created_at: Moment
    updated_at: Moment
    agent: AgentRef | None
    handoff: Handoff | None
    handoffs: Annotated[int, Meta(ge=0)]
    agents: list[AgentRef]
    ratings: list[Rating]
    last_message: Preview | None
    match: Preview | None


class Note(Shape):
    id: int
    conversation_id: str
    text: str
    author: AgentRef | None
    created_at: Moment


class Canned(Shape):
    id: int
    shortcut: Annotated[str, Meta(pattern="^/[a-z0-9][a-z0-9_-]{0,30}$")]
    title: str
    text: str
    updated_at: Moment


class ResolutionField(Shape):
    id: str
    label: str
    type: Literal["flight_number", "datetime"]


FieldValues = Annotated[
    dict[str, str],
    Meta(
        description='The action\'s declared fields by id, e.g. {"flight": "BA119", '
        '"departure": "2026-12-04T09:40"}'
    ),
]


class ResolutionAction(Shape):
    """A configured empowered action, as the calling agent's role sees it. limit: the
    largest amount the caller may commit at once (0: always needs approval; null: the
    action takes no amount). per_conversation: the most the caller's authority covers in
    one conversation, what was already given there included (above it, a supervisor
    approves). immediate: the caller may do it at once (within limit). max_amount: the
    most anyone may approve at once."""

    id: str
    label: str
    takes_amount: bool
    currency: str | None
    limit: float | None
    per_conversation: float | None
    max_amount: float | None
    immediate: bool
    fields: Annotated[
        list[ResolutionField],
        Meta(
            description="The details the action takes, each required (e.g. the new "
            "flight): flight_number such as BA119; datetime, the local time of departure "
            "as YYYY-MM-DDTHH:MM, from today to a year ahead"
        ),
    ]


ResolutionStatus = Literal["pending_approval", "in_progress", "done", "rejected", "failed"]


class Resolution(Shape):
    """An empowered action taken or asked for. done: carried out, the customer was told;
    pending_approval: waiting for a supervisor, the customer was told it is being
    approved; rejected: a supervisor said no (the customer was promised nothing); failed:
    the booking system did not carry it out (see failure)."""

    id: int
    conversation_id: str
    action: str
    label: str
    amount: float | None
    currency: str | None
    fields: FieldValues
    note: str | None
    status: ResolutionStatus
    requested_by: AgentRef | None
    requested_at: Moment
    decided_by: AgentRef | None
    decided_at: Moment | None
    decision_reason: str | None
    reference: str | None
    carried_out_at: Moment | None
    failure: str | None


class ApprovalConversation(Shape):
    reason: str | None
    disruption: str | None
    booking_reference: str | None
    flight_number: str | None
    customer_name: str | None


class GivenItem(Shape):
    id: int
    action: str
    label: str
    amount: float | None
    currency: str | None
    fields: FieldValues
    status: Literal["in_progress", "done"]
    reference: str | None


class Given(Shape):
    amount: float | None
    currency: str | None
    items: list[GivenItem]


class Authority(Shape):
    limit: float
    per_conversation: float
    remaining: float


class ApprovalBatch(Shape):
    """The bulk action over one disruption a request belongs to: its requests still
    pending are approved together (POST /api/agent/approvals/batches/{id}/approve),
    their sum weighed against the approver's authority; one may be rejected alone."""

    id: str
    disruption_id: str
    flight_number: str | None
    date: dt.date | None
    type: str | None
    requests: Annotated[list[int], Meta(description="the pending requests' ids, in order")]
    conversations: list[str]
    total: Annotated[float | None, Meta(description="their amounts' sum")]


class Approval(Resolution):
    """A request waiting for a supervisor, with what they weigh: the conversation's
    booking, flight, handoff reason and customer's name (from the handoff), what was
    already given in the conversation (carried out or under way; given.amount: of this
    request's action), the caller's authority for it (null for an action without an
    amount), and the bulk action it is part of (null for a request of one conversation)."""

    conversation: ApprovalConversation
    given: Given
    authority: Authority | None
    batch: ApprovalBatch | None = None


class AuditEntry(Shape):
    """action: claim, transfer, requeue, resolve, note_added, resolution_requested,
    resolution_approved, resolution_rejected, resolution_carried_out, resolution_failed,
    canned_created, canned_updated, canned_deleted, canned_seeded, topic_assign,
    topic_new_topic, topic_ignore, topic_reopen. agent is null when the gateway itself
    acted."""

    id: int
    at: Moment
    agent: AgentRef | None
    conversation_id: str | None
    action: str
    details: dict[str, Any]


class VerifiedCustomer(Shape):
    """The customer as the embedding site vouched for them with a signed identity."""

    verified: Literal[True]
    customer_id: str
    name: str | None
    email: str | None
    bookings: Annotated[list[str], Meta(description="upper case, without spaces")]
    verified_at: Moment


class FlightDisruption(Shape):
    id: str
    flight_number: str
    date: dt.date
    type: str
    details: str | None
    bookings: list[str]
    created_at: Moment
    updated_at: Annotated[Moment, Meta(description="when the feed last changed it")]


class ListedDisruption(Shape):
    id: str
    flight_number: str
    date: dt.date
    type: str
    details: str | None
    bookings: Annotated[int, Meta(ge=0, description="how many bookings it touches")]
    told: Annotated[int, Meta(ge=0, description="how many customers were told of it")]
    waiting: Annotated[
        int, Meta(ge=0, description="how many of those wait in the queue for a person now")
    ]
    created_at: Moment
    updated_at: Moment


# --- request bodies --------------------------------------------------------------------
# Decoded by handoff.web.validation (read_body, read_one_of); what a type cannot say
# (trimmed, no NUL, a limit from the settings, a length answered 413) is checked there.


class CustomerMessageIn(Shape):
    text: Annotated[str, Meta(min_length=1)]
    payload: Annotated[str, Meta(max_length=200, description="a quick reply's")] | None = None
    client_message_id: ClientMessageId | None = None


class ContactIn(Shape):
    """An email or a phone is required. Each field is checked on its own: a 400 names
    the first wrong one in `field` and `message`, and every wrong one in `errors` (by
    field), in plain words."""

    name: Annotated[str, Meta(max_length=120)] | None = None
    email: Annotated[str, Meta(max_length=320)] | None = None
    phone: Annotated[str, Meta(max_length=40)] | None = None
    message: str | None = None


class RatingIn(Shape):
    score: Annotated[int, Meta(ge=1, le=5)]
    comment: Annotated[str, Meta(max_length=2000)] | None = None


class LoginIn(Shape):
    email: Annotated[str, Meta(max_length=320)]
    password: Annotated[str, Meta(min_length=1)]


class AgentMessageIn(Shape):
    text: Annotated[str, Meta(min_length=1)]
    client_message_id: ClientMessageId | None = None


class ResolveIn(Shape):
    outcome: Annotated[str, Meta(max_length=64)] | None = None


class NoteIn(Shape):
    text: Annotated[str, Meta(min_length=1)]


class CannedIn(Shape):
    shortcut: Annotated[
        str, Meta(max_length=32, description="e.g. /bags; unique")
    ] | UnsetType = UNSET
    title: Annotated[str, Meta(max_length=120)] | UnsetType = UNSET
    text: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET


class ResolutionIn(Shape):
    action: str
    amount: Annotated[
        float,
        Meta(gt=0, lt=1_000_000, description="Required exactly when the action takes an amount"),
    ] | None = None
    fields: Annotated[
        dict[str, str],
        Meta(description="Required exactly when the action declares fields: a value for each, by id"),
    ] | None = None
    note: Annotated[str, Meta(max_length=1000, description="For the supervisor; private")] | None = None


class TransferToAgent(Shape):
    agent_id: int


class TransferToQueue(Shape):
    to: Literal["queue"]


class DecisionIn(Shape):
    reason: Annotated[str, Meta(max_length=1000)] | None = None


DisruptionType = Literal["cancelled", "delayed", "diverted", "schedule_change"]
# As sent: letters and digits, spaces allowed (stored upper case without them).
BookingReferenceIn = Annotated[
    str, Meta(min_length=1, max_length=16, pattern="^ *[A-Za-z0-9][A-Za-z0-9 ]*$")
]


class DisruptionIn(Shape):
    """The operations feed's news of one flight. A later post with the same id replaces
    it, its bookings included."""

    id: Annotated[str, Meta(max_length=64, description="the feed's own id; unique")]
    flight_number: Annotated[str, Meta(max_length=16, description="e.g. BA 119")]
    date: Annotated[dt.date, Meta(description="the flight's scheduled day, YYYY-MM-DD")]
    type: DisruptionType
    details: Annotated[str, Meta(max_length=2000)] | None = None
    bookings: Annotated[
        list[BookingReferenceIn],
        Meta(max_length=1000, description="the booking references the flight carries"),
    ] = msgspec.field(default_factory=list)


class Identity(Shape):
    """Who the embedding site says the customer is, exactly as it signed it: the fields
    given, and only those, make the signed text (docs/contract.md)."""

    customer_id: Annotated[str, Meta(min_length=1, max_length=128)]
    name: Annotated[str, Meta(max_length=120)] | None | UnsetType = UNSET
    email: Annotated[str, Meta(max_length=320)] | None | UnsetType = UNSET
    bookings: Annotated[
        list[BookingReferenceIn], Meta(max_length=50)
    ] | UnsetType = UNSET


class ConversationIn(Shape):
    """Optional: no body, or no identity, opens an anonymous conversation."""

    identity: Identity | None = None
    identity_signature: Annotated[
        str,
        Meta(
            max_length=128,
            description="hex HMAC-SHA256 of the identity as JSON with sorted keys and no "
            "spaces, with BATON_IDENTITY_SECRET",
        ),
    ] | None = None


# --- response bodies -------------------------------------------------------------------


class Created(Shape):
    id: str
    token: str


class RatingPrompt(Shape):
    """Non-null while the customer can still rate the chat an agent resolved (POST
    .../rating): the latest resolved handoff is unrated, was resolved less than 24 h ago,
    and the conversation is back with the bot."""

    agent: AgentName | None
    asked_at: Moment


class ConversationOut(Shape):
    id: str
    status: Status
    agent: AgentName | None
    rating: RatingPrompt | None


class Messages(Shape):
    messages: list[Message]


class Turn(Shape):
    status: Status
    messages: list[Message]


class RatingOut(Shape):
    score: int
    comment: str | None


class AgentAccount(Shape):
    id: int
    name: str
    email: str
    role: str


class LoginOut(Shape):
    token: str
    agent: AgentAccount


class Ok(Shape):
    ok: bool


class Queue(Shape):
    conversations: list[QueueEntry]


class HistoryPage(Shape):
    conversations: list[HistoryEntry]
    next: Annotated[str | None, Meta(description="before= this for the next page; null: the last")]


class ConversationDetail(Shape):
    id: str
    status: Status
    state: Annotated[
        HistoryState,
        Meta(
            description="as in History: resolved is back with the bot after an agent "
            "resolved it; bot, never handed off"
        ),
    ]
    agent: AgentRef | None
    handoff: Handoff | None
    handoffs: list[Handoff]
    messages: list[AgentMessage]
    notes: list[Note]
    resolutions: list[Resolution]
    audit: list[AuditEntry]
    customer: Annotated[
        VerifiedCustomer | None,
        Meta(description="who the site vouched the customer is; null: anonymous"),
    ]


class MessageOut(Shape):
    message: Message


class Resolved(Shape):
    id: str
    status: Status


class AgentListed(Shape):
    id: int
    name: str
    role: Literal["agent", "supervisor"]
    online: bool


class Agents(Shape):
    agents: list[AgentListed]


class Notes(Shape):
    notes: list[Note]


class NoteOut(Shape):
    note: Note


class CannedList(Shape):
    canned: list[Canned]


class CannedOut(Shape):
    canned: Canned


class Deleted(Shape):
    id: int
    deleted: Literal[True]


class Catalogue(Shape):
    role: str
    actions: list[ResolutionAction]


class ResolutionOut(Shape):
    resolution: Resolution


class DisruptionResolutions(Shape):
    """One action applied to each conversation of a disruption: one resolution each,
    carried out at once, or, when the whole is above the agent's authority, pending as
    one batch for a supervisor (needs_approval says why)."""

    disruption_id: str
    batch_id: str
    needs_approval: str | None
    resolutions: list[Resolution]


class BatchDecided(Shape):
    """A supervisor's decision on a bulk action's pending requests, one resolution each."""

    batch_id: str
    resolutions: list[Resolution]


class Transferred(Shape):
    id: str
    status: Status
    agent: AgentRef | None


class Approvals(Shape):
    approvals: list[Approval]


class Audit(Shape):
    entries: list[AuditEntry]


class DisruptionRecorded(Shape):
    disruption: FlightDisruption


class ActiveDisruptions(Shape):
    """Disruptions of flights from `since` on (yesterday in the company's time zone),
    the latest news first."""

    since: dt.date
    feed_configured: Annotated[
        bool, Meta(description="false: BATON_OPS_SECRET is not set, the feed posts nothing")
    ]
    disruptions: list[ListedDisruption]


class Health(Shape):
    status: Literal["ok"]


class Readiness(Shape):
    status: Literal["ready", "unavailable"]
    checks: dict[str, bool]


__all__ = [name for name, value in dict(globals()).items()
           if isinstance(value, type) and issubclass(value, msgspec.Struct)]
