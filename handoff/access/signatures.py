"""Requests another system signs with a secret we share: HMAC-SHA256, compared in
constant time, so a caller learns nothing from how long a wrong guess took."""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from handoff.http_errors import json_error

SIGNATURE_HEADER = "X-Baton-Signature"
TIMESTAMP_HEADER = "X-Baton-Timestamp"
SIGNATURE_PREFIX = "sha256="
# A signed request replayed later than this, or dated this far ahead, is refused.
MAX_SKEW_SECONDS = 5 * 60


def signature_of(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_by(secret: str, message: bytes, given: str) -> bool:
    """Whether ``given`` (hex, either case) is ``message``'s signature with ``secret``."""
    return hmac.compare_digest(signature_of(secret, message), given.strip().lower())


def _refused(message: str) -> web.HTTPException:
    return json_error(web.HTTPUnauthorized, message)


def check_feed_signature(
    secret: str, signature: str | None, timestamp: str | None, body: bytes, now: float
) -> None:
    """401 unless ``signature`` is ``sha256=`` and the HMAC of ``timestamp + "." + body``,
    and ``timestamp`` (Unix seconds) is within MAX_SKEW_SECONDS of ``now``. The timestamp
    is signed, so an old request cannot be replayed with a fresh one."""
    if not signature:
        raise _refused(f"{SIGNATURE_HEADER} is required")
    if not signature.startswith(SIGNATURE_PREFIX):
        raise _refused(f"{SIGNATURE_HEADER} must be {SIGNATURE_PREFIX}<hex>")
    if not timestamp:
        raise _refused(f"{TIMESTAMP_HEADER} is required")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise _refused(f"{TIMESTAMP_HEADER} must be Unix seconds")
    if not signed_by(secret, timestamp.encode() + b"." + body, signature[len(SIGNATURE_PREFIX):]):
        raise _refused(f"{SIGNATURE_HEADER} does not match the body")
    age = now - int(timestamp)
    if age > MAX_SKEW_SECONDS:
        raise _refused(f"{TIMESTAMP_HEADER} is more than 5 minutes old")
    if age < -MAX_SKEW_SECONDS:
        raise _refused(f"{TIMESTAMP_HEADER} is more than 5 minutes in the future")
