"""Whether the team can answer now: someone online, nobody within opening hours, or closed.

An agent online always counts, even outside the opening hours: a colleague working late
can take the chat. Without BATON_OPENING_HOURS the team is never "closed".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from handoff import keys
from handoff.routing.opening_hours import OpeningHours

TEAM_ONLINE = "online"
TEAM_AWAY = "away"  # within opening hours, but nobody is online
TEAM_CLOSED = "closed"


def current_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Team:
    state: str
    # Within opening hours: when today's span ends ("at 20:00 (London time)").
    closes: str | None = None
    # Closed: the next opening, as a moment and as the customer reads it.
    reopens_at: dt.datetime | None = None
    reopens: str | None = None

    def as_fields(self) -> dict[str, Any]:
        """The queue event's part (docs/contract.md)."""
        return {
            "team": self.state,
            "reopens_at": self.reopens_at.isoformat() if self.reopens_at else None,
            "reopens": self.reopens,
        }


def team_now(hours: OpeningHours | None, agents_online: int, now: dt.datetime) -> Team:
    if agents_online > 0:
        return Team(TEAM_ONLINE)
    if hours is None:
        return Team(TEAM_AWAY)
    if hours.is_open(now):
        closes = hours.closes_at(now)
        return Team(TEAM_AWAY, closes=hours.when(closes, now) if closes else None)
    reopens = hours.next_opening(now)
    return Team(TEAM_CLOSED, reopens_at=reopens, reopens=hours.when(reopens, now))


def team_of(app: web.Application) -> Team:
    return team_now(
        app[keys.SETTINGS].opening_hours, app[keys.SOCKETS].agents_online(), current_time()
    )
