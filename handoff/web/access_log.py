"""The gateway's access log, with secrets and customers' details taken out of the URLs it
writes.

No client of ours puts a secret in a URL, but an old or a hand-made one may
(``?token=...``), and whoever reads the log could then act as that customer or agent.
Searches do put what names a customer there (History's ``q``, the privacy search's
``email``, ``phone``, ``booking_reference``, ``customer_id``): the log would keep it past
its erasure.
"""

from __future__ import annotations

import logging
import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

REDACTED = "[redacted]"
# Query parameters whose values are secrets by their name (as Rails' filter_parameters).
SECRET_NAME = re.compile(
    r"token|ticket|secret|passw|auth|session|key|sig|credential|otp|code"
    r"|email|phone|booking|customer|^q$", re.I
)
# Anything shaped like one of our tokens (secrets.token_urlsafe(32): 43 characters),
# wherever it is; conversation ids (32 hex digits) are shorter.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{40,}")


def _redact_query(query: str) -> str:
    parts = []
    for part in query.split("&"):
        name, equals, _value = part.partition("=")
        parts.append(f"{name}={REDACTED}" if equals and SECRET_NAME.search(name) else part)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """A URL or a path with a query, as it may be written down."""
    base, question, rest = url.partition("?")
    if question:
        query, hash_, fragment = rest.partition("#")
        url = f"{base}?{_redact_query(query)}{hash_}{fragment}"
    return TOKEN_SHAPE.sub(REDACTED, url)


class AccessLog(AbstractAccessLogger):
    """aiohttp's default line (Apache's combined format, less the time, which the log
    handler adds) with the request's URL and its Referer redacted."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        version = request.version
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.6f "%s" "%s"',
            request.remote or "-",
            request.method,
            redact_url(request.path_qs),
            version.major,
            version.minor,
            response.status,
            response.body_length,
            time,
            redact_url(request.headers.get("Referer", "-")),
            request.headers.get("User-Agent", "-"),
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
