"""JSON error answers, one shape for every 4xx and 5xx: {"error": {"status", "message"}}."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


def json_error(
    cls: type[web.HTTPException], message: str, **extra: Any
) -> web.HTTPException:
    body: dict[str, Any] = {"error": {"status": cls.status_code, "message": message, **extra}}
    if cls is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(
            max_size=0, actual_size=0, text=json.dumps(body), content_type="application/json"
        )
    return cls(text=json.dumps(body), content_type="application/json")


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        # aiohttp's own 404/405/413 come as text; answer JSON under /api.
        if request.path.startswith("/api/"):
            headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
            body = {"error": {"status": exc.status, "message": exc.reason}}
            return web.json_response(body, status=exc.status, headers=headers)
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            body = {"error": {"status": 500, "message": "internal error"}}
            return web.json_response(body, status=500)
        raise
