"""Rows to the JSON shapes of the API, as handoff/shapes/http.py declares them."""

from __future__ import annotations

from typing import Any

from handoff.storage.models import (
    Agent,
    AuditEntry,
    CannedResponse,
    Conversation,
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


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def message_dict(message: Message | Stored, *, for_agent: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "seq": message.seq,
        "sender": message.sender,
        "text": message.text,
        "created_at": iso(message.created_at),
        "buttons": message.buttons or [],
        "author": message.author,
    }
    if for_agent and message.sender == "customer":
        data["nlu"] = message.nlu
    return data


def handoff_dict(handoff: Handoff | None) -> dict[str, Any] | None:
    if handoff is None:
        return None
    return {
        "id": handoff.id,
        "reason": handoff.reason,
        "disruption": handoff.disruption,
        "context": handoff.context,
        "requested_at": iso(handoff.requested_at),
        "claimed_at": iso(handoff.claimed_at),
        "resolved_at": iso(handoff.resolved_at),
        "agent": agent_ref(handoff.agent),
        "outcome": handoff.outcome,
        "priority": handoff.priority,
        "requeued_at": iso(handoff.requeued_at),
        "contact": handoff.contact,
        "rating": handoff.rating,
        "rating_comment": handoff.rating_comment,
        "rated_at": iso(handoff.rated_at),
    }


def rating_dict(handoff: Handoff) -> dict[str, Any]:
    """What the customer said of one handoff (handoff.conversations.customer_side.do_rate)."""
    return {
        "handoff_id": handoff.id,
        "score": handoff.rating,
        "comment": handoff.rating_comment,
        "rated_at": iso(handoff.rated_at),
        "agent": agent_ref(handoff.agent),
    }


def queue_entry(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "status": conversation.status,
        "handoff": handoff_dict(conversation.handoff),
        "agent": agent_ref(conversation.agent),
        "customer_left_at": iso(conversation.customer_left_at),
    }


def nlu_annotation(nlu: dict[str, Any]) -> dict[str, Any]:
    """What the gateway keeps of Rasa's parse of a customer message."""
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


def agent_ref(agent: Agent | None) -> dict[str, Any] | None:
    return {"id": agent.id, "name": agent.name} if agent is not None else None


def note_dict(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "conversation_id": note.conversation_id,
        "text": note.text,
        "author": agent_ref(note.agent),
        "created_at": iso(note.created_at),
    }


def canned_dict(canned: CannedResponse) -> dict[str, Any]:
    return {
        "id": canned.id,
        "shortcut": canned.shortcut,
        "title": canned.title,
        "text": canned.text,
        "updated_at": iso(canned.updated_at),
    }


def resolution_dict(resolution: Resolution) -> dict[str, Any]:
    return {
        "id": resolution.id,
        "conversation_id": resolution.conversation_id,
        "action": resolution.action,
        "label": resolution.label,
        "amount": amount_number(resolution.amount_minor),
        "currency": resolution.currency,
        "fields": resolution.fields or {},
        "note": resolution.note,
        "status": resolution.status,
        "requested_by": agent_ref(resolution.requested_by),
        "requested_at": iso(resolution.requested_at),
        "decided_by": agent_ref(resolution.decided_by),
        "decided_at": iso(resolution.decided_at),
        "decision_reason": resolution.decision_reason,
        "reference": resolution.reference,
        "carried_out_at": iso(resolution.carried_out_at),
        "failure": resolution.failure,
    }


def audit_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "agent": agent_ref(entry.agent),
        "conversation_id": entry.conversation_id,
        "action": entry.action,
        "details": entry.details,
    }
