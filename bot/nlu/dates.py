"""Which calendar day a date the customer mentions means, counted from when they said it.

"tomorrow" on its own tells an agent little an hour later, or the next morning; the day
it means does. The entity extractor resolves each date it finds against the message's
time: ``metadata.sent_at``, in the company's time zone, when the gateway sends it (for a
message that waited), else now in ``BATON_TIMEZONE``, the zone the gateway uses; and the
agent's console shows both: "tomorrow (Fri 4 Dec)". What cannot be pinned to one day
("next week", "3/4", which is the 3rd of April or the 4th of March) stays unresolved.
Pure Python, so it is tested without a model.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import zoneinfo
from typing import Optional

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
}
DAYS_FROM_TODAY = {
    "today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "yesterday": -1,
    "day after tomorrow": 2, "the day after tomorrow": 2,
}

_WEEKDAY = re.compile(r"(?:(this|next|last|coming) )?([a-z]+)")
_MONTH_DAY = re.compile(r"([a-z]+) (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]+)(?: (\d{4}))?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _weekday(which: Optional[str], weekday: int, today: dt.date) -> dt.date:
    if which == "last":
        return today - dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
    if which == "next":
        # The one in next week (weeks start on Monday): said on a Thursday, "next
        # Friday" is eight days later, not the day after.
        next_monday = today + dt.timedelta(days=7 - today.weekday())
        return next_monday + dt.timedelta(days=weekday)
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


# Without a year, a day of the month is the coming one when that is at most this many
# days away, else the last one: customers write about trips ahead more than behind, and
# "28 November" said on 3 December is the one five days ago.
AHEAD_DAYS = 240


def _day_of_month(month: int, day: int, year: Optional[str], today: dt.date) -> Optional[dt.date]:
    try:
        if year:
            return dt.date(int(year), month, day)
        coming = dt.date(today.year, month, day)
        if coming < today:
            coming = dt.date(today.year + 1, month, day)
        if (coming - today).days <= AHEAD_DAYS:
            return coming
        return dt.date(coming.year - 1, month, day)
    except ValueError:  # 30 February; 29 February of another year is let go too
        return None


def resolve_date(text: str, today: dt.date) -> Optional[dt.date]:
    """The day ``text`` (a date entity's value) means when said on ``today``, or None."""
    phrase = " ".join(re.sub(r"[.,]", " ", text.lower()).split())
    if phrase.startswith("on "):
        phrase = phrase[3:]
    if phrase in DAYS_FROM_TODAY:
        return today + dt.timedelta(days=DAYS_FROM_TODAY[phrase])
    match = _WEEKDAY.fullmatch(phrase)
    if match and match.group(2) in WEEKDAYS:
        return _weekday(match.group(1), WEEKDAYS[match.group(2)], today)
    if _ISO.fullmatch(phrase):
        try:
            return dt.date.fromisoformat(phrase)
        except ValueError:
            return None
    match = _MONTH_DAY.fullmatch(phrase)
    if match and match.group(1) in MONTHS:
        return _day_of_month(MONTHS[match.group(1)], int(match.group(2)), match.group(3), today)
    match = _DAY_MONTH.fullmatch(phrase)
    if match and match.group(2) in MONTHS:
        return _day_of_month(MONTHS[match.group(2)], int(match.group(1)), match.group(3), today)
    return None


def said_on(sent_at: object, zone: Optional[str] = None) -> dt.date:
    """The local day of ``metadata.sent_at`` (ISO 8601 with its offset); today in the
    company's zone (``zone``, else ``BATON_TIMEZONE``, else UTC) when the message came
    without it: a message sent just now, or one typed into ``rasa shell``."""
    if isinstance(sent_at, str):
        try:
            return dt.datetime.fromisoformat(sent_at.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    return dt.datetime.now(_zone(zone or os.environ.get("BATON_TIMEZONE", ""))).date()


@functools.lru_cache(maxsize=8)
def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name.strip()) if name.strip() else dt.timezone.utc
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc  # the gateway refuses a bad zone at start; never guess here
