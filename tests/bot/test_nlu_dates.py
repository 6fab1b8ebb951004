"""Relative dates resolved against the day they were said (bot/nlu/dates.py)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Optional

import pytest

from bot.nlu.dates import resolve_date, said_on

THURSDAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("today", "2026-12-03"),
        ("tonight", "2026-12-03"),
        ("tomorrow", "2026-12-04"),
        ("tmrw", "2026-12-04"),
        ("yesterday", "2026-12-02"),
        ("the day after tomorrow", "2026-12-05"),
        ("friday", "2026-12-04"),
        ("on Friday", "2026-12-04"),
        ("this friday", "2026-12-04"),
        ("coming monday", "2026-12-07"),
        ("thursday", "2026-12-03"),
        # next week's: said on a Thursday, "next Friday" is not the day after
        ("next friday", "2026-12-11"),
        ("next monday", "2026-12-07"),
        ("last tuesday", "2026-12-01"),
        ("last thursday", "2026-11-26"),
        ("march 3", "2027-03-03"),
        ("march 3rd, 2026", "2026-03-03"),
        ("5th of june", "2027-06-05"),
        ("28 nov", "2026-11-28"),
        ("1st of july", "2027-07-01"),
        ("august 15", "2026-08-15"),
        ("dec. 24", "2026-12-24"),
        ("2026-12-24", "2026-12-24"),
        # not one day: left to the agent
        ("3/4", None),
        ("next week", None),
        ("this weekend", None),
        ("february 30", None),
    ],
)
def test_resolve_date(said: str, expected: Optional[str]) -> None:
    day = resolve_date(said, THURSDAY)
    assert (day.isoformat() if day else None) == expected


def test_a_year_end_rolls_over() -> None:
    assert resolve_date("tomorrow", dt.date(2026, 12, 31)) == dt.date(2027, 1, 1)
    assert resolve_date("jan 2", dt.date(2026, 12, 31)) == dt.date(2027, 1, 2)


@pytest.mark.parametrize(
    ("sent_at", "day"),
    [
        # the local day of the message, in the zone the gateway wrote it in
        ("2026-12-03T23:30:00+01:00", dt.date(2026, 12, 3)),
        ("2026-12-03T23:30:00-05:00", dt.date(2026, 12, 3)),
        ("2026-12-04T00:10:00Z", dt.date(2026, 12, 4)),
    ],
)
def test_said_on_is_the_local_day_of_sent_at(sent_at: str, day: dt.date) -> None:
    assert said_on(sent_at) == day


def test_said_on_without_a_time_is_today() -> None:
    assert said_on(None) == dt.datetime.now(dt.timezone.utc).date()
    assert said_on("not a time") == dt.datetime.now(dt.timezone.utc).date()


def test_said_on_without_a_time_is_today_in_the_company_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 25 hours apart: at every instant these two zones are on different days (two days
    # apart in the hour after 10:00 UTC).
    east, west = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    monkeypatch.setenv("BATON_TIMEZONE", east)
    today_east = said_on(None)
    monkeypatch.setenv("BATON_TIMEZONE", west)
    today_west = said_on(None)
    assert today_east == dt.datetime.now(zoneinfo.ZoneInfo(east)).date()
    assert today_west == dt.datetime.now(zoneinfo.ZoneInfo(west)).date()
    assert (today_east - today_west).days in (1, 2)
    # An explicit zone wins over the environment; a sent time wins over both.
    assert said_on(None, east) == today_east
    assert said_on("2026-12-03T23:30:00+01:00", east) == dt.date(2026, 12, 3)
