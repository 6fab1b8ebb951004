"""The operations feed: signed posts of flight disruptions, recorded once per id and
replaced by a later post; supervisors list those of yesterday on."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from alembic import command
from sqlalchemy import func, inspect, select

from handoff import keys
from handoff.operations.disruptions import listed_since
from handoff.storage.db import _alembic_config, make_engine
from handoff.storage.models import Disruption, DisruptionBooking

from .conftest import MakeClient
from .test_resolutions import add_agent
from .test_sockets import next_event

SECRET = "ops-feed-test-secret"
FEED = "/api/ops/disruptions"
NEWS = {
    "id": "ops-4711",
    "flight_number": "ba 119",
    "date": "2026-12-08",
    "type": "delayed",
    "details": "Departure now 14:20",
    "bookings": ["abc 123", "XYZ789", "ABC123"],
}


def signed(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Baton-Timestamp": stamp, "X-Baton-Signature": f"sha256={digest}",
            "Content-Type": "application/json"}


async def post(client: TestClient, news: dict[str, Any], **signing: Any) -> tuple[int, Any]:
    body = json.dumps(news).encode()
    response = await client.post(FEED, data=body, headers=signed(body, **signing))
    return response.status, await response.json()


async def stored(client: TestClient) -> list[tuple[Any, ...]]:
    async with client.app[keys.DB].read() as db:
        rows = (await db.scalars(select(Disruption).order_by(Disruption.id))).all()
        refs = (await db.execute(
            select(DisruptionBooking.disruption_id, DisruptionBooking.booking_reference)
            .order_by(DisruptionBooking.disruption_id, DisruptionBooking.booking_reference)
        )).all()
    return [(r.id, r.flight_number, r.date, r.type, r.details) for r in rows] + [tuple(r) for r in refs]


@pytest.fixture
async def feed(make_client: MakeClient) -> TestClient:
    return await make_client(ops_secret=SECRET)


async def test_a_signed_post_is_recorded_with_its_codes_compacted(feed: TestClient) -> None:
    status, body = await post(feed, NEWS)

    assert status == 201
    recorded = body["disruption"]
    assert {k: v for k, v in recorded.items() if k not in ("created_at", "updated_at")} == {
        "id": "ops-4711", "flight_number": "BA119", "date": "2026-12-08", "type": "delayed",
        "details": "Departure now 14:20", "bookings": ["ABC123", "XYZ789"],
    }
    assert recorded["created_at"] == recorded["updated_at"]
    assert await stored(feed) == [
        ("ops-4711", "BA119", dt.date(2026, 12, 8), "delayed", "Departure now 14:20"),
        ("ops-4711", "ABC123"),
        ("ops-4711", "XYZ789"),
    ]


async def test_a_later_post_with_the_same_id_replaces_it(feed: TestClient) -> None:
    _, first = await post(feed, NEWS)
    cancelled = {**NEWS, "type": "cancelled", "details": "Crew shortage",
                 "bookings": ["XYZ789", "QRS456"]}

    status, body = await post(feed, cancelled)

    assert status == 200
    assert body["disruption"]["type"] == "cancelled"
    assert body["disruption"]["bookings"] == ["QRS456", "XYZ789"]
    assert body["disruption"]["created_at"] == first["disruption"]["created_at"]
    assert body["disruption"]["updated_at"] > first["disruption"]["updated_at"]
    assert await stored(feed) == [
        ("ops-4711", "BA119", dt.date(2026, 12, 8), "cancelled", "Crew shortage"),
        ("ops-4711", "QRS456"),
        ("ops-4711", "XYZ789"),
    ]


async def test_the_same_post_again_changes_nothing(feed: TestClient) -> None:
    _, first = await post(feed, NEWS)

    status, again = await post(feed, NEWS)

    assert status == 200
    assert again == first
    async with feed.app[keys.DB].read() as db:
        assert await db.scalar(select(func.count()).select_from(Disruption)) == 1
        assert await db.scalar(select(func.count()).select_from(DisruptionBooking)) == 2


async def test_a_post_that_changes_something_tells_every_console(feed: TestClient) -> None:
    # An agent's console too: the event carries only the id, and the list stays 403.
    console = await feed.ws_connect("/api/agent/ws", headers=await add_agent(feed, "Sam"))
    await next_event(console, "hello")

    await post(feed, NEWS)
    created = await next_event(console)
    await post(feed, NEWS)  # nothing changed: no event
    await post(feed, {**NEWS, "type": "cancelled"})
    updated = await next_event(console)

    assert created == {"type": "disruption", "id": created["id"],
                       "disruption_id": "ops-4711", "change": "created"}
    assert updated == {"type": "disruption", "id": created["id"] + 1,
                       "disruption_id": "ops-4711", "change": "updated"}
    await console.close()


def _without(name: str) -> Any:
    return lambda headers, body: ({k: v for k, v in headers.items() if k != name}, body)


def _with(name: str, value: str) -> Any:
    return lambda headers, body: ({**headers, name: value}, body)


TAMPERED = {
    "no signature": (_without("X-Baton-Signature"), "X-Baton-Signature is required"),
    "no sha256=": (_with("X-Baton-Signature", "0" * 64), "X-Baton-Signature must be sha256=<hex>"),
    "no timestamp": (_without("X-Baton-Timestamp"), "X-Baton-Timestamp is required"),
    "timestamp not seconds": (_with("X-Baton-Timestamp", "soon"),
                              "X-Baton-Timestamp must be Unix seconds"),
    "wrong signature": (_with("X-Baton-Signature", "sha256=" + "0" * 64),
                        "X-Baton-Signature does not match the body"),
    "another secret": (lambda headers, body: (signed(body, secret="another-secret"), body),
                       "X-Baton-Signature does not match the body"),
    "body changed": (lambda headers, body: (headers, body.replace(b"delayed", b"cancelled")),
                     "X-Baton-Signature does not match the body"),
    "timestamp changed": (lambda headers, body: (
        {**headers, "X-Baton-Timestamp": str(int(headers["X-Baton-Timestamp"]) + 1)}, body),
        "X-Baton-Signature does not match the body"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
async def test_a_bad_or_missing_signature_is_refused_and_nothing_stored(
    feed: TestClient, case: str
) -> None:
    tamper, message = TAMPERED[case]
    body = json.dumps(NEWS).encode()
    headers, sent = tamper(signed(body), body)

    response = await feed.post(FEED, data=sent, headers=headers)

    assert response.status == 401
    assert await response.json() == {"error": {"status": 401, "message": message}}
    assert await stored(feed) == []


@pytest.mark.parametrize(
    ("age", "message"),
    [
        (301, "X-Baton-Timestamp is more than 5 minutes old"),
        (-301, "X-Baton-Timestamp is more than 5 minutes in the future"),
    ],
)
async def test_a_stale_or_future_timestamp_is_refused(
    feed: TestClient, age: int, message: str
) -> None:
    status, body = await post(feed, NEWS, timestamp=int(time.time()) - age)

    assert (status, body) == (401, {"error": {"status": 401, "message": message}})
    assert await stored(feed) == []


async def test_a_timestamp_within_five_minutes_is_taken(feed: TestClient) -> None:
    status, _ = await post(feed, NEWS, timestamp=int(time.time()) - 240)
    assert status == 201


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id": " "}, "id", "'id' must not be empty"),
        ({"flight_number": "Heathrow"}, "flight_number",
         "'flight_number' must be a flight number such as BA119"),
        ({"date": "08.12.2026"}, "date", "'date' must be a day as YYYY-MM-DD"),
        ({"type": "lost"}, "type",
         "'type' must be one of cancelled, delayed, diverted, schedule_change"),
        ({"bookings": "ABC123"}, "bookings",
         "'bookings' must be a list of at most 1000 booking references "
         "(letters and digits, at most 16 characters each)"),
        ({"bookings": ["ABC-123"]}, "bookings",
         "'bookings' must be a list of at most 1000 booking references "
         "(letters and digits, at most 16 characters each)"),
        ({"gate": "B7"}, "gate",
         "unknown field 'gate'; the fields are id, flight_number, date, type, details, bookings"),
    ],
)
async def test_a_malformed_post_is_refused_with_what_is_wrong(
    feed: TestClient, change: dict[str, Any], field: str, message: str
) -> None:
    status, body = await post(feed, {**NEWS, **change})

    assert (status, body) == (400, {"error": {"status": 400, "message": message, "field": field}})
    assert await stored(feed) == []


async def test_without_a_secret_the_feed_is_not_configured(client: TestClient) -> None:
    status, body = await post(client, NEWS)

    assert (status, body) == (503, {"error": {
        "status": 503,
        "message": "the operations feed is not configured: set BATON_OPS_SECRET",
    }})
    assert await stored(client) == []


async def test_supervisors_list_the_disruptions_of_yesterday_on(
    feed: TestClient, agent_headers: dict[str, str]
) -> None:
    boss = await add_agent(feed, "Ines", "supervisor")
    today = dt.datetime.now(dt.UTC).date()
    for id_, day, bookings in [
        ("old", today - dt.timedelta(days=2), ["AAA111"]),
        ("yesterday", today - dt.timedelta(days=1), ["BBB222", "CCC333"]),
        ("today", today, []),
    ]:
        status, _ = await post(feed, {**NEWS, "id": id_, "date": day.isoformat(),
                                      "bookings": bookings})
        assert status == 201
    await post(feed, {**NEWS, "id": "yesterday", "date": (today - dt.timedelta(days=1)).isoformat(),
                      "type": "cancelled", "bookings": ["BBB222", "CCC333"]})

    response = await feed.get("/api/agent/disruptions", headers=boss)

    assert response.status == 200
    body = await response.json()
    assert body["since"] == (today - dt.timedelta(days=1)).isoformat()
    assert body["feed_configured"] is True
    assert [(d["id"], d["type"], d["date"], d["bookings"], d["told"], d["waiting"])
            for d in body["disruptions"]] == [
        ("yesterday", "cancelled", (today - dt.timedelta(days=1)).isoformat(), 2, 0, 0),
        ("today", "delayed", today.isoformat(), 0, 0, 0),
    ]
    refused = await feed.get("/api/agent/disruptions", headers=agent_headers)
    assert (refused.status, await refused.json()) == (
        403, {"error": {"status": 403, "message": "only a supervisor may do this"}}
    )
    feed.session.cookie_jar.clear()  # the logins' session cookies
    anonymous = await feed.get("/api/agent/disruptions")
    assert anonymous.status == 401


async def test_without_a_secret_the_list_says_the_feed_is_not_configured(
    client: TestClient,
) -> None:
    boss = await add_agent(client, "Ines", "supervisor")

    response = await client.get("/api/agent/disruptions", headers=boss)

    assert response.status == 200
    body = await response.json()
    assert (body["feed_configured"], body["disruptions"]) == (False, [])


def test_the_list_starts_yesterday_in_the_company_time_zone() -> None:
    evening = dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC)

    assert listed_since(evening, dt.UTC) == dt.date(2026, 12, 6)
    # Already the 8th in Auckland (UTC+13).
    assert listed_since(evening, zoneinfo.ZoneInfo("Pacific/Auckland")) == dt.date(2026, 12, 7)


async def test_the_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    config = _alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.downgrade, config, "0009")
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"disruptions", "disruption_bookings", "customer_identities"} & tables == set()
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"disruptions", "disruption_bookings", "customer_identities"} <= tables
    finally:
        await engine.dispose()
