"""One action for every customer of one disruption (issue 19, point 4): the queue shows
them as one group, and an agent with the authority resolves them all at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from handoff import keys
from handoff.storage.models import AuditEntry, Resolution

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient
from .revisions import one_conversation_at
from .test_disruptions import SECRET as OPS_SECRET
from .test_disruptions import post
from .test_identity import SECRET as IDENTITY_SECRET
from .test_known_disruptions import KNOWN, NEWS, verified
from .test_resolutions import (
    PENDING_TEXT,
    VOUCHER_TEXT,
    _audit,
    _departure,
    add_agent,
    detail,
    login,
)

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
    assert (body["disruption_id"], len(body["batch_id"]), body["needs_approval"]) == (
        "ops-117", 32, None
    )
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
        "batch_id": body["batch_id"], "needs_approval": None,
    }


async def test_the_amounts_are_summed_against_the_agents_limit(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222", "CCC333"])

    status, body = await bulk(site, maya, action="voucher", amount=60)  # 180 <= 200

    assert (status, body["needs_approval"]) == (201, None)
    assert [r["status"] for r in body["resolutions"]] == ["done", "done", "done"]
    for number, customer in enumerate(customers, start=1):
        assert (await customer.messages())[-1]["text"] == VOUCHER_TEXT.format(
            60, f"BTN-00000{number}"
        )


async def test_above_the_agents_limit_the_whole_goes_for_one_approval(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222", "CCC333"])
    boss = await add_agent(site, "Ines", "supervisor")

    status, body = await bulk(site, maya, action="voucher", amount=70)  # 210 > 200

    assert status == 201
    assert body["needs_approval"] == "3 × 70 EUR is 210 EUR, above your authority of 200 " \
        "EUR at once"
    # Each alone (70 EUR) is within Maya's limit; together they are not.
    assert [(r["conversation_id"], r["status"]) for r in body["resolutions"]] == [
        (c.id, "pending_approval") for c in customers
    ]
    for customer in customers:
        assert [(m["sender"], m["text"]) for m in (await customer.messages())[-2:]] == [
            ("system", "Maya from our team has joined the chat."),
            ("agent", PENDING_TEXT.format("a travel voucher of 70 EUR for you")),
        ]
    response = await site.get("/api/agent/approvals", headers=boss)
    cards = (await response.json())["approvals"]
    ids = [r["id"] for r in body["resolutions"]]
    assert [c["id"] for c in cards] == ids
    assert [c["batch"] for c in cards] == [{
        "id": body["batch_id"], "disruption_id": "ops-117", "flight_number": "BA117",
        "date": KNOWN["date"], "type": "cancelled", "requests": ids,
        "conversations": [c.id for c in customers], "total": 210,
    }] * 3

    one = await site.post(f"/api/agent/approvals/{ids[0]}/approve", headers=boss)
    assert (one.status, await one.json()) == (409, {"error": {
        "status": 409,
        "message": "this request is one of a bulk action: approve it with the others "
        f"(POST /api/agent/approvals/batches/{body['batch_id']}/approve)",
        "batch_id": body["batch_id"],
    }})
    own = await site.post(f"/api/agent/approvals/batches/{body['batch_id']}/approve",
                          headers=maya)
    assert own.status == 403  # agents do not approve

    response = await site.post(
        f"/api/agent/approvals/batches/{body['batch_id']}/approve",
        json={"reason": "BA117 goodwill"}, headers=boss,
    )

    assert response.status == 200
    decided = await response.json()
    assert decided["batch_id"] == body["batch_id"]
    assert [(r["id"], r["status"], r["reference"], r["decided_by"]["name"],
             r["decision_reason"]) for r in decided["resolutions"]] == [
        (ids[number - 1], "done", f"BTN-00000{number}", "Ines", "BA117 goodwill")
        for number in (1, 2, 3)
    ]
    for number, customer in enumerate(customers, start=1):
        assert (await customer.messages())[-1]["text"] == VOUCHER_TEXT.format(
            70, f"BTN-00000{number}"
        )
        assert [a[0] for a in _audit((await detail(site, customer, maya))["audit"])] == [
            "claim", "resolution_requested", "resolution_approved", "resolution_carried_out",
        ]
    assert (await (await site.get("/api/agent/approvals", headers=boss)).json()) == {
        "approvals": []
    }
    again = await site.post(f"/api/agent/approvals/batches/{body['batch_id']}/approve",
                            headers=boss)
    assert (again.status, await again.json()) == (409, {"error": {
        "status": 409, "message": "this request has already been decided",
    }})


async def test_a_batch_above_the_supervisors_limit_is_refused_whole(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222", "CCC333"])
    # 600 in all: above Maya's 200, within a supervisor's 1,000 at once.
    status, body = await bulk(site, maya, action="voucher", amount=200)  # 600
    assert (status, body["needs_approval"]) == (
        201, "3 × 200 EUR is 600 EUR, above your authority of 200 EUR at once"
    )
    boss = await add_agent(site, "Ines", "supervisor")
    # Meanwhile the first customer is given 900 more: with the batch's 200 that
    # conversation would pass a supervisor's cap of 1,000.
    other = await add_agent(site, "Omar", "supervisor")
    claim = await site.post(f"/api/agent/conversations/{customers[0].id}/resolutions",
                            json={"action": "voucher", "amount": 900}, headers=maya)
    assert claim.status == 201
    pending = (await claim.json())["resolution"]["id"]
    approved = await site.post(f"/api/agent/approvals/{pending}/approve", headers=other)
    assert approved.status == 200
    before = await counts(site)

    response = await site.post(
        f"/api/agent/approvals/batches/{body['batch_id']}/approve", headers=boss
    )

    assert (response.status, await response.json()) == (403, {"error": {
        "status": 403,
        "message": "1 of these conversations would pass your authority of 1,000 EUR in one "
        "conversation",
        "conversations": [customers[0].id],
    }})
    assert await counts(site) == before
    for customer in customers[1:]:
        assert (await customer.messages())[-1]["text"] == PENDING_TEXT.format(
            "a travel voucher of 200 EUR for you"
        )
    cards = (await (await site.get("/api/agent/approvals", headers=boss)).json())["approvals"]
    assert [c["id"] for c in cards] == [r["id"] for r in body["resolutions"]]


async def test_a_batch_is_rejected_together_and_each_customer_told(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222"])
    boss = await add_agent(site, "Ines", "supervisor")
    status, body = await bulk(site, maya, action="refund", amount=10)
    assert (status, body["needs_approval"]) == (
        201, "2 × 10 EUR is 20 EUR, above your authority of 0 EUR at once"
    )
    first = body["resolutions"][0]["id"]
    alone = await site.post(f"/api/agent/approvals/{first}/reject", headers=boss)
    assert alone.status == 200  # one may be rejected alone

    response = await site.post(
        f"/api/agent/approvals/batches/{body['batch_id']}/reject",
        json={"reason": "refunds go through the form"}, headers=boss,
    )

    assert response.status == 200
    assert [(r["id"], r["status"]) for r in (await response.json())["resolutions"]] == [
        (body["resolutions"][1]["id"], "rejected"),
    ]
    for customer in customers:
        told = (await customer.messages())[-1]
        assert (told["sender"], told["text"]) == (
            "system", "I'm sorry, a refund of 10 EUR to your original payment method wasn't "
            "approved this time. Maya will go through the other options with you here."
        )


async def test_more_than_anyone_may_approve_is_refused_whole(
    site: TestClient, maya: dict[str, str]
) -> None:
    await waiting(site, ["AAA111", "BBB222", "CCC333"])
    before = await counts(site)

    status, body = await bulk(site, maya, action="voucher", amount=400)  # 1200 > 1000

    assert (status, body) == (403, {"error": {
        "status": 403,
        "message": "3 × 400 EUR is 1,200 EUR, more than anyone may approve at once "
        "(1,000 EUR): act on fewer conversations at a time",
        "total": 1200, "limit": 1000,
    }})
    assert await counts(site) == before


async def test_a_conversation_past_its_own_cap_sends_the_whole_for_approval(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222"])
    claim = await site.post(f"/api/agent/conversations/{customers[0].id}/claim", headers=maya)
    assert claim.status == 200
    one = await site.post(f"/api/agent/conversations/{customers[0].id}/resolutions",
                          json={"action": "voucher", "amount": 180}, headers=maya)
    assert one.status == 201

    status, body = await bulk(site, maya, action="voucher", amount=30)  # 60 in all

    assert (status, body["needs_approval"]) == (
        201, "1 of these conversations would pass your authority of 200 EUR in one "
        "conversation",
    )
    assert [(r["conversation_id"], r["status"]) for r in body["resolutions"]] == [
        (customers[0].id, "pending_approval"), (customers[1].id, "pending_approval"),
    ]


async def test_past_what_anyone_may_give_one_conversation_is_refused_whole(
    site: TestClient, maya: dict[str, str]
) -> None:
    customers = await waiting(site, ["AAA111", "BBB222"])
    boss = await add_agent(site, "Ines", "supervisor")
    claim = await site.post(f"/api/agent/conversations/{customers[0].id}/claim", headers=boss)
    assert claim.status == 200
    one = await site.post(f"/api/agent/conversations/{customers[0].id}/resolutions",
                          json={"action": "voucher", "amount": 990}, headers=boss)
    assert one.status == 201
    before = await counts(site)

    # Ines's bulk action covers the conversation she holds and the waiting one.
    status, body = await bulk(site, boss, action="voucher", amount=20)

    assert (status, body) == (400, {"error": {
        "status": 400,
        "message": "990 EUR has already been given in this conversation ('voucher'): at "
        "most 10 EUR more can be approved here",
        "field": "amount", "given": 990, "remaining": 10,
    }})
    assert await counts(site) == before
    assert (await detail(site, customers[1], maya))["status"] == "waiting"


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


async def test_the_migration_adds_the_batch_in_place_and_keeps_the_rows(
    tmp_path: Path,
) -> None:
    async with one_conversation_at(tmp_path, "0011") as db:
        await db.upgrade()
        assert {"batch_id", "disruption_id"} <= await db.columns("resolutions")
        assert await db.conversation_ids() == ["c1"]
        await db.downgrade("0011")
        assert not {"batch_id", "disruption_id"} & await db.columns("resolutions")
        assert await db.conversation_ids() == ["c1"]
