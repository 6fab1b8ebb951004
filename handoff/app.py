"""The application factory: settings, database, Rasa client, sockets, routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from handoff import keys
from handoff.conversations.agent_side import do_agent_gone
from handoff.conversations.annotations import setup_annotations
from handoff.access.auth import TokenHashes
from handoff.storage.db import setup_database
from handoff.storage.shared import setup_shared
from handoff.web.answers import error_answer
from handoff.web.errors import error_middleware
from handoff.agent_tools.fulfilment import setup_fulfilment
from handoff.storage.holders import Holders
from handoff.routing.presence import presence
from handoff.web.ratelimit import rate_limit_middleware, setup_limits
from handoff.assistant.misses import setup_misses
from handoff.assistant.pool import setup_rasa
from handoff.agent_tools.resolution_actions import setup_catalogue
from handoff.metrics import Metrics
from handoff.settings import Settings
from handoff.live.agents_elsewhere import setup_agents_elsewhere
from handoff.live.publisher import setup_sockets
from handoff.live.sockets import close_all_sockets
from handoff.routing.turns import setup_turns
from handoff.storage.writer import setup_writer
from handoff.conversations.retention import setup_retention
from handoff.web.views import (
    agent, console, customer, disruptions, history, insights, ops, pages, privacy,
)
from handoff.web.views.origins import origin_allowed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Lets the widget, embedded on an allowed site, call the customer API."""
    widget_api = request.path.startswith("/api/conversations")
    origin = request.headers.get("Origin")
    if widget_api and request.method == "OPTIONS" and origin:
        if not origin_allowed(request):
            return error_answer(403, "origin not allowed")
        response: web.StreamResponse = web.Response(status=204)
    else:
        response = await handler(request)
    if widget_api and origin and origin_allowed(request) and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
    return response


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path in ("/", "/agent"):
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


async def setup_holders(app: web.Application) -> AsyncIterator[None]:
    """Who has each conversation, from memory: spares each message a read."""
    app[keys.HOLDERS] = Holders(app[keys.DB], shared=app[keys.REDIS])
    yield


def setup_routes(app: web.Application) -> None:
    for module in (
        customer, agent, console, disruptions, history, insights, privacy, ops, pages,
    ):
        app.router.add_routes(module.routes)


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    app = web.Application(
        middlewares=[security_headers, cors_middleware, error_middleware, rate_limit_middleware],
        client_max_size=64 * 1024,
    )
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = Metrics()
    app[keys.WAITING_BOT_TURNS] = {}
    app[keys.LEARNED_WRITES] = asyncio.Lock()
    app[keys.FIRST_REPLIES] = set()
    app.cleanup_ctx.extend(
        [
            setup_database,
            setup_shared,
            setup_limits,
            setup_holders,
            setup_writer,
            setup_rasa,
            setup_misses,
            setup_sockets,
            setup_agents_elsewhere,
            setup_turns,
            presence(on_expired=do_agent_gone),
            setup_annotations,
            setup_retention,
        ]
    )
    app.cleanup_ctx.extend([setup_catalogue, setup_fulfilment])
    app[keys.TOKEN_HASHES] = TokenHashes()
    app.on_shutdown.append(close_all_sockets)
    setup_routes(app)
    return app
