"""Which sites may talk to the gateway from a browser."""

from __future__ import annotations

from aiohttp import web

from handoff import keys
from handoff.http_errors import json_error


def origin_allowed(request: web.Request) -> bool:
    allowed = request.app[keys.SETTINGS].allowed_origins
    origin = request.headers.get("Origin")
    if origin is None or not allowed:
        return True
    own = (f"http://{request.host}", f"https://{request.host}")
    return origin in own or origin in allowed


def check_origin(request: web.Request) -> None:
    if not origin_allowed(request):
        raise json_error(web.HTTPForbidden, "origin not allowed")
