"""The console's agent tools: notes, canned responses, empowered resolutions and their
approval, transfers, the agents list and the audit log."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.agent_tools.approvals import pending_approvals
from handoff.storage.audit import audit_entries
from handoff.access.auth import current_agent, current_supervisor, require_agent
from handoff.http_errors import json_error
from handoff.storage.models import Conversation
from handoff.storage.queries import all_agents, all_canned, notes_of, resolutions_of
from handoff.agent_tools.resolution_actions import Catalogue as Actions
from handoff.agent_tools.resolution_actions import ResolutionAction, format_amount, to_minor
from handoff.agent_tools.resolution_fields import FieldError
from handoff.agent_tools.disruption_resolutions import do_decide_batch, do_resolve_disruption
from handoff.agent_tools.resolutions import (
    SHORTCUT,
    do_add_note,
    do_create_canned,
    do_decide_resolution,
    do_delete_canned,
    do_request_resolution,
    do_transfer,
    do_update_canned,
)
from handoff.live.serializers import (
    agent_ref,
    audit_shape,
    canned_shape,
    note_shape,
    resolution_shape,
)
from handoff.shapes.http import (
    BatchDecided,
    DisruptionResolutions,
    AgentListed,
    Agents,
    Approvals,
    Audit,
    CannedIn,
    CannedList,
    CannedOut,
    Catalogue,
    DecisionIn,
    Deleted,
    NoteIn,
    NoteOut,
    Notes,
    ResolutionIn,
    ResolutionOut,
    TransferToAgent,
    TransferToQueue,
    Transferred,
)
from handoff.web.answers import shaped
from handoff.web.validation import ByCaller, Text, int_query, read_body, read_one_of

routes = web.RouteTableDef()

# No single commitment is anywhere near this; a bigger number is a typo.
MAX_AMOUNT = Decimal("1000000")


def _int_id(request: web.Request, what: str) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise json_error(web.HTTPNotFound, f"{what} not found")
    return int(raw)


async def agent_records(db: AsyncSession, conversation_id: str) -> dict[str, list[Any]]:
    """What the context panel shows beside the transcript: notes, resolutions, audit
    (ConversationDetail's fields of those names)."""
    notes = await notes_of(db, conversation_id)
    resolutions = await resolutions_of(db, conversation_id)
    audit = await audit_entries(db, conversation_id=conversation_id)
    return {
        "notes": [note_shape(n) for n in notes],
        "resolutions": [resolution_shape(r) for r in resolutions],
        "audit": [audit_shape(e) for e in audit],
    }


@routes.get("/api/agent/agents")
async def agents(request: web.Request) -> web.Response:
    sockets = request.app[keys.SOCKETS]
    async with request.app[keys.DB].read() as db:
        await require_agent(request, db)
        rows = await all_agents(db)
    return shaped(
        Agents(
            agents=[
                AgentListed(
                    id=a.id, name=a.name, role=a.role, online=sockets.agent_connected(a.id)
                )
                for a in rows
            ]
        )
    )


@routes.get("/api/agent/conversations/{id}/notes")
async def notes(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as db:
        await require_agent(request, db)
        conversation_id = request.match_info["id"]
        if await db.get(Conversation, conversation_id) is None:
            raise json_error(web.HTTPNotFound, "conversation not found")
        rows = await notes_of(db, conversation_id)
    return shaped(Notes(notes=[note_shape(n) for n in rows]))


@routes.post("/api/agent/conversations/{id}/notes")
async def add_note(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    max_chars = request.app[keys.SETTINGS].max_message_chars
    body = await read_body(request, NoteIn, text=Text(max_chars))
    note = await do_add_note(request.app, request.match_info["id"], agent, body.text)
    return shaped(NoteOut(note=note_shape(note)), status=201)


@routes.get("/api/agent/canned")
async def canned_list(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as db:
        await require_agent(request, db)
        rows = await all_canned(db)
    return shaped(CannedList(canned=[canned_shape(c) for c in rows]))


def _shortcut(shortcut: str) -> str:
    shortcut = shortcut.lower()
    if not SHORTCUT.fullmatch(shortcut):
        raise json_error(
            web.HTTPBadRequest,
            "'shortcut' must be a slash and up to 31 letters, digits, - or _, e.g. /bags",
            field="shortcut",
        )
    return shortcut


async def _canned_fields(request: web.Request, *, required: bool) -> dict[str, str]:
    """The fields given (all of them, when required), each checked."""
    body = await read_body(
        request,
        CannedIn,
        shortcut=Text(required=required, then=_shortcut),
        title=Text(required=required),
        text=Text(request.app[keys.SETTINGS].max_message_chars, required=required),
    )
    return {
        name: value
        for name, value in msgspec.structs.asdict(body).items()
        if value is not msgspec.UNSET
    }


@routes.post("/api/agent/canned")
async def canned_create(request: web.Request) -> web.Response:
    agent = await current_supervisor(request)
    fields = await _canned_fields(request, required=True)
    canned = await do_create_canned(request.app, agent, **fields)
    return shaped(CannedOut(canned=canned_shape(canned)), status=201)


@routes.patch("/api/agent/canned/{id}")
async def canned_update(request: web.Request) -> web.Response:
    agent = await current_supervisor(request)
    canned_id = _int_id(request, "canned response")
    fields = await _canned_fields(request, required=False)
    if not fields:
        raise json_error(web.HTTPBadRequest, "give at least one of shortcut, title, text")
    canned = await do_update_canned(request.app, agent, canned_id, fields)
    return shaped(CannedOut(canned=canned_shape(canned)))


@routes.delete("/api/agent/canned/{id}")
async def canned_delete(request: web.Request) -> web.Response:
    agent = await current_supervisor(request)
    canned_id = _int_id(request, "canned response")
    await do_delete_canned(request.app, agent, canned_id)
    return shaped(Deleted(id=canned_id, deleted=True))


@routes.get("/api/agent/resolutions")
async def resolution_actions(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    catalogue = request.app[keys.RESOLUTIONS]
    return shaped(
        Catalogue(
            role=agent.role, actions=[a.shape(agent.role) for a in catalogue.actions.values()]
        )
    )


def _resolution(
    catalogue: Actions, action_id: Any, amount: Any, fields: Any
) -> tuple[ResolutionAction, int | None, dict[str, str]]:
    """The action asked for, its amount in minor units and its fields' values, each
    checked against the action (an unknown one first). Given a decoded ResolutionIn's
    values, or the plain JSON's when the shape refused them, to say why."""
    if not isinstance(action_id, str) or action_id not in catalogue.actions:
        raise json_error(
            web.HTTPBadRequest,
            f"unknown action; one of: {', '.join(catalogue.actions)}",
            field="action",
        )
    action = catalogue.actions[action_id]
    return action, _amount(amount, action), _fields(fields, action)


def _amount(value: Any, action: ResolutionAction) -> int | None:
    """The amount in minor units, checked against what the action takes."""
    if not action.takes_amount:
        if value is not None:
            raise json_error(
                web.HTTPBadRequest, f"'{action.id}' takes no amount", field="amount"
            )
        return None
    if value is None:
        raise json_error(
            web.HTTPBadRequest, f"'amount' is required for '{action.id}'", field="amount"
        )
    not_a_number = "'amount' must be a number, such as 50 or 49.90"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise json_error(web.HTTPBadRequest, not_a_number, field="amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise json_error(web.HTTPBadRequest, not_a_number, field="amount") from None
    if not amount.is_finite():
        raise json_error(web.HTTPBadRequest, not_a_number, field="amount")
    if amount <= 0:
        raise json_error(web.HTTPBadRequest, "'amount' must be more than 0", field="amount")
    if amount >= MAX_AMOUNT:
        raise json_error(web.HTTPBadRequest, "'amount' must be below 1,000,000", field="amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise json_error(
            web.HTTPBadRequest, "'amount' must have at most two decimals (cents)", field="amount"
        )
    minor = to_minor(amount)
    if not action.can_be_approved(minor):
        raise json_error(
            web.HTTPBadRequest,
            f"nobody may approve more than {format_amount(action.room(0))} {action.currency} "
            f"for '{action.id}'",
            field="amount",
        )
    return minor


def _fields(given: Any, action: ResolutionAction) -> dict[str, str]:
    """The values of the action's declared fields, each checked; every one is required."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise json_error(web.HTTPBadRequest, "'fields' must be an object", field="fields")
    declared = [f.id for f in action.fields]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        takes = f"it takes {', '.join(declared)}" if declared else "it takes none"
        raise json_error(
            web.HTTPBadRequest,
            f"'{action.id}' has no field {', '.join(unknown)}; {takes}", field="fields",
        )
    values: dict[str, str] = {}
    for declared_field in action.fields:
        try:
            values[declared_field.id] = declared_field.parse(given.get(declared_field.id))
        except FieldError as exc:
            raise json_error(
                web.HTTPBadRequest, str(exc), field=f"fields.{declared_field.id}"
            ) from None
    return values


async def _resolution_body(
    request: web.Request,
) -> tuple[ResolutionIn, tuple[ResolutionAction, int | None, dict[str, str]]]:
    """An empowered action's body, for one conversation or a whole disruption: the
    action is checked first, then the amount and fields against what it takes."""
    catalogue = request.app[keys.RESOLUTIONS]
    body = await read_body(
        request,
        ResolutionIn,
        action=ByCaller(),
        amount=ByCaller(),
        fields=ByCaller(),
        explain=lambda raw: _resolution(
            catalogue, raw.get("action"), raw.get("amount"), raw.get("fields")
        ),
    )
    return body, _resolution(catalogue, body.action, body.amount, body.fields)


@routes.post("/api/agent/conversations/{id}/resolutions")
async def request_resolution(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    body, (action, amount_minor, fields) = await _resolution_body(request)
    resolution = await do_request_resolution(
        request.app, request.match_info["id"], agent, action, amount_minor, body.note, fields
    )
    return shaped(ResolutionOut(resolution=resolution_shape(resolution)), status=201)


@routes.post("/api/agent/disruptions/{id}/resolutions")
async def resolve_disruption(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    body, (action, amount_minor, fields) = await _resolution_body(request)
    disruption_id = request.match_info["id"]
    applied = await do_resolve_disruption(
        request.app, disruption_id, agent, action, amount_minor, body.note, fields
    )
    return shaped(
        DisruptionResolutions(
            disruption_id=disruption_id,
            batch_id=applied.batch_id,
            needs_approval=applied.needs_approval,
            resolutions=[resolution_shape(r) for r in applied.resolutions],
        ),
        status=201,
    )


@routes.post("/api/agent/conversations/{id}/transfer")
async def transfer(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    body = await read_one_of(
        request,
        (TransferToAgent, TransferToQueue),
        'give either {"agent_id": <id>} or {"to": "queue"}',
    )
    target = body.agent_id if isinstance(body, TransferToAgent) else None
    conversation = await do_transfer(request.app, request.match_info["id"], agent, target)
    return shaped(
        Transferred(
            id=conversation.id, status=conversation.status, agent=agent_ref(conversation.agent)
        )
    )


@routes.get("/api/agent/approvals")
async def approvals(request: web.Request) -> web.Response:
    supervisor = await current_supervisor(request)
    async with request.app[keys.DB].read() as db:
        entries = await pending_approvals(db, request.app[keys.RESOLUTIONS], supervisor.role)
    return shaped(Approvals(approvals=entries))


async def _decide(request: web.Request, approve: bool) -> web.Response:
    supervisor = await current_supervisor(request)
    resolution_id = _int_id(request, "approval request")
    body = await read_body(request, DecisionIn) if request.can_read_body else DecisionIn()
    resolution = await do_decide_resolution(
        request.app, resolution_id, supervisor, approve=approve, reason=body.reason
    )
    return shaped(ResolutionOut(resolution=resolution_shape(resolution)))


@routes.post("/api/agent/approvals/{id}/approve")
async def approve(request: web.Request) -> web.Response:
    return await _decide(request, approve=True)


@routes.post("/api/agent/approvals/{id}/reject")
async def reject(request: web.Request) -> web.Response:
    return await _decide(request, approve=False)


async def _decide_batch(request: web.Request, approve: bool) -> web.Response:
    supervisor = await current_supervisor(request)
    batch_id = request.match_info["batch"]
    body = await read_body(request, DecisionIn) if request.can_read_body else DecisionIn()
    decided = await do_decide_batch(
        request.app, batch_id, supervisor, approve=approve, reason=body.reason
    )
    return shaped(
        BatchDecided(batch_id=batch_id, resolutions=[resolution_shape(r) for r in decided])
    )


@routes.post("/api/agent/approvals/batches/{batch}/approve")
async def approve_batch(request: web.Request) -> web.Response:
    return await _decide_batch(request, approve=True)


@routes.post("/api/agent/approvals/batches/{batch}/reject")
async def reject_batch(request: web.Request) -> web.Response:
    return await _decide_batch(request, approve=False)


@routes.get("/api/agent/audit")
async def audit(request: web.Request) -> web.Response:
    await current_supervisor(request)
    conversation_id = request.query.get("conversation_id") or None
    limit = min(int_query(request, "limit", 200), 1000)
    async with request.app[keys.DB].read() as db:
        entries = await audit_entries(db, conversation_id=conversation_id, limit=limit)
    return shaped(Audit(entries=[audit_shape(e) for e in entries]))
