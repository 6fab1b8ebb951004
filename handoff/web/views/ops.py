"""Health, readiness and the API's description."""

from __future__ import annotations

from aiohttp import web

from handoff import keys
from handoff.shapes.http import Health, Readiness
from handoff.web.answers import shaped
from handoff.web.openapi import openapi_document

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return shaped(Health(status="ok"))


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    checks = await request.app[keys.RASA].ready()
    ready = all(checks.values())
    return shaped(
        Readiness(status="ready" if ready else "unavailable", checks=checks),
        status=200 if ready else 503,
    )


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
