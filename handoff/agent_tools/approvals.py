"""What a supervisor's approval card shows beside the request itself: the booking, the
handoff's reason, and what the conversation was already given (GET /api/agent/approvals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.storage.models import RESOLUTION_PENDING, Disruption, Handoff, Resolution
from handoff.agent_tools.resolution_actions import Catalogue
from handoff.agent_tools.resolutions import COMMITTED
from handoff.live.serializers import amount_number, resolution_shape
from handoff.shapes import http


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _conversation_facts(handoff: Handoff | None) -> http.ApprovalConversation:
    context = handoff.context if handoff is not None and isinstance(handoff.context, dict) else {}
    contact = handoff.contact if handoff is not None and isinstance(handoff.contact, dict) else {}
    return http.ApprovalConversation(
        reason=handoff.reason if handoff is not None else None,
        disruption=handoff.disruption if handoff is not None else None,
        booking_reference=_text(context.get("booking_reference")),
        flight_number=_text(context.get("flight_number")),
        customer_name=_text(contact.get("name")),
    )


def _given_item(resolution: Resolution) -> http.GivenItem:
    """What the card lists of each thing already given: a part of the resolution's shape."""
    return http.GivenItem(
        id=resolution.id,
        action=resolution.action,
        label=resolution.label,
        amount=amount_number(resolution.amount_minor),
        currency=resolution.currency,
        fields=resolution.fields or {},
        status=resolution.status,
        reference=resolution.reference,
    )


async def pending_approvals(
    db: AsyncSession, catalogue: Catalogue, role: str
) -> list[http.Approval]:
    """Pending requests, oldest first, each with what the deciding role needs to know."""
    pending = (
        await db.scalars(
            select(Resolution)
            .where(Resolution.status == RESOLUTION_PENDING)
            .order_by(Resolution.requested_at, Resolution.id)
        )
    ).unique().all()
    conversations = {r.conversation_id for r in pending}
    committed = (
        await db.scalars(
            select(Resolution)
            .where(Resolution.conversation_id.in_(conversations), Resolution.status.in_(COMMITTED))
            .order_by(Resolution.id)
        )
    ).unique().all() if conversations else []
    handoff_ids = {r.handoff_id for r in pending if r.handoff_id is not None}
    handoffs = {
        h.id: h
        for h in (
            await db.scalars(select(Handoff).where(Handoff.id.in_(handoff_ids)))
        ).unique().all()
    } if handoff_ids else {}

    batches = await _batches(db, pending)
    entries = []
    for request in pending:
        here = [r for r in committed if r.conversation_id == request.conversation_id]
        given = sum(r.amount_minor or 0 for r in here if r.action == request.action)
        action = catalogue.actions.get(request.action)
        authority = None
        if action is not None and action.takes_amount:
            authority = http.Authority(
                limit=amount_number(action.limit_for(role)),
                per_conversation=amount_number(action.cap_for(role)),
                remaining=amount_number(action.room_for(role, given)),
            )
        entries.append(http.Approval(
            # The request's own fields (shallow: its agents stay Structs), then the card's.
            **msgspec.structs.asdict(resolution_shape(request)),
            conversation=_conversation_facts(handoffs.get(request.handoff_id or -1)),
            given=http.Given(
                amount=amount_number(given) if request.amount_minor is not None else None,
                currency=request.currency,
                items=[_given_item(r) for r in here],
            ),
            authority=authority,
            batch=batches.get(request.batch_id or ""),
        ))
    return entries


async def _batches(
    db: AsyncSession, pending: Sequence[Resolution]
) -> dict[str, http.ApprovalBatch]:
    """Each bulk action's pending requests, as every card of it shows them."""
    members: dict[str, list[Resolution]] = {}
    for request in pending:
        if request.batch_id is not None:
            members.setdefault(request.batch_id, []).append(request)
    ids = {r[0].disruption_id for r in members.values() if r[0].disruption_id is not None}
    disruptions = {
        d.id: d
        for d in (await db.scalars(select(Disruption).where(Disruption.id.in_(ids)))).all()
    } if ids else {}
    batches = {}
    for batch_id, requests in members.items():
        first = requests[0]
        disruption = disruptions.get(first.disruption_id or "")
        amounts = [r.amount_minor for r in requests if r.amount_minor is not None]
        batches[batch_id] = http.ApprovalBatch(
            id=batch_id,
            disruption_id=first.disruption_id or "",
            flight_number=disruption.flight_number if disruption is not None else None,
            date=disruption.date if disruption is not None else None,
            type=disruption.type if disruption is not None else None,
            requests=[r.id for r in requests],
            conversations=[r.conversation_id for r in requests],
            total=amount_number(sum(amounts)) if amounts else None,
        )
    return batches
