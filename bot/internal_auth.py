"""The shared secret of Baton's internal hops: gateway -> baton channel -> action server.

The launcher (scripts/stack.py) hands every process the same ``BATON_INTERNAL_SECRET``
(a fresh random one per run unless it is set); each hop carries it as
``Authorization: Bearer <secret>``. Without a secret nothing is authorized, so a process
started without one refuses internal calls instead of accepting anybody's.
"""

from __future__ import annotations

import hmac
import os
from typing import Mapping, Optional, Text

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

SECRET_ENV = "BATON_INTERNAL_SECRET"


def internal_secret(environ: Optional[Mapping[Text, Text]] = None) -> Optional[Text]:
    """The configured secret, or None when it is unset or blank."""
    env = os.environ if environ is None else environ
    return (env.get(SECRET_ENV) or "").strip() or None


def authorized(authorization: Optional[Text], secret: Optional[Text]) -> bool:
    """Whether an ``Authorization`` header carries the secret (constant-time compare)."""
    if not secret or not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())


def refusal(request: Request, secret: Optional[Text]) -> Optional[HTTPResponse]:
    """401 for a Sanic request (Rasa's channel, the action server) without the secret."""
    if authorized(request.headers.get("Authorization"), secret):
        return None
    return response.json({"error": "unauthorized"}, status=401)
