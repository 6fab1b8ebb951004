"""Privacy for supervisors: the retention policy, a customer's conversations found by
what names them, and their audited erasure.

GET /api/agent/privacy: the retention period and what was redacted.
GET /api/agent/privacy/conversations?email=&phone=&booking_reference=&customer_id=: those
that name the customer (handoff.conversations.erasure.find).
POST /api/agent/privacy/erasures: erase the chosen ones; Rasa forgets them too, and the
learned training data is written again without their questions.
"""

from __future__ import annotations

from aiohttp import web

from handoff import keys
from handoff.access.auth import current_supervisor
from handoff.conversations.erasure import ErasureRefused, Who, do_erase, find
from handoff.conversations.retention import redaction_counts
from handoff.http_errors import json_error
from handoff.insights.learning import rewrite_learned
from handoff.live.serializers import iso
from handoff.shapes.privacy import (
    CustomerConversation,
    CustomerConversations,
    Erased,
    ErasureIn,
    RetentionPolicy,
)
from handoff.web.answers import shaped
from handoff.web.validation import Refusal, read_body

routes = web.RouteTableDef()

MAX_QUERY_CHARS = 320
_IDS_REFUSAL = Refusal("'conversation_ids' must be a list of 1 to 100 conversation ids")
# Fewer digits than this would match strangers' numbers.
MIN_PHONE_DIGITS = 6


def _who(request: web.Request) -> Who:
    given = {}
    for name in ("email", "phone", "booking_reference", "customer_id"):
        value = request.query.get(name, "").strip()
        if len(value) > MAX_QUERY_CHARS:
            raise json_error(web.HTTPBadRequest, f"'{name}' is longer than {MAX_QUERY_CHARS} "
                             "characters", field=name)
        if value:
            given[name] = value
    if not given:
        raise json_error(web.HTTPBadRequest, "give the customer's email, phone, "
                         "booking_reference or customer_id", field="email")
    if "email" in given and "@" not in given["email"]:
        raise json_error(web.HTTPBadRequest, "'email' must be an email address", field="email")
    if "phone" in given and sum(ch.isdigit() for ch in given["phone"]) < MIN_PHONE_DIGITS:
        raise json_error(web.HTTPBadRequest, f"'phone' must have at least {MIN_PHONE_DIGITS} "
                         "digits", field="phone")
    if "booking_reference" in given and len("".join(given["booking_reference"].split())) < 5:
        raise json_error(web.HTTPBadRequest, "'booking_reference' must have at least 5 "
                         "characters", field="booking_reference")
    return Who(**given)


@routes.get("/api/agent/privacy")
async def policy(request: web.Request) -> web.Response:
    await current_supervisor(request)
    async with request.app[keys.DB].read() as db:
        redacted, pending = await redaction_counts(db)
    return shaped(RetentionPolicy(
        retention_days=request.app[keys.SETTINGS].retention_days,
        redacted=redacted, pending_assistant=pending,
    ))


@routes.get("/api/agent/privacy/conversations")
async def customer_conversations(request: web.Request) -> web.Response:
    await current_supervisor(request)
    who = _who(request)
    async with request.app[keys.DB].read() as db:
        found = await find(db, who)
    return shaped(CustomerConversations(conversations=[
        CustomerConversation(
            id=f.conversation.id, status=f.conversation.status,
            created_at=iso(f.conversation.created_at), updated_at=iso(f.conversation.updated_at),
            redacted_at=iso(f.conversation.redacted_at), redaction=f.conversation.redaction,
            matched=f.matched,
        )
        for f in found
    ]))


@routes.post("/api/agent/privacy/erasures")
async def erasure(request: web.Request) -> web.Response:
    supervisor = await current_supervisor(request)
    body = await read_body(request, ErasureIn, conversation_ids=_IDS_REFUSAL)
    try:
        done = await do_erase(request.app, body.conversation_ids, supervisor, body.reason)
    except ErasureRefused as exc:
        status = {404: web.HTTPNotFound, 409: web.HTTPConflict}[exc.status]
        raise json_error(status, str(exc), field=exc.field) from None
    return shaped(Erased(
        erased=done.redacted.conversations, already_erased=done.already,
        messages_deleted=done.redacted.messages, notes_deleted=done.redacted.notes,
        assistant_forgotten=done.assistant_forgotten,
        # Their questions leave the learned training data.
        training_examples=await rewrite_learned(request.app),
    ))
