"""Who is on a socket: a token in the upgrade's Authorization header or in the first frame.

Never in the URL: a query string ends up in access logs, proxies' logs and browser
history. Browsers cannot set headers on a WebSocket, so they send
``{"type": "auth", "token": ...}`` as their first frame (as Socket.IO and Mattermost do);
other clients may send ``Authorization: Bearer ...`` with the upgrade instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy.exc import DBAPIError

from handoff.http_errors import json_error
from handoff.shapes.events import SocketAuth
from handoff.web.errors import STORAGE_UNAVAILABLE, error_of

log = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_FRAME = '{"type": "auth", "token": ...}'
# Close codes: 4000 + the HTTP status the same refusal gets before an upgrade.
AUTH_REFUSED = 4401
NOT_FOUND = 4404
AUTH_TIMEOUT = 4408


def refusal_code(exc: web.HTTPException) -> int:
    return 4000 + exc.status if 400 <= exc.status < 500 else WSCloseCode.INTERNAL_ERROR


def _reason(text: str) -> bytes:
    # A close frame's reason has at most 123 bytes.
    return text.encode()[:123]


def websocket_or_400(request: web.Request, ws: web.WebSocketResponse) -> None:
    """A plain GET of a socket's URL gets an answer in words, not aiohttp's bare 400."""
    if not ws.can_prepare(request).ok:
        raise json_error(
            web.HTTPBadRequest,
            f"this is a WebSocket: connect with one and send {AUTH_FRAME} first",
        )


async def authenticate_first_frame(
    ws: web.WebSocketResponse,
    seconds: float,
    check: Callable[[str], Awaitable[T]],
    frames: Any,
) -> T | None:
    """What ``check`` makes of the token in the socket's first frame, or None. ``frames``
    is the union of the frames the socket takes; the first must be its SocketAuth.

    None means the socket is closed already: no frame in time (4408), not an auth frame
    (4401), or ``check`` refused the token (4000 + its HTTP status, with its message).
    """
    try:
        frame = await ws.receive(timeout=seconds)
    except asyncio.TimeoutError:
        await ws.close(code=AUTH_TIMEOUT, message=_reason(f"no {AUTH_FRAME} within {seconds:g} s"))
        return None
    if frame.type != WSMsgType.TEXT:
        if not ws.closed:
            await ws.close(code=AUTH_REFUSED, message=_reason(f"the first frame must be {AUTH_FRAME}"))
        return None
    token = _token_of(frame.data, frames)
    if token is None:
        await ws.close(code=AUTH_REFUSED, message=_reason(f"the first frame must be {AUTH_FRAME}"))
        return None
    try:
        return await check(token)
    except web.HTTPException as exc:
        await ws.close(code=refusal_code(exc), message=_reason(str(error_of(exc)["message"])))
    except (DBAPIError, OSError) as exc:
        log.warning("storage unavailable while authenticating a socket: %s", exc)
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=_reason(STORAGE_UNAVAILABLE))
    return None


def _token_of(data: str, frames: Any) -> str | None:
    try:
        frame = msgspec.json.decode(data, type=frames)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None
    return frame.token if isinstance(frame, SocketAuth) else None
