"""The one shape of every 4xx and 5xx answer: ``{"error": {"status", "message", ...}}``.

It sits at the package root, beside keys and settings, because every room raises it: a
view for a malformed body, an action for a conversation that is gone, access for a
missing session. It imports nothing of the gateway's own.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_error(
    cls: type[web.HTTPException], message: str, **extra: Any
) -> web.HTTPException:
    body: dict[str, Any] = {"error": {"status": cls.status_code, "message": message, **extra}}
    if cls is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(
            max_size=0, actual_size=0, text=json.dumps(body), content_type="application/json"
        )
    return cls(text=json.dumps(body), content_type="application/json")
