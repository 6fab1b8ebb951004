"""Booking references and flight numbers as stored and compared: upper case without
spaces, as the handoff context keeps them (handoff.conversations.context)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp import web

from handoff.http_errors import json_error

# An airline's two-character code and a number, with an optional suffix: BA119, U21234A.
FLIGHT_NUMBER = re.compile(r"^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$")


def compact_code(value: str) -> str:
    return "".join(value.split()).upper()


def booking_codes(references: Iterable[str]) -> list[str]:
    """The references compacted, each once, in the order given."""
    return list(dict.fromkeys(compact_code(reference) for reference in references))


def flight_code(value: str) -> str:
    """The flight number compacted; 400 unless it reads as one (e.g. BA119)."""
    code = compact_code(value)
    if not FLIGHT_NUMBER.match(code):
        raise json_error(
            web.HTTPBadRequest,
            "'flight_number' must be a flight number such as BA119",
            field="flight_number",
        )
    return code
