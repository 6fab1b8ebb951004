"""Rows to the shapes of the API (handoff/shapes/http.py), built field by field.

Each builder names every field of its Struct, so one missing or misspelt fails here,
where the row is read, rather than in a client. Moments are given as serializers.iso
writes them (``+00:00``, as the API always said; msgspec would write ``Z``).
"""

from __future__ import annotations

from typing import Any

from handoff.shapes import http
from handoff.storage.models import (
    Agent,
    AuditEntry,
    CannedResponse,
    Conversation,
    CustomerIdentity,
    Disruption,
    Handoff,
    Message,
    Note,
    Resolution,
)
from handoff.storage.writer import Stored


def amount_number(minor: int | None) -> int | float | None:
    """An amount for JSON: whole units as an integer, otherwise with its cents."""
    if minor is None:
        return None
    return minor // 100 if minor % 100 == 0 else minor / 100


def iso(value: Any) -> Any:
    """A moment for a shape's datetime field: its ISO-8601 text (None stays None)."""
    return value.isoformat() if value is not None else None


def _buttons(buttons: list[dict[str, str]] | None) -> list[http.Button]:
    return [http.Button(title=b["title"], payload=b["payload"]) for b in buttons or ()]


def message_shape(message: Message | Stored) -> http.Message:
    """A message as the widget (and the console, but for a customer's) sees it."""
    return http.Message(
        seq=message.seq,
        sender=message.sender,
        text=message.text,
        created_at=iso(message.created_at),
        buttons=_buttons(message.buttons),
        author=message.author,
    )


def console_message_shape(
    message: Message | Stored, plain: http.Message | None = None
) -> http.Message:
    """The console's copy: a customer message carries what the bot read of it (nlu).

    `plain`: the widget's copy, already built (the relay sends both; iso is the dear
    part). nlu is the stored annotation as it is (nlu_annotation's dict): its frustration
    and disruption keep fields (drivers ...) that their Structs would drop.
    """
    plain = plain or message_shape(message)
    if message.sender != "customer":
        return plain
    return http.AgentMessage(
        seq=plain.seq,
        sender=plain.sender,
        text=plain.text,
        created_at=plain.created_at,
        buttons=plain.buttons,
        author=plain.author,
        nlu=message.nlu,
    )


def handoff_shape(handoff: Handoff | None) -> http.Handoff | None:
    if handoff is None:
        return None
    return http.Handoff(
        id=handoff.id,
        reason=handoff.reason,
        disruption=handoff.disruption,
        context=handoff.context,
        requested_at=iso(handoff.requested_at),
        claimed_at=iso(handoff.claimed_at),
        resolved_at=iso(handoff.resolved_at),
        agent=agent_ref(handoff.agent),
        outcome=handoff.outcome,
        priority=handoff.priority,
        requeued_at=iso(handoff.requeued_at),
        contact=handoff.contact,
        rating=handoff.rating,
        rating_comment=handoff.rating_comment,
        rated_at=iso(handoff.rated_at),
    )


def rating_shape(handoff: Handoff) -> http.Rating:
    """What the customer said of one handoff (handoff.conversations.customer_side.do_rate)."""
    return http.Rating(
        handoff_id=handoff.id,
        score=handoff.rating,
        comment=handoff.rating_comment,
        rated_at=iso(handoff.rated_at),
        agent=agent_ref(handoff.agent),
    )


def queue_entry(conversation: Conversation) -> http.QueueEntry:
    return http.QueueEntry(
        id=conversation.id,
        status=conversation.status,
        handoff=handoff_shape(conversation.handoff),
        agent=agent_ref(conversation.agent),
        customer_left_at=iso(conversation.customer_left_at),
    )


def nlu_annotation(nlu: dict[str, Any]) -> dict[str, Any]:
    """What the gateway keeps of Rasa's parse of a customer message (http.Nlu's shape).

    A dict, not the Struct: it is stored as it is (messages.nlu) and read back by
    handoff.conversations.context, and its frustration carries fields (drivers) that
    the shape lets through but a Struct would not keep.
    """
    intent = nlu.get("intent") or {}
    return {
        "intent": intent.get("name"),
        "confidence": float(intent.get("confidence") or 0.0),
        "intent_ranking": [
            {"intent": item.get("name"), "confidence": float(item.get("confidence") or 0.0)}
            for item in (nlu.get("intent_ranking") or [])[:5]
            if isinstance(item, dict)
        ],
        "entities": [
            {
                **{key: entity.get(key) for key in ("entity", "value", "start", "end")},
                # a date's day (bot/nlu/dates.py), on date entities only
                **({"resolved": entity["resolved"]} if "resolved" in entity else {}),
            }
            for entity in nlu.get("entities") or []
            if isinstance(entity, dict)
        ],
        "frustration": nlu.get("frustration") or {"score": 0.0, "signals": []},
        "disruption": nlu.get("disruption") or {"type": None},
    }


def agent_ref(agent: Agent | None) -> http.AgentRef | None:
    return http.AgentRef(id=agent.id, name=agent.name) if agent is not None else None


def note_shape(note: Note) -> http.Note:
    return http.Note(
        id=note.id,
        conversation_id=note.conversation_id,
        text=note.text,
        author=agent_ref(note.agent),
        created_at=iso(note.created_at),
    )


def canned_shape(canned: CannedResponse) -> http.Canned:
    return http.Canned(
        id=canned.id,
        shortcut=canned.shortcut,
        title=canned.title,
        text=canned.text,
        updated_at=iso(canned.updated_at),
    )


def resolution_shape(resolution: Resolution) -> http.Resolution:
    return http.Resolution(
        id=resolution.id,
        conversation_id=resolution.conversation_id,
        action=resolution.action,
        label=resolution.label,
        amount=amount_number(resolution.amount_minor),
        currency=resolution.currency,
        fields=resolution.fields or {},
        note=resolution.note,
        status=resolution.status,
        requested_by=agent_ref(resolution.requested_by),
        requested_at=iso(resolution.requested_at),
        decided_by=agent_ref(resolution.decided_by),
        decided_at=iso(resolution.decided_at),
        decision_reason=resolution.decision_reason,
        reference=resolution.reference,
        carried_out_at=iso(resolution.carried_out_at),
        failure=resolution.failure,
    )


def audit_shape(entry: AuditEntry) -> http.AuditEntry:
    return http.AuditEntry(
        id=entry.id,
        at=iso(entry.at),
        agent=agent_ref(entry.agent),
        conversation_id=entry.conversation_id,
        action=entry.action,
        details=entry.details,
    )


def customer_shape(identity: CustomerIdentity | None) -> http.VerifiedCustomer | None:
    if identity is None:
        return None
    return http.VerifiedCustomer(
        verified=True,
        customer_id=identity.customer_id,
        name=identity.name,
        email=identity.email,
        bookings=list(identity.bookings or ()),
        verified_at=iso(identity.verified_at),
    )


def disruption_shape(disruption: Disruption, bookings: list[str]) -> http.FlightDisruption:
    return http.FlightDisruption(
        id=disruption.id,
        flight_number=disruption.flight_number,
        date=disruption.date,
        type=disruption.type,
        details=disruption.details,
        bookings=bookings,
        created_at=iso(disruption.created_at),
        updated_at=iso(disruption.updated_at),
    )


def listed_disruption(
    disruption: Disruption, bookings: int, told: int, waiting: int
) -> http.ListedDisruption:
    return http.ListedDisruption(
        id=disruption.id,
        flight_number=disruption.flight_number,
        date=disruption.date,
        type=disruption.type,
        details=disruption.details,
        bookings=bookings,
        told=told,
        waiting=waiting,
        created_at=iso(disruption.created_at),
        updated_at=iso(disruption.updated_at),
    )
