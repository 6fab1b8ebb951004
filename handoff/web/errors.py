"""Error answers at the edge: JSON for aiohttp's own errors, 503 while storage is down,
and a socket frame's error event (the shape itself is handoff.http_errors.json_error)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from handoff.live.events import error_event
from handoff.web.answers import error_answer

log = logging.getLogger(__name__)


STORAGE_UNAVAILABLE = "storage is unavailable for a moment; please retry"


def error_of(exc: web.HTTPException) -> dict[str, Any]:
    """The ``{"status", "message", ...}`` of an error answer, for a socket to send."""
    try:
        return dict(json.loads(exc.text or "")["error"])
    except (ValueError, KeyError, TypeError):
        return {"status": exc.status, "message": exc.reason}


async def socket_answer(
    client_message_id: Any, turn: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """A ``message`` frame answered as its POST would be: the ack that ``turn`` builds,
    or an ``error`` event carrying the HTTP answer's body (503 while storage is down).
    The answer names client_message_id as the client sent it, whatever its shape."""
    if not isinstance(client_message_id, str):
        client_message_id = None
    try:
        return await turn()
    except web.HTTPException as exc:
        return error_event(client_message_id, error_of(exc))
    except (DBAPIError, OSError) as exc:
        log.warning("storage unavailable for a socket message: %s", exc)
        return error_event(client_message_id, {"status": 503, "message": STORAGE_UNAVAILABLE})


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
            return error_answer(exc.status, exc.reason, headers=headers)
        raise
    except (DBAPIError, OSError) as exc:
        # The database is unreachable (restarting, failing over): say so and when to
        # retry. A retry with the same client_message_id is stored once and answered.
        log.warning("storage unavailable in %s %s: %s", request.method, request.path, exc)
        if request.path.startswith("/api/"):
            return error_answer(503, STORAGE_UNAVAILABLE, headers={"Retry-After": "2"})
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_answer(500, "internal error")
        raise
