"""Health, readiness, metrics and the API's description."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

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
    # With several Rasa processes, one up is enough: the others' turns go to it.
    ready = checks["rasa"] and checks["actions"]
    return shaped(
        Readiness(status="ready" if ready else "unavailable", checks=checks),
        status=200 if ready else 503,
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus' text format; open like /healthz: keep it off the public proxy."""
    return web.Response(
        body=request.app[keys.METRICS].text(),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
