"""Insights for support leads (supervisors only).

GET /api/agent/insights?days=N or ?from=&to=: the report. A period is whole UTC days: the
last `days` up to today (30 unless given), or `from` to `to` inclusive (ISO dates; either
alone spans 30 days from or to it).
POST /api/agent/insights/topics/{id}/decision: what an unanswered topic is (the learning
loop, handoff.insights.learning); GET /api/agent/insights/training-data: what it taught.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from handoff import keys
from handoff.access.auth import current_supervisor
from handoff.http_errors import json_error
from handoff.insights.learning import (
    DecisionError,
    as_training_data,
    decide,
    learned_examples,
    rewrite_learned,
)
from handoff.insights.report import Span, insights
from handoff.live.serializers import agent_ref, iso
from handoff.shapes.insights import TopicDecided, TopicDecisionIn
from handoff.web.answers import shaped
from handoff.web.validation import Refusal, read_body

routes = web.RouteTableDef()

DEFAULT_DAYS = 30
# Two years: a year's report beside the year before.
MAX_DAYS = 731


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _date(request: web.Request, name: str) -> dt.date | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise json_error(
            web.HTTPBadRequest, f"'{name}' must be a date, e.g. 2026-12-03", field=name
        ) from None


def period_of(request: web.Request) -> Span:
    first, last = _date(request, "from"), _date(request, "to")
    raw_days = request.query.get("days", "").strip()
    if raw_days and (first or last):
        raise json_error(
            web.HTTPBadRequest, "give either 'days' or 'from' and 'to', not both", field="days"
        )
    if raw_days:
        if not (raw_days.isascii() and raw_days.isdigit()) or not 1 <= int(raw_days) <= MAX_DAYS:
            raise json_error(
                web.HTTPBadRequest, f"'days' must be a whole number from 1 to {MAX_DAYS}",
                field="days",
            )
    span = dt.timedelta(days=(int(raw_days) if raw_days else DEFAULT_DAYS) - 1)
    if first is None and last is None:
        last = _today()
    if first is None:
        first = last - span
    if last is None:
        last = first + span
    if first > last:
        raise json_error(web.HTTPBadRequest, "'from' must not be after 'to'", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise json_error(
            web.HTTPBadRequest, f"a period is at most {MAX_DAYS} days", field="to"
        )
    return Span(first, last)


@routes.get("/api/agent/insights")
async def insights_view(request: web.Request) -> web.Response:
    await current_supervisor(request)
    span = period_of(request)
    async with request.app[keys.DB].read() as db:
        report = await insights(db, span)
    return shaped(report)


@routes.post("/api/agent/insights/topics/{id}/decision")
async def topic_decision(request: web.Request) -> web.Response:
    supervisor = await current_supervisor(request)
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise json_error(web.HTTPNotFound, "topic not found")
    body = await read_body(request, TopicDecisionIn, decision=Refusal(
        "'decision' must be one of: assign, new_topic, ignore, reopen"
    ))
    async with request.app[keys.DB].write() as db:
        try:
            topic = await decide(db, int(raw), supervisor, body.decision, body.intent, body.name)
        except DecisionError as exc:
            raise json_error(web.HTTPBadRequest, str(exc), field=exc.field) from None
        if topic is None:
            raise json_error(web.HTTPNotFound, "topic not found")
        decided = TopicDecided(
            topic_id=topic.id, decision=topic.decision, intent=topic.intent, name=topic.name,
            decided_by=agent_ref(supervisor) if topic.decision else None, decided_at=iso(topic.decided_at),
            training_examples=0,
        )
    decided.training_examples = await rewrite_learned(request.app)
    return shaped(decided)


@routes.get("/api/agent/insights/training-data")
async def training_data_view(request: web.Request) -> web.Response:
    await current_supervisor(request)
    async with request.app[keys.DB].read() as db:
        examples = await learned_examples(db)
    return web.Response(
        text=as_training_data(examples), content_type="application/yaml", charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="learned_nlu.yml"'},
    )
