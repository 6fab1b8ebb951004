"""The operations feed's disruptions: each post recorded under the feed's id, and those
supervisors see.

A post whose id is known replaces what was stored (a delay becoming a cancellation),
its bookings included; one that changes nothing changes nothing, updated_at included,
so a feed that retries or replays is harmless. A post that changes something tells the
consoles (a ``disruption`` event), so that the supervisors' list refreshes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.live.events import disruption_event
from handoff.operations.codes import booking_codes
from handoff.shapes.http import DisruptionIn
from handoff.storage.db import Database
from handoff.storage.models import (
    STATUS_WAITING,
    Conversation,
    Disruption,
    DisruptionBooking,
    KnownDisruption,
    utcnow,
)

# More than a supervisor reads; the list is newest first, so the oldest fall off.
LISTED = 500


@dataclass(frozen=True)
class Active:
    """A listed disruption and how far its customers got: how many bookings it touches,
    how many customers were told of it, and how many of those wait for a person now."""

    disruption: Disruption
    bookings: int
    told: int
    waiting: int


@dataclass(frozen=True)
class Recorded:
    disruption: Disruption
    bookings: list[str]  # sorted
    created: bool
    changed: bool  # created, or anything of it replaced


async def do_record_disruption(app: web.Application, news: DisruptionIn) -> Recorded:
    """Store the post (its flight number compacted already, by the view's rule), then
    tell the consoles if it changed anything."""
    database = app[keys.DB]
    bookings = booking_codes(news.bookings)
    try:
        recorded = await _record(database, news, bookings)
    except IntegrityError:
        # The same new id posted twice at once: the other post inserted it; update it.
        recorded = await _record(database, news, bookings)
    if recorded.changed:
        change = "created" if recorded.created else "updated"
        await app[keys.PUBLISHER].to_agents(disruption_event(news.id, change))
    return recorded


async def _record(database: Database, news: DisruptionIn, bookings: list[str]) -> Recorded:
    async with database.write() as db:
        row = await db.get(Disruption, news.id, with_for_update=True)
        now = utcnow()
        created = row is None
        if row is None:
            row = Disruption(id=news.id, created_at=now, updated_at=now)
            db.add(row)
            stored: set[str] = set()
        else:
            stored = set(await _bookings_of(db, news.id))
        fields = {"flight_number": news.flight_number, "date": news.date,
                  "type": news.type, "details": news.details}
        changed = stored != set(bookings) or any(
            getattr(row, name) != value for name, value in fields.items()
        )
        if changed:
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
        await db.flush()  # the disruption's row before its bookings'
        gone = stored - set(bookings)
        if gone:
            await db.execute(
                delete(DisruptionBooking).where(
                    DisruptionBooking.disruption_id == news.id,
                    DisruptionBooking.booking_reference.in_(gone),
                )
            )
        db.add_all(
            DisruptionBooking(disruption_id=news.id, booking_reference=reference)
            for reference in bookings
            if reference not in stored
        )
    return Recorded(disruption=row, bookings=sorted(bookings), created=created, changed=changed)


async def _bookings_of(db: AsyncSession, disruption_id: str) -> list[str]:
    rows = await db.scalars(
        select(DisruptionBooking.booking_reference).where(
            DisruptionBooking.disruption_id == disruption_id
        )
    )
    return list(rows.all())


def listed_since(now: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The first day listed: yesterday in the company's time zone, so a flight of late
    last night still shows while its customers write in."""
    return now.astimezone(zone).date() - dt.timedelta(days=1)


async def active_disruptions(db: AsyncSession, since: dt.date) -> list[Active]:
    """Disruptions of flights on or after ``since``, the latest news first."""
    bookings = (
        select(func.count())
        .where(DisruptionBooking.disruption_id == Disruption.id)
        .scalar_subquery()
    )
    told = (
        select(func.count())
        .where(KnownDisruption.disruption_id == Disruption.id)
        .scalar_subquery()
    )
    waiting = (
        select(func.count())
        .select_from(KnownDisruption)
        .join(Conversation, Conversation.id == KnownDisruption.conversation_id)
        .where(
            KnownDisruption.disruption_id == Disruption.id,
            Conversation.status == STATUS_WAITING,
        )
        .scalar_subquery()
    )
    rows = await db.execute(
        select(Disruption, bookings, told, waiting)
        .where(Disruption.date >= since)
        .order_by(Disruption.updated_at.desc(), Disruption.id)
        .limit(LISTED)
    )
    return [Active(*row) for row in rows.all()]
