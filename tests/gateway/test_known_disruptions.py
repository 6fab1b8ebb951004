"""Known disruptions (issue 19, point 3): a customer whose verified booking, or a booking
reference they type, has an active disruption is told of it before they explain, and
offered a person; the handoff carries what operations said, at the disrupted priority."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, get_args

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from handoff import keys
from handoff.operations.known import HAPPENED
from handoff.routing.queue import PRIORITY_DISRUPTED
from handoff.shapes.http import DisruptionType
from handoff.storage.models import KnownDisruption

from .conftest import Customer, MakeClient
from .fake_rasa import FakeRasa
from .revisions import one_conversation_at
from .test_disruptions import SECRET as OPS_SECRET
from .test_disruptions import post
from .test_identity import SECRET as IDENTITY_SECRET
from .test_identity import signature
from .test_resolutions import add_agent

TOMORROW = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
NEWS = {
    "id": "ops-117",
    "flight_number": "BA117",
    "date": TOMORROW.isoformat(),
    "type": "cancelled",
    "details": "Crew shortage",
    "bookings": ["ABC123", "DEF456"],
}
OFFER = (
    f"I can see flight BA117 on {TOMORROW.day} {TOMORROW:%B} was cancelled. Crew shortage. "
    "I'm sorry, I know this upsets your plans. A colleague can sort out your options with "
    "you now, or I can help you here."
)
BUTTONS = [
    {"title": "Talk to a person now", "payload": "/human_handoff"},
    {"title": "Keep going with the assistant", "payload": "/greet"},
]
KNOWN = {"id": "ops-117", "flight_number": "BA117", "date": TOMORROW.isoformat(),
         "type": "cancelled", "details": "Crew shortage"}


@pytest.fixture
async def site(make_client: MakeClient) -> TestClient:
    client = await make_client(ops_secret=OPS_SECRET, identity_secret=IDENTITY_SECRET)
    status, _ = await post(client, NEWS)
    assert status == 201
    return client


async def verified(client: TestClient, bookings: list[str]) -> Customer:
    identity = {"customer_id": "cust-7", "name": "Ada Park", "bookings": bookings}
    response = await client.post("/api/conversations", json={
        "identity": identity, "identity_signature": signature(identity),
    })
    assert response.status == 201
    body = await response.json()
    return Customer(client, body["id"], body["token"])


async def anonymous(client: TestClient) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    return Customer(client, body["id"], body["token"])


def seen(messages: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(m["sender"], m["text"], m.get("buttons")) for m in messages]


async def queued(client: TestClient, supervisor: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/agent/queue", headers=supervisor)
    assert response.status == 200
    return (await response.json())["conversations"]


async def test_a_verified_booking_with_a_disruption_opens_with_it_and_the_offer(
    site: TestClient,
) -> None:
    customer = await verified(site, ["xyz 999", "abc 123"])

    assert seen(await customer.messages()) == [("bot", OFFER, BUTTONS)]


async def test_no_disruption_of_the_bookings_opens_as_before(
    site: TestClient, rasa: FakeRasa
) -> None:
    customer = await verified(site, ["XYZ999"])

    assert await customer.messages() == []
    turn = await customer.say("hello ABC999")  # no such disruption
    assert [(m["sender"], m["text"]) for m in turn["messages"]] == [
        ("customer", "hello ABC999"), ("bot", "Answer to: hello ABC999"),
    ]


async def test_a_disruption_of_days_ago_is_not_told(site: TestClient) -> None:
    old = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    status, _ = await post(site, {**NEWS, "id": "ops-old", "date": old.isoformat(),
                                  "bookings": ["OLD111"]})
    assert status == 201

    customer = await verified(site, ["OLD111"])

    assert await customer.messages() == []


async def test_asking_for_the_person_hands_off_with_the_known_disruption(
    site: TestClient,
) -> None:
    customer = await verified(site, ["ABC123"])
    boss = await add_agent(site, "Ines", "supervisor")

    turn = await customer.say("Talk to a person now", payload="/human_handoff")

    assert turn["status"] == "waiting"
    (entry,) = await queued(site, boss)
    handoff = entry["handoff"]
    assert (handoff["reason"], handoff["disruption"], handoff["priority"]) == (
        "disruption", "cancelled", PRIORITY_DISRUPTED
    )
    assert handoff["context"] == {
        "summary": f"Operations reported flight BA117 on {TOMORROW.day} {TOMORROW:%B} "
        "cancelled (booking ABC123); the customer was told before they wrote. "
        "The customer asked for a person.",
        "booking_reference": "ABC123",
        "flight_number": "BA117",
        "known_disruption": KNOWN,
    }


async def test_supervisors_see_how_many_customers_were_told_and_wait(
    site: TestClient,
) -> None:
    boss = await add_agent(site, "Ines", "supervisor")
    await verified(site, ["DEF456"])  # told, and not asking for a person
    asking = await verified(site, ["ABC123"])
    await verified(site, ["ZZZ999"])  # no disruption of theirs
    turn = await asking.say("Talk to a person now", payload="/human_handoff")
    assert turn["status"] == "waiting"

    response = await site.get("/api/agent/disruptions", headers=boss)

    (listed,) = (await response.json())["disruptions"]
    assert (listed["id"], listed["bookings"], listed["told"], listed["waiting"]) == (
        "ops-117", 2, 2, 1
    )


async def test_a_typed_booking_reference_with_a_disruption_gets_the_offer_once(
    site: TestClient, rasa: FakeRasa
) -> None:
    customer = await anonymous(site)
    # Spaced, as only the bot's entity reads it; the second is found by its look.
    rasa.entities["my booking is def 456"] = [
        {"entity": "booking_reference", "value": "def 456", "start": 14, "end": 21}
    ]

    turn = await customer.say("my booking is def 456")
    again = await customer.say("and DEF456 again")

    assert seen(turn["messages"][1:]) == [("bot", OFFER, BUTTONS)]
    assert [(m["sender"], m["text"]) for m in again["messages"]] == [
        ("customer", "and DEF456 again"), ("bot", "Answer to: and DEF456 again"),
    ]
    async with site.app[keys.DB].read() as db:
        rows = (await db.execute(select(
            KnownDisruption.conversation_id, KnownDisruption.disruption_id,
            KnownDisruption.booking_reference,
        ))).all()
    assert [tuple(row) for row in rows] == [(customer.id, "ops-117", "DEF456")]


async def test_a_typed_reference_in_the_turn_the_bot_hands_off_joins_the_handoff(
    site: TestClient,
) -> None:
    customer = await anonymous(site)
    boss = await add_agent(site, "Ines", "supervisor")

    turn = await customer.say("a person please, booking ABC123")

    assert turn["status"] == "waiting"
    (entry,) = await queued(site, boss)
    assert (entry["handoff"]["reason"], entry["handoff"]["disruption"]) == (
        "disruption", "cancelled"
    )
    assert entry["handoff"]["context"]["known_disruption"] == KNOWN
    assert entry["handoff"]["context"]["booking_reference"] == "ABC123"


def test_every_type_of_the_feed_is_told_and_labelled() -> None:
    labels = json.loads((Path(keys.__file__).parent / "static" / "labels.json").read_text())
    assert set(get_args(DisruptionType)) == set(HAPPENED)
    assert set(HAPPENED) <= set(labels["disruptions"])


async def test_the_insights_count_known_disruptions_by_flight_and_type(
    site: TestClient,
) -> None:
    status, _ = await post(site, {**NEWS, "id": "ops-300", "flight_number": "BA300",
                                  "type": "diverted", "details": None, "bookings": ["GHI789"]})
    assert status == 201
    for bookings in (["ABC123"], ["DEF456"], ["GHI789"]):
        customer = await verified(site, bookings)
        turn = await customer.say("Talk to a person now", payload="/human_handoff")
        assert turn["status"] == "waiting"
    boss = await add_agent(site, "Ines", "supervisor")

    response = await site.get("/api/agent/insights?days=7", headers=boss)

    assert response.status == 200
    assert (await response.json())["disruptions"] == {"top_flights": [
        {"flight_number": "BA117", "handoffs": 2, "by_type": {"cancelled": 2}},
        {"flight_number": "BA300", "handoffs": 1, "by_type": {"diverted": 1}},
    ]}


async def test_the_migration_goes_down_and_up_and_keeps_the_conversations(
    tmp_path: Path,
) -> None:
    async with one_conversation_at(tmp_path, "0010") as db:
        await db.upgrade()
        assert "known_disruptions" in await db.tables()
        assert await db.conversation_ids() == ["c1"]
        await db.downgrade("0010")
        assert "known_disruptions" not in await db.tables()
        await db.upgrade()
