"""A customer's disruption, known before they explain it: found by their bookings, told
to them in plain words, and carried into their handoff (docs/contract.md, "Known
disruptions").

The feed's types are the handoff's disruption types too (labels.json names them all):
cancelled, delayed, diverted, schedule_change.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.operations.codes import booking_codes
from handoff.operations.disruptions import listed_since
from handoff.storage.models import Disruption, DisruptionBooking, KnownDisruption, utcnow

# What a typed booking reference looks like: six letters and digits, a digit among them
# (ABC123, 7HK2QX), so that a six-letter word is never looked up.
TYPED_REFERENCE = re.compile(r"\b(?=[A-Za-z]*[0-9])[A-Za-z0-9]{6}\b")

# What happened, as the customer reads it after "flight BA117 on 4 December".
HAPPENED = {
    "cancelled": "was cancelled",
    "delayed": "is delayed",
    "diverted": "was diverted",
    "schedule_change": "has had a schedule change",
}
# The offer's buttons: the existing "talk to a person" intent, so that Rasa hands off
# (and pauses) as it does for any request for a person; the gateway then gives the
# handoff its disruption (handoff.conversations.customer_turns._hand_off).
TALK_TO_A_PERSON = {"title": "Talk to a person now", "payload": "/human_handoff"}
KEEP_GOING = {"title": "Keep going with the assistant", "payload": "/greet"}


def typed_references(text: str, entities: Iterable[dict[str, Any]] = ()) -> list[str]:
    """Booking references in a customer's message: what Rasa read as one, and what looks
    like one (TYPED_REFERENCE), compacted as stored."""
    read = [str(e.get("value")) for e in entities
            if e.get("entity") == "booking_reference" and e.get("value")]
    return booking_codes([*read, *TYPED_REFERENCE.findall(text)])


async def disruption_of_bookings(
    db: AsyncSession, references: list[str], zone: dt.tzinfo
) -> tuple[Disruption, str] | None:
    """The active disruption (a flight of yesterday on, in the company's zone) touching
    one of these bookings, the latest news first; with the booking it touches."""
    if not references:
        return None
    row = (
        await db.execute(
            select(Disruption, DisruptionBooking.booking_reference)
            .join(DisruptionBooking, DisruptionBooking.disruption_id == Disruption.id)
            .where(
                DisruptionBooking.booking_reference.in_(references),
                Disruption.date >= listed_since(utcnow(), zone),
            )
            .order_by(Disruption.updated_at.desc(), Disruption.id)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def known_of(db: AsyncSession, conversation_id: str) -> tuple[Disruption, str] | None:
    """The disruption the conversation's customer was told of, with its booking."""
    row = (
        await db.execute(
            select(Disruption, KnownDisruption.booking_reference)
            .join(KnownDisruption, KnownDisruption.disruption_id == Disruption.id)
            .where(KnownDisruption.conversation_id == conversation_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def day_in_words(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B')}"


def offer_text(disruption: Disruption) -> str:
    """What the customer reads before they say anything."""
    happened = HAPPENED.get(disruption.type, f"has been disrupted ({disruption.type})")
    details = f" {disruption.details.strip()}" if disruption.details else ""
    if details and not details.endswith((".", "!", "?")):
        details += "."
    return (
        f"I can see flight {disruption.flight_number} on {day_in_words(disruption.date)} "
        f"{happened}.{details} I'm sorry, I know this upsets your plans. A colleague can "
        "sort out your options with you now, or I can help you here."
    )


def known_disruption(disruption: Disruption) -> dict[str, Any]:
    """context.known_disruption of a handoff."""
    return {
        "id": disruption.id,
        "flight_number": disruption.flight_number,
        "date": disruption.date.isoformat(),
        "type": disruption.type,
        "details": disruption.details,
    }


def with_known(
    context: dict[str, Any], disruption: Disruption, booking_reference: str
) -> dict[str, Any]:
    """A handoff's context with what operations said: its flight and booking replace
    what the customer may have mistyped."""
    summary = (
        f"Operations reported flight {disruption.flight_number} on "
        f"{day_in_words(disruption.date)} {disruption.type.replace('_', ' ')} "
        f"(booking {booking_reference}); the customer was told before they wrote."
    )
    earlier = context.get("summary")
    return {
        **context,
        "summary": f"{summary} {earlier}" if earlier else summary,
        "booking_reference": booking_reference,
        "flight_number": disruption.flight_number,
        "known_disruption": known_disruption(disruption),
    }
