"""Answers encoded through their shapes (handoff/shapes/http.py).

A handler that builds its answer as the Struct cannot drop, add or misname a field:
the Struct refuses it there, before anything is sent.
"""

from __future__ import annotations

import msgspec
from aiohttp import web


def shaped(body: msgspec.Struct, *, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body), status=status, content_type="application/json",
        charset="utf-8",
    )
