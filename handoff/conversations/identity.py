"""Customers the embedding site vouched for: an identity it signed with the secret it
shares with the gateway (BATON_IDENTITY_SECRET), as Intercom's identity verification
does, so that the agent can trust the name and bookings without asking.

The signed text is the identity as JSON with sorted keys and no spaces, of the fields
the site sent and only those. Two spellings of it are taken: non-ASCII characters as
they are, in UTF-8 (what JavaScript's JSON.stringify writes), and escaped as \\uXXXX
(what Python's json.dumps writes by default). docs/contract.md has worked examples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from msgspec import UNSET

from handoff.access.signatures import signed_by
from handoff.http_errors import json_error
from handoff.operations.codes import booking_codes
from handoff.shapes.http import Identity

FIELDS = ("customer_id", "name", "email", "bookings")
NOT_CONFIGURED = "identity verification is not configured: set BATON_IDENTITY_SECRET"


@dataclass(frozen=True)
class VerifiedIdentity:
    customer_id: str
    name: str | None
    email: str | None
    bookings: list[str]  # upper case, without spaces


def signed_texts(identity: Identity) -> list[bytes]:
    """The identity's canonical JSON, in the two spellings a signature may be over."""
    given = {name: getattr(identity, name) for name in FIELDS}
    given = {name: value for name, value in given.items() if value is not UNSET}
    return [
        json.dumps(given, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only)
        .encode("utf-8", "surrogatepass")
        for ascii_only in (False, True)
    ]


def verified_identity(
    secret: str, identity: Identity | None, signature: str | None
) -> VerifiedIdentity | None:
    """Who the customer is, if the site said so and signed it; None: anonymous.

    401 for an identity whose signature is missing or wrong, or that cannot be checked
    (no secret set): a conversation is never opened with an identity nobody verified.
    """
    if identity is None:
        if signature is not None:
            raise json_error(
                web.HTTPBadRequest, "'identity_signature' given without 'identity'",
                field="identity_signature",
            )
        return None
    if not secret:
        raise json_error(web.HTTPUnauthorized, NOT_CONFIGURED)
    if signature is None:
        raise json_error(web.HTTPUnauthorized, "'identity_signature' is required with 'identity'")
    # Both compared, whichever matches: the time taken says nothing of which.
    matches = [signed_by(secret, text, signature) for text in signed_texts(identity)]
    if not any(matches):
        raise json_error(
            web.HTTPUnauthorized, "'identity_signature' does not match the identity"
        )
    return VerifiedIdentity(
        customer_id=_text("customer_id", identity.customer_id) or "",
        name=_text("name", identity.name),
        email=_text("email", identity.email),
        bookings=booking_codes(identity.bookings or ()),
    )


def _text(name: str, value: Any) -> str | None:
    """A signed text as stored: trimmed, blank as none; NUL or a lone surrogate (which
    no database column takes) is a 400 even when signed."""
    if value is UNSET or value is None:
        return None
    if "\x00" in value:
        raise json_error(web.HTTPBadRequest, f"'identity.{name}' must not contain NUL",
                         field="identity")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise json_error(web.HTTPBadRequest, f"'identity.{name}' is not valid Unicode",
                         field="identity") from None
    return value.strip() or None
