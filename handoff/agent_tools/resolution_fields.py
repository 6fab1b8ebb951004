"""The details an empowered action takes besides its amount (declared per action in the
resolution actions file as ``"fields"``), checked as the agent enters them and worded for
the customer.

Types: ``flight_number`` (e.g. BA119; stored in capitals without spaces) and ``datetime``
(the departure's local time, e.g. ``2026-12-04T09:40``; told as "4 December at 09:40").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from handoff.shapes import http

FIELD_TYPES = ("flight_number", "datetime")
# IATA: a two-character airline designator (not two digits), 1-4 digits, an optional suffix.
FLIGHT_NUMBER = re.compile(r"(?:[A-Z]{2}|[A-Z][0-9]|[0-9][A-Z])[0-9]{1,4}[A-Z]?")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
# A departure more than a year ahead is a typo, and within a year "4 December" is unambiguous.
LATEST = dt.timedelta(days=365)


class FieldError(ValueError):
    """A value the field does not take; the message is for the agent."""


@dataclass(frozen=True)
class ActionField:
    id: str
    label: str
    type: str

    def shape(self) -> http.ResolutionField:
        return http.ResolutionField(id=self.id, label=self.label, type=self.type)

    def parse(self, raw: Any, today: dt.date | None = None) -> str:
        """The value as stored, or FieldError."""
        name = f"'fields.{self.id}' ({self.label})"
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise FieldError(f"{name} is required")
        if not isinstance(raw, str) or len(raw) > 64:
            raise FieldError(f"{name} must be a short text")
        if self.type == "flight_number":
            value = re.sub(r"[\s-]", "", raw).upper()
            if not FLIGHT_NUMBER.fullmatch(value):
                raise FieldError(f"{name} must be a flight number such as BA119")
            return value
        return _departure(raw.strip(), name, today or dt.datetime.now(dt.timezone.utc).date())

    def for_customer(self, stored: str) -> str:
        if self.type == "datetime":
            when = dt.datetime.fromisoformat(stored)
            return f"{when.day} {MONTHS[when.month - 1]} at {when:%H:%M}"
        return stored


def _departure(raw: str, name: str, today: dt.date) -> str:
    example = "as YYYY-MM-DDTHH:MM"
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(f"{name} must be a date and time, {example}") from None
    if when.tzinfo is not None:
        raise FieldError(f"{name} is the local time of departure, without a time zone, {example}")
    # Yesterday too: the airport's local date may be behind the gateway's.
    if not today - dt.timedelta(days=1) <= when.date() <= today + LATEST:
        raise FieldError(f"{name} must be from today to a year ahead")
    return when.isoformat(timespec="minutes")
