"""One action for every customer of one disruption (issue 19, point 4): the queue shows
them as one group, and an agent with the authority resolves them all at once."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from handoff import keys
from handoff.storage.models import AuditEntry, Resolution

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient
from .test_disruptions import SECRET as OPS_SECRET
from .test_disruptions import post
from .test_identity import SECRET as IDENTITY_SECRET
from .test_known_disruptions import KNOWN, NEWS, verified
from .test_resolutions import VOUCHER_TEXT, _audit, _departure, detail, login

BULK = "/api/agent/disruptions/ops-117/resolutions"


@pytest.fixture
async def site(make_client: MakeClient) -> TestClient:
    client = await make_client(ops_secret=OPS_SECRET, identity_secret=IDENTITY_SECRET)
    status, _ = await post(client, {**NEWS, "bookings": ["AAA111", "BBB222", "CCC333"]})
    assert status == 201
    status, _ = await post(client, {**NEWS, "id": "ops-200", "flight_number": "BA200",
                                    "bookings": ["ZZZ999"]})
    assert status == 201
    return client


@pytest.fixture
async def maya(site: TestClient) -> dict[str, str]:
    return await login(site, AGENT_EMAIL, AGENT_PASSWORD)


async def waiting(site: TestClient, bookings: list[str]) -> list[Customer]:
    customers = []
    for booking in bookings:
        customer = await verified(site, [booking])
        turn = await customer.say("Talk to a person now", payload="/human_handoff")
        assert turn["status"] == "waiting"
        customers.append(customer)
    return customers


async def bulk(site: TestClient, headers: dict[str, str], **body: Any) -> tuple[int, Any]:
    response = await site.post(BULK, json=body, headers=headers)
    return response.status, await response.json()


async def counts(site: TestClient) -> tuple[int, int]:
    async with site.app[keys.DB].read() as db:
        return (
            await db.scalar(select(func.count()).select_from(Resolution)) or 0,
            await db.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


async def test_the_queue_entries_carry_their_known_disruption(
    site: TestClient, maya: dict[str, str]
) -> None:
    await waiting(site, ["AAA111", "ZZZ999", "BBB222"])

    response = await site.get("/api/agent/queue", headers=maya)

    entries = (await response.json())["conversations"]
    assert [
        (e["handoff"]["context"]["known_disruption"]["id"],
         e["handoff"]["context"]["known_disruption"]["flight_number"]) for e in entries
    ] == [("ops-117", "BA117"), ("ops-200", "BA200"), ("ops-117", "BA117")]
    assert entries[0]["handoff"]["context"]["known_disruption"] == KNOWN


async def test_a_rebooking_reaches_every_customer_of_the_disruption(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222", "CCC333"])
    other = (await waiting(site, ["ZZZ999"]))[0]
    sent, told_as = _departure(1)

    status, body = await bulk(site, maya, action="rebook_next_flight",
                              fields={"flight": "BA119", "departure": sent})

    assert status == 201
    assert body["disruption_id"] == "ops-117"
    assert [(r["conversation_id"], r["status"], r["reference"]) for r in body["resolutions"]] == [
        (customers[0].id, "done", "BTN-000001"),
        (customers[1].id, "done", "BTN-000002"),
        (customers[2].id, "done", "BTN-000003"),
    ]
    for number, customer in enumerate(customers, start=1):
        told = (await customer.messages())[-2:]
        assert [(m["sender"], m["text"]) for m in told] == [
            ("system", "Maya from our team has joined the chat."),
            ("agent", f"I've rebooked you on BA119, departing {told_as}, at no cost. Your "
             f"reference is BTN-00000{number}; your new e-ticket arrives by email within "
             "15 minutes."),
        ]
        seen = await detail(site, customer, maya)
        assert seen["status"] == "agent"
        assert [a[0] for a in _audit(seen["audit"])] == [
            "claim", "resolution_requested", "resolution_carried_out",
        ]
    assert (await detail(site, other, maya))["status"] == "waiting"
    async with site.app[keys.DB].read() as db:
        entry = await db.scalar(
            select(AuditEntry).where(AuditEntry.action == "disruption_resolution")
        )
    assert entry is not None and entry.details == {
        "disruption_id": "ops-117", "action": "rebook_next_flight",
        "conversations": [c.id for c in customers], "total": None,
    }


async def test_the_amounts_are_summed_against_the_agents_limit(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222", "CCC333"])
    before = await counts(site)

    status, body = await bulk(site, maya, action="voucher", amount=70)  # 210 > 200

    assert (status, body) == (403, {"error": {
        "status": 403,
        "message": "3 × 70 EUR is 210 EUR, above your authority of 200 EUR at once",
        "total": 210, "limit": 200,
    }})
    assert await counts(site) == before
    for customer in customers:
        assert (await detail(site, customer, maya))["status"] == "waiting"

    status, body = await bulk(site, maya, action="voucher", amount=60)  # 180

    assert status == 201
    assert [r["status"] for r in body["resolutions"]] == ["done", "done", "done"]
    for number, customer in enumerate(customers, start=1):
        assert (await customer.messages())[-1]["text"] == VOUCHER_TEXT.format(
            60, f"BTN-00000{number}"
        )


async def test_a_conversation_past_its_own_cap_refuses_the_whole(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222"])
    claim = await site.post(f"/api/agent/conversations/{customers[0].id}/claim", headers=maya)
    assert claim.status == 200
    one = await site.post(f"/api/agent/conversations/{customers[0].id}/resolutions",
                          json={"action": "voucher", "amount": 180}, headers=maya)
    assert one.status == 201
    before = await counts(site)

    status, body = await bulk(site, maya, action="voucher", amount=30)  # 60 in all

    assert (status, body) == (403, {"error": {
        "status": 403,
        "message": "1 of these conversations would pass your authority of 200 EUR in one "
        "conversation",
        "conversations": [customers[0].id],
    }})
    assert await counts(site) == before
    assert (await detail(site, customers[1], maya))["status"] == "waiting"


async def test_an_action_needing_approval_is_refused_whole(
    site: TestClient, maya: dict[str, str]
) -> None:
    await waiting(site, ["AAA111"])
    before = await counts(site)

    status, body = await bulk(site, maya, action="refund", amount=10)

    assert (status, body["error"]["message"]) == (
        403, "1 × 10 EUR is 10 EUR, above your authority of 0 EUR at once"
    )
    assert await counts(site) == before


async def test_nothing_to_resolve_is_a_clear_refusal(
    site: TestClient, maya: dict[str, str]
) -> None:
    status, body = await bulk(site, maya, action="waive_change_fee")
    assert (status, body) == (409, {"error": {
        "status": 409, "message": "no conversation of this disruption is waiting or yours",
    }})
    response = await site.post("/api/agent/disruptions/nope/resolutions",
                               json={"action": "waive_change_fee"}, headers=maya)
    assert (response.status, await response.json()) == (
        404, {"error": {"status": 404, "message": "disruption not found"}}
    )
