"""Answers encoded through their shapes (handoff/shapes/http.py).

A handler that builds its answer as the Struct cannot drop, add or misname a field:
the Struct refuses it there, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from aiohttp import web

from handoff.shapes.http import Error, ErrorDetail


def shaped(
    body: msgspec.Struct, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body), status=status, headers=headers,
        content_type="application/json", charset="utf-8",
    )


def error_answer(
    status: int, message: str, *, headers: Mapping[str, str] | None = None,
    retry_after: int | msgspec.UnsetType = msgspec.UNSET,
) -> web.Response:
    """An error answered at the edge (a middleware), not raised by json_error."""
    detail = ErrorDetail(status=status, message=message, retry_after=retry_after)
    return shaped(Error(error=detail), status=status, headers=headers)
