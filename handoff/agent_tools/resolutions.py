"""The console's agent tools as state changes: private notes, canned responses,
empowered resolutions and their approval, and transfers.

As in the conversation actions (handoff.conversations): each step is one transaction that also writes its audit entry,
and only then are its events published. Carrying out a resolution calls the booking or
payment system (handoff.agent_tools.fulfilment) between two transactions, so no transaction stays
open while another system answers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.exc import IntegrityError

from handoff import keys
from handoff.conversations.common import (
    append_message,
    check_holder,
    conversation_or_404,
    local_agent,
    publish_messages,
    status_changed,
    publish_queue,
)
from handoff.storage.audit import record_audit
from handoff.http_errors import json_error
from handoff.live.events import (
    canned_event,
    handoff_event,
    note_event,
    resolution_event,
    transfer_event,
)
from handoff.agent_tools.fulfilment import Commitment, FulfilmentFailed
from handoff.storage.models import (
    RESOLUTION_DONE,
    RESOLUTION_FAILED,
    RESOLUTION_IN_PROGRESS,
    RESOLUTION_PENDING,
    RESOLUTION_REJECTED,
    STATUS_AGENT,
    STATUS_WAITING,
    Agent,
    CannedResponse,
    Conversation,
    Handoff,
    Message,
    Note,
    Resolution,
    utcnow,
)
from handoff.agent_tools.resolution_actions import ResolutionAction, format_amount
from handoff.live.serializers import (
    agent_ref,
    amount_number,
    canned_shape,
    note_shape,
    queue_entry,
    resolution_shape,
)
from handoff.shapes.http import AgentRef

log = logging.getLogger(__name__)

# What a canned response's shortcut looks like, for the console's editor and the seed file.
SHORTCUT = re.compile(r"/[a-z0-9][a-z0-9_-]{0,30}")


def _as_json(shape: msgspec.Struct | None) -> Any:
    """A shape as the audit log's JSON column stores it (the API's own fields)."""
    return msgspec.to_builtins(shape)


async def do_add_note(app: web.Application, conversation_id: str, agent: Agent, text: str) -> Note:
    async with app[keys.DB].write() as db:
        await conversation_or_404(db, conversation_id)
        author = await local_agent(db, agent)
        assert author is not None
        note = Note(conversation_id=conversation_id, agent_id=author.id, text=text, created_at=utcnow())
        note.agent = author
        db.add(note)
        await db.flush()
        await record_audit(
            db, "note_added", agent=author, conversation_id=conversation_id,
            details={"note_id": note.id},
        )
        shape = note_shape(note)
    await app[keys.PUBLISHER].to_agents(note_event(conversation_id, shape))
    return note


def _shortcut_taken(shortcut: str) -> web.HTTPException:
    return json_error(
        web.HTTPConflict, f"the shortcut {shortcut} is already used", field="shortcut"
    )


async def do_create_canned(
    app: web.Application, agent: Agent, shortcut: str, title: str, text: str
) -> CannedResponse:
    try:
        async with app[keys.DB].write() as db:
            if await db.scalar(select(CannedResponse.id).where(CannedResponse.shortcut == shortcut)):
                raise _shortcut_taken(shortcut)
            now = utcnow()
            canned = CannedResponse(
                shortcut=shortcut, title=title, text=text, created_at=now, updated_at=now,
                updated_by_id=agent.id,
            )
            db.add(canned)
            await db.flush()
            shape = canned_shape(canned)
            await record_audit(
                db, "canned_created", agent=agent, details={"canned": _as_json(shape)}
            )
    except IntegrityError:
        # Another process took the shortcut between the check and the insert.
        raise _shortcut_taken(shortcut) from None
    await app[keys.PUBLISHER].to_agents(canned_event("created", shape))
    return canned


async def do_update_canned(
    app: web.Application, agent: Agent, canned_id: int, changes: dict[str, str]
) -> CannedResponse:
    shortcut = changes.get("shortcut")
    try:
        async with app[keys.DB].write() as db:
            canned = await db.get(CannedResponse, canned_id)
            if canned is None:
                raise json_error(web.HTTPNotFound, "canned response not found")
            if shortcut is not None and shortcut != canned.shortcut and await db.scalar(
                select(CannedResponse.id).where(CannedResponse.shortcut == shortcut)
            ):
                raise _shortcut_taken(shortcut)
            before = {field: getattr(canned, field) for field in changes}
            for field, value in changes.items():
                setattr(canned, field, value)
            canned.updated_at = utcnow()
            canned.updated_by_id = agent.id
            await db.flush()
            shape = canned_shape(canned)
            await record_audit(
                db, "canned_updated", agent=agent,
                details={
                    "canned_id": canned.id,
                    "before": before,
                    "after": {field: getattr(shape, field) for field in changes},
                },
            )
    except IntegrityError:
        raise _shortcut_taken(shortcut or "") from None
    await app[keys.PUBLISHER].to_agents(canned_event("updated", shape))
    return canned


async def do_delete_canned(app: web.Application, agent: Agent, canned_id: int) -> None:
    async with app[keys.DB].write() as db:
        canned = await db.get(CannedResponse, canned_id)
        if canned is None:
            raise json_error(web.HTTPNotFound, "canned response not found")
        shape = canned_shape(canned)
        await db.delete(canned)
        # The log keeps the whole text: the row itself is gone.
        await record_audit(db, "canned_deleted", agent=agent, details={"canned": _as_json(shape)})
    await app[keys.PUBLISHER].to_agents(canned_event("deleted", shape))


# What counts as given in a conversation: carried out, or being carried out.
COMMITTED = (RESOLUTION_IN_PROGRESS, RESOLUTION_DONE)


async def given_minor(db: AsyncSession, conversation_id: str, action_id: str) -> int:
    """What the action has already committed in the conversation (minor units)."""
    total = await db.scalar(
        select(func.coalesce(func.sum(Resolution.amount_minor), 0)).where(
            Resolution.conversation_id == conversation_id,
            Resolution.action == action_id,
            Resolution.status.in_(COMMITTED),
        )
    )
    return int(total or 0)


async def _lock_conversation(db: AsyncSession, conversation_id: str) -> None:
    # The turn lock orders this process's requests; the row lock (PostgreSQL; SQLite has
    # one writer anyway) keeps another process from committing past the cap meanwhile.
    await db.execute(
        select(Conversation.id).where(Conversation.id == conversation_id).with_for_update()
    )


@dataclass(frozen=True)
class Batch:
    """Where a request stands in one action for every customer of a disruption
    (handoff.agent_tools.disruption_resolutions)."""

    disruption_id: str
    batch_id: str
    # Above the agent's authority as a whole: each request goes to a supervisor, even one
    # its conversation alone would allow, and they are approved together.
    for_approval: bool


def beyond_anyone(action: ResolutionAction, given: int) -> web.HTTPException:
    currency = action.currency
    room = action.room(given)
    more = (
        f"at most {format_amount(room)} {currency} more can be approved here"
        if room else "no more can be approved here"
    )
    return json_error(
        web.HTTPBadRequest,
        f"{format_amount(given)} {currency} has already been given in this conversation "
        f"('{action.id}'): {more}",
        field="amount",
        given=amount_number(given),
        remaining=amount_number(room),
    )


def _check_not_anothers(conversation: Conversation, agent: Agent) -> None:
    # Claiming would not help here: only the agent who has it may act on it.
    if conversation.status == STATUS_AGENT and conversation.agent_id != agent.id:
        holder = conversation.agent.name if conversation.agent is not None else "another agent"
        raise json_error(
            web.HTTPForbidden, f"{holder} has this conversation; only they may act on it",
            conversation_status=conversation.status,
        )


def _resolution_details(resolution: Resolution) -> dict[str, Any]:
    details = {
        "resolution_id": resolution.id,
        "action": resolution.action,
        "amount": amount_number(resolution.amount_minor),
        "currency": resolution.currency,
    }
    return {**details, "fields": resolution.fields} if resolution.fields else details


def _rejected_text(
    app: web.Application, resolution: Resolution, action: ResolutionAction | None
) -> str:
    agent = resolution.requested_by.name
    if action is None:  # no longer offered: no phrase to say it with
        return (
            f"I'm sorry, that wasn't approved this time. {agent} will go through the other "
            "options with you here."
        )
    return app[keys.RESOLUTIONS].rejected_message(
        action, resolution.amount_minor, resolution.fields or {}, agent
    )


async def do_request_resolution(
    app: web.Application,
    conversation_id: str,
    agent: Agent,
    action: ResolutionAction,
    amount_minor: int | None,
    note: str | None,
    fields: dict[str, str] | None = None,
    batch: Batch | None = None,
) -> Resolution:
    """Within the agent's authority: carried out at once. Above it: to a supervisor."""
    catalogue = app[keys.RESOLUTIONS]
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            await _lock_conversation(db, conversation_id)
            conversation = await conversation_or_404(db, conversation_id)
            _check_not_anothers(conversation, agent)
            check_holder(conversation, agent)
            requester = await local_agent(db, agent)
            assert requester is not None
            given = await given_minor(db, conversation_id, action.id) if action.takes_amount else 0
            if not action.can_be_approved(amount_minor, given):
                raise beyond_anyone(action, given)
            immediate = action.within_limit(requester.role, amount_minor, given) and not (
                batch is not None and batch.for_approval
            )
            resolution = Resolution(
                conversation_id=conversation_id,
                handoff_id=conversation.handoff_id,
                action=action.id,
                label=action.label,
                amount_minor=amount_minor,
                currency=action.currency,
                fields=fields or None,
                note=note,
                status=RESOLUTION_IN_PROGRESS if immediate else RESOLUTION_PENDING,
                requested_by_id=requester.id,
                requested_at=utcnow(),
                disruption_id=batch.disruption_id if batch is not None else None,
                batch_id=batch.batch_id if batch is not None else None,
            )
            resolution.requested_by = requester
            resolution.decided_by = None
            db.add(resolution)
            await db.flush()
            await record_audit(
                db, "resolution_requested", agent=requester, conversation_id=conversation_id,
                details={**_resolution_details(resolution), "within_limit": immediate,
                         "given_before": amount_number(given) if action.takes_amount else None,
                         "note": note},
            )
            told: list[Message] = []
            if not immediate:
                # Honest about where it stands: asked for, not yet promised.
                told.append(
                    await append_message(
                        db, conversation_id, "agent",
                        catalogue.pending_message(action, amount_minor, fields or {}),
                        agent=requester,
                    )
                )
            shape = resolution_shape(resolution)
        if not immediate:
            await publish_messages(app, conversation_id, told, to_agents=True)
            await app[keys.PUBLISHER].to_agents(resolution_event(conversation_id, shape))
            return resolution
    return await _carry_out(app, resolution, action, approver=None)


async def do_decide_resolution(
    app: web.Application,
    resolution_id: int,
    supervisor: Agent,
    *,
    approve: bool,
    reason: str | None,
    with_its_batch: bool = False,
) -> Resolution:
    """A supervisor approves (then it is carried out) or rejects a pending request.

    One request of a batch is approved only with the others (with_its_batch), since
    their sum is what was above the agent's authority; it may be rejected alone."""
    async with app[keys.DB].read() as db:
        found = await db.get(Resolution, resolution_id)
        if found is None:
            raise json_error(web.HTTPNotFound, "approval request not found")
        conversation_id = found.conversation_id
    action = app[keys.RESOLUTIONS].actions.get(found.action)
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            await _lock_conversation(db, conversation_id)
            resolution = await db.get(Resolution, resolution_id, populate_existing=True)
            assert resolution is not None
            if resolution.status != RESOLUTION_PENDING:
                raise json_error(
                    web.HTTPConflict, "this request has already been decided",
                    resolution_status=resolution.status,
                )
            decider = await local_agent(db, supervisor)
            assert decider is not None
            if approve:
                if resolution.batch_id is not None and not with_its_batch:
                    raise json_error(
                        web.HTTPConflict,
                        "this request is one of a bulk action: approve it with the others "
                        f"(POST /api/agent/approvals/batches/{resolution.batch_id}/approve)",
                        batch_id=resolution.batch_id,
                    )
                if resolution.requested_by_id == decider.id:
                    raise json_error(web.HTTPForbidden, "you cannot approve your own request")
                if action is None:
                    raise json_error(
                        web.HTTPConflict, f"the action '{resolution.action}' is no longer offered"
                    )
                given = await given_minor(db, conversation_id, action.id)
                if not action.within_limit(decider.role, resolution.amount_minor, given):
                    raise _above_authority(action, decider.role, given)
            # Compare-and-set: of two supervisors deciding at once, one wins.
            decided = await db.execute(
                update(Resolution)
                .where(Resolution.id == resolution_id, Resolution.status == RESOLUTION_PENDING)
                .values(
                    status=RESOLUTION_IN_PROGRESS if approve else RESOLUTION_REJECTED,
                    decided_by_id=decider.id,
                    decided_at=utcnow(),
                    decision_reason=reason,
                )
            )
            if decided.rowcount != 1:  # type: ignore[attr-defined]
                raise json_error(web.HTTPConflict, "this request has already been decided")
            resolution = await db.get(Resolution, resolution_id, populate_existing=True)
            assert resolution is not None
            await record_audit(
                db,
                "resolution_approved" if approve else "resolution_rejected",
                agent=decider,
                conversation_id=conversation_id,
                details={**_resolution_details(resolution), "reason": reason},
            )
            shape = resolution_shape(resolution)
            told: list[Message] = []
            if not approve:
                # The customer was told it is being approved: they hear the outcome too,
                # without the supervisor's internal reason; their agent takes it from there.
                told.append(
                    await append_message(
                        db, conversation_id, "system",
                        _rejected_text(app, resolution, action),
                    )
                )
        if not approve:
            await publish_messages(app, conversation_id, told, to_agents=True)
            await app[keys.PUBLISHER].to_agents(resolution_event(conversation_id, shape))
            return resolution
    assert action is not None
    return await _carry_out(app, resolution, action, approver=supervisor)


def _above_authority(action: ResolutionAction, role: str, given: int) -> web.HTTPException:
    currency = action.currency
    return json_error(
        web.HTTPForbidden,
        "this is above your authority: "
        f"{format_amount(action.limit_for(role))} {currency} at once, "
        f"{format_amount(action.cap_for(role))} {currency} in one conversation, "
        f"which has already had {format_amount(given)} {currency}",
        given=amount_number(given),
        remaining=amount_number(action.room_for(role, given)),
    )


async def _carry_out(
    app: web.Application, resolution: Resolution, action: ResolutionAction, approver: Agent | None
) -> Resolution:
    conversation_id = resolution.conversation_id
    async with app[keys.DB].read() as db:
        handoff = await db.get(Handoff, resolution.handoff_id) if resolution.handoff_id else None
    context = handoff.context if handoff is not None and isinstance(handoff.context, dict) else {}
    commitment = Commitment(
        resolution_id=resolution.id,
        action=resolution.action,
        amount=(
            Decimal(resolution.amount_minor) / 100 if resolution.amount_minor is not None else None
        ),
        currency=resolution.currency,
        conversation_id=conversation_id,
        booking_reference=_text_or_none(context.get("booking_reference")),
        flight_number=_text_or_none(context.get("flight_number")),
        requested_by=resolution.requested_by.name,
        approved_by=approver.name if approver is not None else None,
        fields=dict(resolution.fields or {}),
    )
    reference: str | None = None
    failure: str | None = None
    try:
        reference = await app[keys.FULFILMENT].carry_out(commitment)
    except FulfilmentFailed as exc:
        failure = str(exc) or "the booking system refused it"
    except Exception:
        log.exception("fulfilment of resolution %s failed", resolution.id)
        failure = "the booking system did not answer"

    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            resolution = await db.get(Resolution, resolution.id, populate_existing=True)  # type: ignore[assignment]
            assert resolution is not None
            on_whose_authority = approver or resolution.requested_by
            told: list[Message] = []
            if failure is None:
                resolution.status = RESOLUTION_DONE
                resolution.reference = reference
                resolution.carried_out_at = utcnow()
                await record_audit(
                    db, "resolution_carried_out", agent=on_whose_authority,
                    conversation_id=conversation_id,
                    details={**_resolution_details(resolution), "reference": reference},
                )
                told.append(
                    await append_message(
                        db, conversation_id, "agent",
                        action.customer_message(
                            resolution.amount_minor, resolution.fields or {}, reference or ""
                        ),
                        agent=resolution.requested_by,
                    )
                )
            else:
                # Nothing is promised to the customer; the agent sees why in the event.
                resolution.status = RESOLUTION_FAILED
                resolution.failure = failure
                await record_audit(
                    db, "resolution_failed", agent=on_whose_authority,
                    conversation_id=conversation_id,
                    details={**_resolution_details(resolution), "failure": failure},
                )
            await db.flush()
            shape = resolution_shape(resolution)
        await publish_messages(app, conversation_id, told, to_agents=True)
        await app[keys.PUBLISHER].to_agents(resolution_event(conversation_id, shape))
    return resolution


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


async def do_transfer(
    app: web.Application, conversation_id: str, agent: Agent, to_agent_id: int | None
) -> Conversation:
    """To another agent (who must be online), or back to the queue (None)."""
    async with app[keys.TURN_LOCKS].hold(conversation_id):
        async with app[keys.DB].write() as db:
            conversation = await conversation_or_404(db, conversation_id)
            check_holder(conversation, agent)
            giver = await local_agent(db, agent)
            assert giver is not None and conversation.handoff is not None
            handoff = conversation.handoff
            receiver = None
            if to_agent_id is not None:
                receiver = await db.get(Agent, to_agent_id)
                if receiver is None:
                    raise json_error(web.HTTPBadRequest, "no such agent", field="agent_id")
                if receiver.id == giver.id:
                    raise json_error(
                        web.HTTPBadRequest, "the conversation is already yours", field="agent_id"
                    )
                if not app[keys.SOCKETS].agent_connected(receiver.id):
                    raise json_error(web.HTTPConflict, f"{receiver.name} is not online")
                text = (
                    f"{giver.name} has passed you to {receiver.name}, "
                    "who can see everything so far."
                )
            else:
                # Same priority and request time: the customer keeps their place.
                handoff.claimed_at = None
                conversation.status = STATUS_WAITING
                text = (
                    f"{giver.name} has passed you back to our team's queue. You keep your "
                    "place, and the next colleague will see everything so far."
                )
            handoff.agent_id = receiver.id if receiver else None
            handoff.agent = receiver
            conversation.agent_id = receiver.id if receiver else None
            conversation.agent = receiver
            told = await append_message(db, conversation_id, "system", text)
            await record_audit(
                db, "transfer", agent=giver, conversation_id=conversation_id,
                details={"handoff_id": handoff.id, "from": _as_json(agent_ref(giver)),
                         "to": _as_json(agent_ref(receiver))},
            )
            entry = queue_entry(conversation)
        publisher = app[keys.PUBLISHER]
        await publish_messages(app, conversation_id, [told], to_agents=True)
        await status_changed(app, conversation)
        await publisher.to_agents(
            transfer_event(
                conversation_id, AgentRef(id=giver.id, name=giver.name), agent_ref(receiver)
            )
        )
        await publisher.to_agents(handoff_event(entry))
    if receiver is None:
        await publish_queue(app)
    return conversation
