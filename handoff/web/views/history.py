"""The console's History: every conversation, filtered and searched, a page at a time.

GET /api/agent/conversations?status=&reason=&agent=&from=&to=&q=&limit=&before=
(one conversation in full: GET /api/agent/conversations/{id}, in views/agent.py).
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.access.auth import require_agent
from handoff.http_errors import json_error
from handoff.conversations.history import HISTORY_STATES, HistoryQuery, history_page
from handoff.storage.models import HANDOFF_REASONS, Agent, Conversation
from handoff.web.answers import shaped
from handoff.web.validation import MAX_INT

routes = web.RouteTableDef()

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_SEARCH_CHARS = 200
DATE_HINT = "a date (2026-12-03) or a date and time with its offset (2026-12-03T08:00:00+01:00)"


def _choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name, "").strip()
    if not value:
        return None
    if value not in choices:
        raise json_error(
            web.HTTPBadRequest, f"'{name}' must be one of: {', '.join(choices)}", field=name
        )
    return value


def _moment(request: web.Request, name: str, *, end: bool) -> dt.datetime | None:
    """A date means the whole day in UTC: from its start, or (end) to the next day's."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
            return start + dt.timedelta(days=1) if end else start
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise json_error(
            web.HTTPBadRequest, f"'{name}' must be {DATE_HINT}", field=name
        ) from None
    if moment.tzinfo is None:
        raise json_error(
            web.HTTPBadRequest,
            f"'{name}' needs its time zone offset, e.g. {raw}+00:00 or {raw}Z",
            field=name,
        )
    return moment.astimezone(dt.timezone.utc)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise json_error(
            web.HTTPBadRequest, f"'limit' must be a whole number from 1 to {MAX_LIMIT}",
            field="limit",
        )
    return int(raw)


@routes.get("/api/agent/conversations")
async def history(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as db:
        await require_agent(request, db)
        return shaped(await history_page(db, await _history_query(request, db)))


async def _history_query(request: web.Request, db: AsyncSession) -> HistoryQuery:
    state = _choice(request, "status", HISTORY_STATES)
    reason = _choice(request, "reason", HANDOFF_REASONS)
    since = _moment(request, "from", end=False)
    until = _moment(request, "to", end=True)
    if since is not None and until is not None and since >= until:
        raise json_error(web.HTTPBadRequest, "'from' must be before 'to'", field="from")
    text = request.query.get("q", "").strip() or None
    if text is not None and len(text) > MAX_SEARCH_CHARS:
        raise json_error(
            web.HTTPBadRequest, f"'q' is longer than {MAX_SEARCH_CHARS} characters", field="q"
        )
    if text is not None and "\x00" in text:
        raise json_error(web.HTTPBadRequest, "'q' must not contain NUL", field="q")
    limit = _limit(request)
    raw_agent = request.query.get("agent", "").strip()
    digits = raw_agent.isascii() and raw_agent.isdigit()
    if raw_agent and not (digits and int(raw_agent) <= MAX_INT):
        raise json_error(web.HTTPBadRequest, "'agent' must be an agent's id", field="agent")
    agent_id = int(raw_agent) if raw_agent else None
    if agent_id is not None and await db.get(Agent, agent_id) is None:
        raise json_error(
            web.HTTPBadRequest, f"there is no agent with id {agent_id}", field="agent"
        )
    before = None
    before_id = request.query.get("before", "").strip()
    if before_id:
        after = await db.get(Conversation, before_id[:64])
        if after is None:
            raise json_error(
                web.HTTPBadRequest,
                "'before' must be the id of a conversation (the 'next' of the page before)",
                field="before",
            )
        before = (after.created_at, after.id)
    return HistoryQuery(
        state=state, reason=reason, agent_id=agent_id, since=since, until=until,
        text=text, limit=limit, before=before,
    )
