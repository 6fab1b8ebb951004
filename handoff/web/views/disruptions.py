"""The operations feed's disruptions: posted by the airline's systems, signed with
BATON_OPS_SECRET; listed for supervisors."""

from __future__ import annotations

from aiohttp import web

from handoff import keys
from handoff.access.auth import current_supervisor
from handoff.http_errors import json_error
from handoff.live.serializers import disruption_shape, listed_disruption
from handoff.operations.codes import flight_code
from handoff.operations.disruptions import active_disruptions, do_record_disruption, listed_since
from handoff.shapes.http import ActiveDisruptions, DisruptionIn, DisruptionRecorded
from handoff.storage.models import utcnow
from handoff.web.answers import shaped
from handoff.web.signed_body import read_signed_body
from handoff.web.validation import Refusal, Text

routes = web.RouteTableDef()

NOT_CONFIGURED = "the operations feed is not configured: set BATON_OPS_SECRET"


@routes.post("/api/ops/disruptions")
async def record_disruption(request: web.Request) -> web.Response:
    secret = request.app[keys.SETTINGS].ops_secret
    if not secret:
        raise json_error(web.HTTPServiceUnavailable, NOT_CONFIGURED)
    news = await read_signed_body(
        request,
        secret,
        DisruptionIn,
        flight_number=Text(then=flight_code),
        date=Refusal("'date' must be a day as YYYY-MM-DD"),
        type=Refusal("'type' must be one of cancelled, delayed, diverted, schedule_change"),
        bookings=Refusal(
            "'bookings' must be a list of at most 1000 booking references "
            "(letters and digits, at most 16 characters each)"
        ),
    )
    recorded = await do_record_disruption(request.app, news)
    return shaped(
        DisruptionRecorded(disruption=disruption_shape(recorded.disruption, recorded.bookings)),
        status=201 if recorded.created else 200,
    )


@routes.get("/api/agent/disruptions")
async def list_disruptions(request: web.Request) -> web.Response:
    await current_supervisor(request)
    settings = request.app[keys.SETTINGS]
    since = listed_since(utcnow(), settings.tzinfo)
    async with request.app[keys.DB].read() as db:
        rows = await active_disruptions(db, since)
    return shaped(
        ActiveDisruptions(
            since=since,
            feed_configured=bool(settings.ops_secret),
            disruptions=[
                listed_disruption(r.disruption, r.bookings, r.told, r.waiting) for r in rows
            ],
        )
    )
