"""The one door to the company's booking and payment systems.

An empowered action that is within the agent's authority (or that a supervisor approved)
is carried out through a ``Fulfilment``: one async method that takes a ``Commitment``
and answers with the other system's reference, or raises ``FulfilmentFailed``.
``Commitment.resolution_id`` is unique per commitment: an implementation uses it as an
idempotency key, so asking twice never refunds twice.

The default, ``RecordOnly``, calls nothing: it records the commitment (in memory and in
the log) and hands back a reference; the resolutions table and the audit log are the
lasting record a back office works from. A real integration replaces it through
``create_app``'s state: ``app[keys.FULFILMENT] = MyBookingSystem(...)`` before the app
starts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from aiohttp import web

from handoff import keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Commitment:
    """What the company has promised the customer, as the other system needs it."""

    resolution_id: int
    action: str
    amount: Decimal | None
    currency: str | None
    conversation_id: str
    # From the handoff's context, when the bot picked it up.
    booking_reference: str | None
    flight_number: str | None
    requested_by: str
    approved_by: str | None
    # What the agent entered for the action's declared fields, e.g. {"flight": "BA119",
    # "departure": "2026-12-04T09:40"} (the departure's local time).
    fields: Mapping[str, str] = field(default_factory=dict)


class FulfilmentFailed(Exception):
    """The other system refused or could not be reached; the message is for the agent."""


class Fulfilment(Protocol):
    async def carry_out(self, commitment: Commitment) -> str:
        """Carries the commitment out and answers with the other system's reference."""
        ...


class RecordOnly:
    """Records commitments for people to carry out; references look like BTN-000042."""

    def __init__(self) -> None:
        self.commitments: list[tuple[str, Commitment]] = []

    async def carry_out(self, commitment: Commitment) -> str:
        reference = f"BTN-{commitment.resolution_id:06d}"
        self.commitments.append((reference, commitment))
        log.info("commitment %s recorded: %s", reference, commitment)
        return reference


async def setup_fulfilment(app: web.Application) -> AsyncIterator[None]:
    if keys.FULFILMENT not in app:
        app[keys.FULFILMENT] = RecordOnly()
    yield
