"""The team's opening hours (BATON_OPENING_HOURS, in BATON_TIMEZONE's local time).

Written as the company would: ``"Mon-Fri 08:00-20:00, Sat 09:00-17:00"``. A day may
have several spans (``"Mon 08:00-12:00, Mon 13:00-17:00"``); ``24:00`` ends a day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ENTRY = re.compile(
    r"(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})"
)
# A span is minutes since the local midnight: (start, end), end <= 24 h.
Span = tuple[int, int]


def _minutes(text: str, entry: str) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"BATON_OPENING_HOURS: {text!r} is not a time of day (in {entry!r})")
    return hours * 60 + minutes


def _days(first: str, last: str | None, entry: str) -> list[int]:
    for day in (first, last):
        if day is not None and day not in DAYS:
            raise ValueError(
                f"BATON_OPENING_HOURS: {day.capitalize()!r} is not a day (Mon, Tue ... Sun) "
                f"in {entry!r}"
            )
    start = DAYS.index(first)
    end = DAYS.index(last) if last else start
    # "Sat-Mon" wraps over the weekend.
    return [(start + step) % 7 for step in range((end - start) % 7 + 1)]


@dataclass(frozen=True)
class OpeningHours:
    zone: ZoneInfo
    # Monday first, each day's spans in order.
    week: tuple[tuple[Span, ...], ...]

    @classmethod
    def parse(cls, text: str, zone_name: str) -> "OpeningHours":
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"BATON_TIMEZONE: {zone_name!r} is not a time zone (like Europe/London)"
            ) from None
        week: list[list[Span]] = [[] for _ in DAYS]
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            match = _ENTRY.fullmatch(entry.lower())
            if match is None:
                raise ValueError(
                    f"BATON_OPENING_HOURS: {entry!r} should look like 'Mon-Fri 08:00-20:00'"
                )
            start = _minutes(match["start"], entry)
            end = _minutes(match["end"], entry)
            if end <= start:
                raise ValueError(f"BATON_OPENING_HOURS: {entry!r} ends before it starts")
            for day in _days(match["first"], match["last"], entry):
                week[day].append((start, end))
        if not any(week):
            raise ValueError("BATON_OPENING_HOURS: no opening hours given")
        return cls(zone, tuple(tuple(sorted(spans)) for spans in week))

    def _local(self, now: dt.datetime) -> dt.datetime:
        return now.astimezone(self.zone)

    def is_open(self, now: dt.datetime) -> bool:
        local = self._local(now)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.week[local.weekday()])

    def closes_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the span `now` is in ends (local time); None when closed."""
        local = self._local(now)
        minute = local.hour * 60 + local.minute
        for start, end in self.week[local.weekday()]:
            if start <= minute < end:
                return self._at(local.date(), end)
        return None

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The first opening after `now` (local time)."""
        local = self._local(now)
        minute = local.hour * 60 + local.minute
        for ahead in range(8):
            day = local.date() + dt.timedelta(days=ahead)
            for start, _ in self.week[day.weekday()]:
                if ahead or start > minute:
                    return self._at(day, start)
        raise AssertionError("parse() makes sure the week has opening hours")

    def _at(self, day: dt.date, minute: int) -> dt.datetime:
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=self.zone)
        return midnight + dt.timedelta(minutes=minute)

    def zone_label(self) -> str:
        """How the customer is told which clock is meant: "UTC", "London time"."""
        key = self.zone.key
        if key in ("UTC", "Etc/UTC", "GMT"):
            return "UTC"
        return key.rsplit("/", 1)[-1].replace("_", " ") + " time"

    def when(self, moment: dt.datetime, now: dt.datetime) -> str:
        """A moment as the customer reads it: "at 08:00", "tomorrow at 08:00",
        "on Monday at 08:00", with the zone: "(London time)"."""
        local, today = self._local(moment), self._local(now).date()
        clock = f"{local:%H:%M} ({self.zone_label()})"
        days = (local.date() - today).days
        if days == 0:
            return f"at {clock}"
        if days == 1:
            return f"tomorrow at {clock}"
        return f"on {DAY_NAMES[local.weekday()]} at {clock}"
