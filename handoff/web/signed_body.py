"""Reading a body another system signed: the signature is checked on the raw bytes, as
they were signed, before the body is decoded by its shape (handoff.web.validation)."""

from __future__ import annotations

import time
from typing import TypeVar

import msgspec
from aiohttp import web

from handoff.access.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, check_feed_signature
from handoff.web.validation import Rule, decode

S = TypeVar("S", bound=msgspec.Struct)


async def read_signed_body(request: web.Request, secret: str, shape: type[S], /, **rules: Rule) -> S:
    """The body as ``shape``, once its X-Baton-Signature and X-Baton-Timestamp are right
    (401 otherwise, before anything is decoded)."""
    raw = await request.read()
    check_feed_signature(
        secret,
        request.headers.get(SIGNATURE_HEADER),
        request.headers.get(TIMESTAMP_HEADER),
        raw,
        time.time(),
    )
    return decode(raw, shape, **rules)
