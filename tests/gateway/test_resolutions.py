"""Empowered resolution actions: within the limit at once, above it via a supervisor."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.access.agents import ensure_agent
from handoff.app import create_app
from handoff.agent_tools.fulfilment import Commitment, FulfilmentFailed
from handoff.storage.models import Handoff
from handoff.agent_tools.resolution_actions import ConfigError, load_catalogue, parse_catalogue
from handoff.settings import Settings, default_resolutions_file

from ..shapes_check import CHECK_RESPONSES
from .conftest import Customer
from .fake_rasa import FakeRasa
from .test_sockets import next_event

NOT_A_NUMBER = "'amount' must be a number, such as 50 or 49.90"
VOUCHER_TEXT = (
    "I've issued a travel voucher of {} EUR for you. Your reference is {}; the voucher "
    "arrives by email within 15 minutes."
)
PENDING_TEXT = (
    "I've asked a supervisor to approve {}. Nothing has been changed or charged yet; "
    "I'll tell you here as soon as it's decided."
)


async def login(client: TestClient, email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/agent/login", json={"email": email, "password": password})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def add_agent(client: TestClient, name: str, role: str = "agent") -> dict[str, str]:
    email, password = f"{name.lower()}@example.com", f"pw-{name.lower()}-123"
    await ensure_agent(client.app[keys.SETTINGS].database_url, email, password, name, role)
    return await login(client, email, password)


async def claimed(client: TestClient, headers: dict[str, str], text: str = "a person please") -> Customer:
    body = await (await client.post("/api/conversations")).json()
    customer = Customer(client, body["id"], body["token"])
    await customer.say(text)
    response = await client.post(f"/api/agent/conversations/{customer.id}/claim", headers=headers)
    assert response.status == 200
    return customer


async def act(
    client: TestClient, customer: Customer, headers: dict[str, str], **body: Any
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"/api/agent/conversations/{customer.id}/resolutions", json=body, headers=headers
    )
    return response.status, await response.json()


async def detail(client: TestClient, customer: Customer, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/api/agent/conversations/{customer.id}", headers=headers)
    assert response.status == 200
    return await response.json()


def _without_times(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.endswith("_at")}


def _audit(entries: list[dict[str, Any]]) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(e["action"], e["agent"]["name"] if e["agent"] else None, e["details"]) for e in entries]


async def test_within_the_limit_it_is_done_at_once_and_the_customer_told(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)

    status, body = await act(client, customer, agent_headers, action="voucher", amount=150,
                             note="Two-hour delay")

    assert status == 201
    resolution = body["resolution"]
    assert _without_times(resolution) == {
        "id": 1, "conversation_id": customer.id, "action": "voucher",
        "label": "Issue a travel voucher", "amount": 150, "currency": "EUR", "fields": {},
        "note": "Two-hour delay", "status": "done", "requested_by": {"id": 1, "name": "Maya"},
        "decided_by": None, "decision_reason": None, "reference": "BTN-000001", "failure": None,
    }
    assert resolution["carried_out_at"] is not None and resolution["decided_at"] is None
    [(reference, commitment)] = client.app[keys.FULFILMENT].commitments  # type: ignore[attr-defined]
    assert reference == "BTN-000001"
    assert commitment == Commitment(
        resolution_id=1, action="voucher", amount=Decimal("150"), currency="EUR",
        conversation_id=customer.id, booking_reference=None, flight_number=None,
        requested_by="Maya", approved_by=None, fields={},
    )
    told = (await customer.messages())[-1]
    assert (told["sender"], told["author"], told["text"]) == ("agent", "Maya", VOUCHER_TEXT.format(150, "BTN-000001"))
    assert (await next_event(console, "message"))["message"]["text"] == VOUCHER_TEXT.format(150, "BTN-000001")
    event = await next_event(console, "resolution")
    assert event["resolution"] == resolution

    seen = await detail(client, customer, agent_headers)
    assert seen["resolutions"] == [resolution]
    assert _audit(seen["audit"]) == [
        ("claim", "Maya", {"handoff_id": 1}),
        ("resolution_requested", "Maya", {"resolution_id": 1, "action": "voucher", "amount": 150,
                                          "currency": "EUR", "within_limit": True,
                                          "given_before": 0, "note": "Two-hour delay"}),
        ("resolution_carried_out", "Maya", {"resolution_id": 1, "action": "voucher",
                                            "amount": 150, "currency": "EUR",
                                            "reference": "BTN-000001"}),
    ]
    await console.close()


async def test_an_action_without_an_amount_within_authority(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers, "my flight was cancelled")
    status, body = await act(client, customer, agent_headers, action="waive_change_fee")
    assert status == 201
    assert (body["resolution"]["status"], body["resolution"]["amount"]) == ("done", None)
    assert (await customer.messages())[-1]["text"] == (
        "I've waived the change fee on your booking, so changing your flight costs you "
        "nothing extra. Your reference is BTN-000001."
    )


async def test_above_the_limit_a_supervisor_approves_then_it_is_done(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    supervisor = await add_agent(client, "Ines", "supervisor")
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)

    status, body = await act(client, customer, agent_headers, action="refund", amount=1250.5)

    assert status == 201
    pending = body["resolution"]
    assert (pending["status"], pending["amount"], pending["reference"]) == (
        "pending_approval", 1250.5, None,
    )
    told = (await customer.messages())[-1]
    assert (told["sender"], told["text"]) == ("agent", PENDING_TEXT.format(
        "a refund of 1,250.50 EUR to your original payment method"
    ))
    assert client.app[keys.FULFILMENT].commitments == []  # type: ignore[attr-defined]
    assert (await next_event(console, "resolution"))["resolution"] == pending

    refused = await client.get("/api/agent/approvals", headers=agent_headers)
    assert refused.status == 403
    by_agent = await client.post(f"/api/agent/approvals/{pending['id']}/approve", headers=agent_headers)
    assert by_agent.status == 403
    waiting = (await (await client.get("/api/agent/approvals", headers=supervisor)).json())
    assert [{k: a[k] for k in pending} for a in waiting["approvals"]] == [pending]

    approved = await client.post(
        f"/api/agent/approvals/{pending['id']}/approve", json={"reason": "Long delay"},
        headers=supervisor,
    )

    assert approved.status == 200
    done = (await approved.json())["resolution"]
    assert (done["status"], done["decided_by"]["name"], done["decision_reason"], done["reference"]) == (
        "done", "Ines", "Long delay", "BTN-000001",
    )
    [(_, commitment)] = client.app[keys.FULFILMENT].commitments  # type: ignore[attr-defined]
    assert (commitment.amount, commitment.requested_by, commitment.approved_by) == (
        Decimal("1250.5"), "Maya", "Ines",
    )
    told = (await customer.messages())[-1]
    assert (told["sender"], told["author"], told["text"]) == (
        "agent", "Maya",
        "I've refunded 1,250.50 EUR to your original payment method. Your reference is "
        "BTN-000001; it shows on your statement within 5 to 10 working days.",
    )
    assert (await next_event(console, "resolution"))["resolution"] == done
    assert await (await client.get("/api/agent/approvals", headers=supervisor)).json() == {
        "approvals": []
    }
    again = await client.post(f"/api/agent/approvals/{pending['id']}/approve", headers=supervisor)
    assert again.status == 409
    assert (await again.json())["error"]["resolution_status"] == "done"
    assert [e["action"] for e in (await detail(client, customer, agent_headers))["audit"]] == [
        "claim", "resolution_requested", "resolution_approved", "resolution_carried_out",
    ]
    await console.close()


async def test_a_rejection_tells_the_agent_and_promises_the_customer_nothing(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    supervisor = await add_agent(client, "Ines", "supervisor")
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    _, body = await act(client, customer, agent_headers, action="voucher", amount=500)
    pending = body["resolution"]
    transcript = await customer.messages()
    await next_event(console, "resolution")

    rejected = await client.post(
        f"/api/agent/approvals/{pending['id']}/reject", json={"reason": "Offer 200 instead"},
        headers=supervisor,
    )

    assert rejected.status == 200
    resolution = (await rejected.json())["resolution"]
    assert (resolution["status"], resolution["decided_by"], resolution["decision_reason"]) == (
        "rejected", {"id": 2, "name": "Ines"}, "Offer 200 instead",
    )
    event = await next_event(console, "resolution")
    assert (event["conversation_id"], event["resolution"]) == (customer.id, resolution)
    told = (await customer.messages())[len(transcript):]
    assert [(m["sender"], m["text"]) for m in told] == [
        ("system", "I'm sorry, a travel voucher of 500 EUR for you wasn't approved this time. "
                   "Maya will go through the other options with you here."),
    ]
    assert client.app[keys.FULFILMENT].commitments == []  # type: ignore[attr-defined]
    late = await client.post(f"/api/agent/approvals/{pending['id']}/approve", headers=supervisor)
    assert late.status == 409
    assert _audit((await detail(client, customer, agent_headers))["audit"])[-1] == (
        "resolution_rejected", "Ines",
        {"resolution_id": 1, "action": "voucher", "amount": 500, "currency": "EUR",
         "reason": "Offer 200 instead"},
    )
    await console.close()


async def test_a_supervisor_acts_at_once_up_to_their_own_limit(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    customer = await claimed(client, supervisor)
    _, body = await act(client, customer, supervisor, action="voucher", amount=800)
    assert body["resolution"]["status"] == "done"
    _, body = await act(client, customer, supervisor, action="refund", amount=2000)
    assert body["resolution"]["status"] == "done"


async def test_nobody_approves_their_own_request_or_an_unknown_one(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    customer = await claimed(client, agent_headers)
    _, body = await act(client, customer, agent_headers, action="voucher", amount=300)
    await ensure_agent(client.app[keys.SETTINGS].database_url, "maya@example.com",
                       "correct horse battery staple", "Maya", "supervisor")
    own = await client.post(f"/api/agent/approvals/{body['resolution']['id']}/approve",
                            headers=agent_headers)
    assert own.status == 403
    assert (await own.json())["error"]["message"] == "you cannot approve your own request"
    for path in ("/api/agent/approvals/99/approve", "/api/agent/approvals/x/reject"):
        assert (await client.post(path, headers=supervisor)).status == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "teleport"}, "unknown action; one of: rebook_next_flight, waive_change_fee, "
                                 "voucher, hotel_night, refund"),
        ({}, "unknown action; one of: rebook_next_flight, waive_change_fee, voucher, "
             "hotel_night, refund"),
        ({"action": "voucher"}, "'amount' is required for 'voucher'"),
        ({"action": "voucher", "amount": None}, "'amount' is required for 'voucher'"),
        ({"action": "voucher", "amount": -5}, "'amount' must be more than 0"),
        ({"action": "voucher", "amount": -0.01}, "'amount' must be more than 0"),
        ({"action": "voucher", "amount": 0}, "'amount' must be more than 0"),
        ({"action": "voucher", "amount": 0.0}, "'amount' must be more than 0"),
        ({"action": "voucher", "amount": "100"}, NOT_A_NUMBER),
        ({"action": "voucher", "amount": "fifty"}, NOT_A_NUMBER),
        ({"action": "voucher", "amount": True}, NOT_A_NUMBER),
        ({"action": "voucher", "amount": False}, NOT_A_NUMBER),
        ({"action": "voucher", "amount": [50]}, NOT_A_NUMBER),
        ({"action": "voucher", "amount": {"value": 50}}, NOT_A_NUMBER),
        ({"action": "voucher", "amount": 10.005}, "'amount' must have at most two decimals (cents)"),
        ({"action": "voucher", "amount": 0.001}, "'amount' must have at most two decimals (cents)"),
        ({"action": "voucher", "amount": 0.1 + 0.2}, "'amount' must have at most two decimals (cents)"),
        ({"action": "voucher", "amount": 1e30}, "'amount' must be below 1,000,000"),
        ({"action": "voucher", "amount": 10**30}, "'amount' must be below 1,000,000"),
        ({"action": "voucher", "amount": 1000000}, "'amount' must be below 1,000,000"),
        ({"action": "voucher", "amount": 1500}, "nobody may approve more than 1,000 EUR for 'voucher'"),
        ({"action": "voucher", "amount": 1000.01},
         "nobody may approve more than 1,000 EUR for 'voucher'"),
        ({"action": "waive_change_fee", "amount": 50}, "'waive_change_fee' takes no amount"),
        # What the action does not decide: the shape's own fields, after the action's.
        ({"action": "voucher", "amount": 50, "note": 5}, "'note' must be a string"),
        ({"action": "voucher", "amount": 50, "note": "a\x00b"}, "'note' must not contain NUL"),
        ({"action": "voucher", "amount": 50, "given_by": "Maya"},
         "unknown field 'given_by'; the fields are action, amount, fields, note"),
        ({"action": "teleport", "given_by": "Maya"},
         "unknown action; one of: rebook_next_flight, waive_change_fee, voucher, "
         "hotel_night, refund"),
    ],
)
async def test_bad_input_is_a_clear_400(
    client: TestClient, agent_headers: dict[str, str], body: dict[str, Any], message: str
) -> None:
    customer = await claimed(client, agent_headers)
    transcript = await customer.messages()
    status, answer = await act(client, customer, agent_headers, **body)
    assert (status, answer["error"]["message"]) == (400, message)
    await _nothing_stored(client, customer, agent_headers, transcript)


async def _nothing_stored(
    client: TestClient, customer: Customer, headers: dict[str, str],
    transcript: list[dict[str, Any]],
) -> None:
    seen = await detail(client, customer, headers)
    assert seen["resolutions"] == []
    assert [e["action"] for e in seen["audit"]] == ["claim"]
    assert await customer.messages() == transcript
    assert client.app[keys.FULFILMENT].commitments == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
async def test_a_non_finite_amount_is_refused(
    client: TestClient, agent_headers: dict[str, str], raw: str
) -> None:
    customer = await claimed(client, agent_headers)
    transcript = await customer.messages()
    response = await client.post(
        f"/api/agent/conversations/{customer.id}/resolutions",
        data='{"action": "voucher", "amount": %s}' % raw, headers=agent_headers,
    )
    assert response.status == 400
    assert (await response.json())["error"]["message"] == NOT_A_NUMBER
    await _nothing_stored(client, customer, agent_headers, transcript)


async def test_only_the_agent_holding_the_conversation_may_act(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await customer.say("a person please")
    waiting, _ = await act(client, customer, agent_headers, action="voucher", amount=50)
    assert waiting == 409
    await client.post(f"/api/agent/conversations/{customer.id}/claim", headers=agent_headers)
    sam = await add_agent(client, "Sam")
    transcript = await customer.messages()
    status, body = await act(client, customer, sam, action="voucher", amount=50)
    assert (status, body["error"]["message"]) == (
        403, "Maya has this conversation; only they may act on it",
    )
    ines = await add_agent(client, "Ines", "supervisor")
    status, body = await act(client, customer, ines, action="voucher", amount=50)
    assert (status, body["error"]["message"]) == (
        403, "Maya has this conversation; only they may act on it",
    )
    await _nothing_stored(client, customer, agent_headers, transcript)
    missing = await client.post("/api/agent/conversations/nope/resolutions",
                                json={"action": "voucher", "amount": 5}, headers=agent_headers)
    assert missing.status == 404


class Refusing:
    async def carry_out(self, commitment: Commitment) -> str:
        raise FulfilmentFailed("the payment system refused: booking ABC123 is already refunded")


async def _refused(
    aiohttp_client: Any, fake_rasa: tuple[FakeRasa, str], database_url: str,
) -> tuple[TestClient, dict[str, str], Customer]:
    """A gateway whose booking system refuses everything, with Maya holding a conversation."""
    settings = Settings(database_url=database_url, rasa_url=fake_rasa[1], actions_url=fake_rasa[1])
    app = create_app(settings)
    app[keys.FULFILMENT] = Refusing()
    client = await aiohttp_client(app, middlewares=CHECK_RESPONSES)
    headers = await login(client, "maya@example.com", "correct horse battery staple")
    return client, headers, await claimed(client, headers)


async def test_when_the_booking_system_fails_nothing_is_promised(
    aiohttp_client: Any, fake_rasa: tuple[FakeRasa, str], database_url: str,
) -> None:
    client, headers, customer = await _refused(aiohttp_client, fake_rasa, database_url)
    transcript = await customer.messages()

    status, body = await act(client, customer, headers, action="voucher", amount=100)

    assert status == 201
    assert (body["resolution"]["status"], body["resolution"]["failure"]) == (
        "failed", "the payment system refused: booking ABC123 is already refunded",
    )
    assert await customer.messages() == transcript
    assert _audit((await detail(client, customer, headers))["audit"])[-1] == (
        "resolution_failed", "Maya",
        {"resolution_id": 1, "action": "voucher", "amount": 100, "currency": "EUR",
         "failure": "the payment system refused: booking ABC123 is already refunded"},
    )


async def test_the_list_shows_each_role_its_own_authority(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    for headers, role, limits in (
        (agent_headers, "agent", {"voucher": (200, True), "refund": (0, False),
                                  "rebook_next_flight": (None, True)}),
        (supervisor, "supervisor", {"voucher": (1000, True), "refund": (2000, True),
                                    "rebook_next_flight": (None, True)}),
    ):
        body = await (await client.get("/api/agent/resolutions", headers=headers)).json()
        assert body["role"] == role
        actions = {a["id"]: a for a in body["actions"]}
        assert {k: (actions[k]["limit"], actions[k]["immediate"]) for k in limits} == limits
    assert actions["voucher"] == {
        "id": "voucher", "label": "Issue a travel voucher", "takes_amount": True,
        "currency": "EUR", "limit": 1000, "per_conversation": 1000, "max_amount": 1000,
        "immediate": True, "fields": [],
    }


def test_the_shipped_file_loads_and_the_path_comes_from_the_environment(tmp_path: Path) -> None:
    catalogue = load_catalogue(default_resolutions_file())
    assert list(catalogue.actions) == [
        "rebook_next_flight", "waive_change_fee", "voucher", "hotel_night", "refund",
    ]
    assert catalogue.actions["refund"].limits == {"agent": 0, "supervisor": 200000}
    custom = tmp_path / "actions.json"
    assert Settings.from_env({"BATON_RESOLUTIONS_FILE": str(custom)}).resolutions_file == custom
    assert Settings.from_env({}).resolutions_file == default_resolutions_file()


def _config(**action: Any) -> dict[str, Any]:
    base = {"id": "voucher", "label": "Voucher", "takes_amount": True,
            "limits": {"agent": 100}, "customer_phrase": "a voucher of {amount} {currency}",
            "customer_text": "Done: {amount} {currency}, reference {reference}."}
    return {"currency": "EUR", "actions": [{**base, **action}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the file must be an object with an 'actions' list"),
        (_config(limits={"agent": -1}), "action 'voucher': a limit must be 0 or more, in cents at most"),
        (_config(limits={"agent": "lots"}), "action 'voucher': a limit must be an amount"),
        (_config(limits={"manager": 5}),
         "action 'voucher': unknown roles ['manager']; roles are ['agent', 'supervisor']"),
        (_config(limits={"agent": 0}), "action 'voucher': no role may carry it out or approve it"),
        (_config(takes_amount=False, limits={"agent": 5}),
         "action 'voucher': a limit must be true or false (the action has no amount)"),
        (_config(customer_text="{amout} {reference}"),
         "action 'voucher': customer_text: bad placeholder in text: {amout}; use {amount}, "
         "{currency}, {what}, {reference}"),
        (_config(customer_text="I've issued {label}: {reference}."),
         "action 'voucher': customer_text: bad placeholder in text: {label}; use {amount}, "
         "{currency}, {what}, {reference}"),
        (_config(customer_text="I've issued {what}."),
         "action 'voucher': customer_text: the text must give the customer {reference}"),
        (_config(customer_phrase="{label}"),
         "action 'voucher': customer_phrase: bad placeholder in text: {label}; use {amount}, "
         "{currency}"),
        (_config(customer_phrase=""), "action 'voucher': 'customer_phrase' must be a non-empty string"),
        (_config(takes_amount=False, limits={"agent": True}, customer_phrase="{amount}"),
         "action 'voucher': customer_phrase: bad placeholder in text: {amount}; it may use none"),
        (_config(per_conversation={"agent": -5}),
         "action 'voucher': a limit must be 0 or more, in cents at most"),
        (_config(per_conversation={"boss": 5}),
         "action 'voucher': unknown roles ['boss']; roles are ['agent', 'supervisor']"),
        (_config(takes_amount=False, limits={"agent": True}, per_conversation={"agent": 5}),
         "action 'voucher': 'per_conversation' is for actions with an amount"),
        (_config(fields={"flight": "flight_number"}), "action 'voucher': 'fields' must be a list"),
        (_config(fields=[{"id": "flight", "label": "Flight", "type": "text"}]),
         "action 'voucher': fields[0]: 'type' must be one of ['flight_number', 'datetime']"),
        (_config(fields=[{"id": "amount", "label": "Flight", "type": "flight_number"}]),
         "action 'voucher': fields[0]: the id 'amount' must be a lower-case name that no text "
         "placeholder uses"),
        (_config(fields=[{"id": "flight", "label": "Flight", "type": "flight_number"}] * 2),
         "action 'voucher': fields[1]: the id 'flight' is used twice"),
        ({**_config(), "pending_text": "Asking about {label}."},
         "pending_text: bad placeholder in text: {label}; use {amount}, {currency}, {what}"),
        ({**_config(), "rejected_text": "No to {what}, {reference}."},
         "rejected_text: bad placeholder in text: {reference}; use {amount}, {currency}, "
         "{what}, {agent}"),
        (_config(label=""), "action 'voucher': 'label' must be a non-empty string"),
        ({"actions": [_config()["actions"][0]]},
         "action 'voucher': an action with an amount needs a currency"),
        ({"currency": "EUR", "actions": [_config()["actions"][0]] * 2},
         "action 'voucher': the id is used twice"),
    ],
)
def test_a_broken_configuration_is_refused_with_a_clear_message(data: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_catalogue(data)
    assert str(error.value) == message


async def test_the_gateway_will_not_start_on_a_broken_file(
    aiohttp_client: Any, fake_rasa: tuple[FakeRasa, str], database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "actions.json"
    broken.write_text(json.dumps(_config(limits={"agent": -1})))
    settings = Settings(database_url=database_url, rasa_url=fake_rasa[1], actions_url=fake_rasa[1])
    with pytest.raises(ConfigError, match="a limit must be 0 or more"):
        await aiohttp_client(create_app(replace(settings, resolutions_file=broken)))


def _committed(client: TestClient) -> list[tuple[str, str, Decimal | None]]:
    return [
        (reference, c.action, c.amount)
        for reference, c in client.app[keys.FULFILMENT].commitments  # type: ignore[attr-defined]
    ]


async def test_an_agent_cannot_split_past_their_authority_in_one_conversation(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    """The issue's 170 + 170 + 170 by an agent whose voucher limit is 200."""
    customer = await claimed(client, agent_headers)
    supervisor = await add_agent(client, "Ines", "supervisor")

    statuses = []
    for _ in range(3):
        status, body = await act(client, customer, agent_headers, action="voucher", amount=170)
        assert status == 201
        statuses.append(body["resolution"]["status"])

    assert statuses == ["done", "pending_approval", "pending_approval"]
    assert _committed(client) == [("BTN-000001", "voucher", Decimal("170"))]
    told = [m["text"] for m in (await customer.messages()) if m["sender"] == "agent"]
    assert told == [VOUCHER_TEXT.format(170, "BTN-000001")] + [
        PENDING_TEXT.format("a travel voucher of 170 EUR for you")
    ] * 2
    requested = [e["details"] for e in (await detail(client, customer, agent_headers))["audit"]
                 if e["action"] == "resolution_requested"]
    assert [(d["within_limit"], d["given_before"]) for d in requested] == [
        (True, 0), (False, 170), (False, 170),
    ]
    # A supervisor may give more in the conversation: 170 + 170 is within their 1,000.
    approved = await client.post("/api/agent/approvals/2/approve", headers=supervisor)
    assert approved.status == 200
    assert (await approved.json())["resolution"]["status"] == "done"
    assert _committed(client)[-1] == ("BTN-000002", "voucher", Decimal("170"))


async def test_a_second_small_one_is_still_done_at_once_within_the_cap(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    _, first = await act(client, customer, agent_headers, action="voucher", amount=120)
    _, second = await act(client, customer, agent_headers, action="voucher", amount=80)
    _, third = await act(client, customer, agent_headers, action="voucher", amount=0.01)
    assert [r["resolution"]["status"] for r in (first, second, third)] == [
        "done", "done", "pending_approval",
    ]
    # Other conversations and other actions have their own room.
    _, hotel = await act(client, customer, agent_headers, action="hotel_night", amount=150)
    other = await claimed(client, agent_headers)
    _, elsewhere = await act(client, other, agent_headers, action="voucher", amount=200)
    assert (hotel["resolution"]["status"], elsewhere["resolution"]["status"]) == ("done", "done")


async def test_a_failed_or_rejected_one_gives_nothing_and_leaves_the_room(
    aiohttp_client: Any, fake_rasa: tuple[FakeRasa, str], database_url: str,
) -> None:
    client, headers, customer = await _refused(aiohttp_client, fake_rasa, database_url)
    _, failed = await act(client, customer, headers, action="voucher", amount=200)
    _, again = await act(client, customer, headers, action="voucher", amount=200)
    assert [r["resolution"]["status"] for r in (failed, again)] == ["failed", "failed"]
    requested = [e["details"]["within_limit"]
                 for e in (await detail(client, customer, headers))["audit"]
                 if e["action"] == "resolution_requested"]
    assert requested == [True, True]


async def test_what_nobody_could_approve_in_the_conversation_is_refused(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    customer = await claimed(client, supervisor)
    _, body = await act(client, customer, supervisor, action="voucher", amount=800)
    assert body["resolution"]["status"] == "done"
    transcript = await customer.messages()

    status, refused = await act(client, customer, supervisor, action="voucher", amount=300)

    assert status == 400
    assert refused["error"] == {
        "status": 400,
        "message": "800 EUR has already been given in this conversation ('voucher'): at most "
                   "200 EUR more can be approved here",
        "field": "amount", "given": 800, "remaining": 200,
    }
    assert await customer.messages() == transcript
    assert len((await detail(client, customer, supervisor))["resolutions"]) == 1
    _, body = await act(client, customer, supervisor, action="voucher", amount=200)
    assert body["resolution"]["status"] == "done"
    status, refused = await act(client, customer, supervisor, action="voucher", amount=0.5)
    assert (status, refused["error"]["message"]) == (
        400, "1,000 EUR has already been given in this conversation ('voucher'): no more can "
             "be approved here",
    )
    assert _committed(client) == [
        ("BTN-000001", "voucher", Decimal("800")), ("BTN-000002", "voucher", Decimal("200")),
    ]


async def test_a_supervisor_cannot_approve_past_their_cap_in_the_conversation(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    supervisor = await add_agent(client, "Ines", "supervisor")
    _, first = await act(client, customer, agent_headers, action="voucher", amount=600)
    _, second = await act(client, customer, agent_headers, action="voucher", amount=600)
    assert [r["resolution"]["status"] for r in (first, second)] == ["pending_approval"] * 2

    ok = await client.post("/api/agent/approvals/1/approve", headers=supervisor)
    assert (await ok.json())["resolution"]["status"] == "done"
    refused = await client.post("/api/agent/approvals/2/approve", headers=supervisor)

    assert refused.status == 403
    assert (await refused.json())["error"] == {
        "status": 403,
        "message": "this is above your authority: 1,000 EUR at once, 1,000 EUR in one "
                   "conversation, which has already had 600 EUR",
        "given": 600, "remaining": 400,
    }
    waiting = (await (await client.get("/api/agent/approvals", headers=supervisor)).json())
    assert [(a["id"], a["status"]) for a in waiting["approvals"]] == [(2, "pending_approval")]
    assert _committed(client) == [("BTN-000001", "voucher", Decimal("600"))]
    rejected = await client.post("/api/agent/approvals/2/reject", headers=supervisor)
    assert (await rejected.json())["resolution"]["status"] == "rejected"


async def test_parallel_requests_cannot_slip_past_the_cap_together(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)

    answers = await asyncio.gather(
        *(act(client, customer, agent_headers, action="voucher", amount=90) for _ in range(5))
    )

    assert [status for status, _ in answers] == [201] * 5
    statuses = sorted(body["resolution"]["status"] for _, body in answers)
    assert statuses == ["done", "done", "pending_approval", "pending_approval", "pending_approval"]
    assert sorted(_committed(client)) == [
        ("BTN-%06d" % r["resolution"]["id"], "voucher", Decimal("90"))
        for _, r in sorted(answers, key=lambda a: a[1]["resolution"]["id"])
        if r["resolution"]["status"] == "done"
    ]
    seen = await detail(client, customer, agent_headers)
    assert sum(r["amount"] for r in seen["resolutions"] if r["status"] == "done") == 180


async def test_two_approvals_of_one_request_at_once_carry_it_out_once(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    ines = await add_agent(client, "Ines", "supervisor")
    omar = await add_agent(client, "Omar", "supervisor")
    _, body = await act(client, customer, agent_headers, action="refund", amount=400)
    url = f"/api/agent/approvals/{body['resolution']['id']}/approve"

    answers = await asyncio.gather(
        client.post(url, headers=ines), client.post(url, headers=omar),
        client.post(url, headers=ines),
    )

    assert sorted(a.status for a in answers) == [200, 409, 409]
    assert _committed(client) == [("BTN-000001", "refund", Decimal("400"))]
    told = [m["text"] for m in await customer.messages() if m["text"].startswith("I've refunded")]
    assert len(told) == 1
    actions = [e["action"] for e in (await detail(client, customer, agent_headers))["audit"]]
    assert actions == ["claim", "resolution_requested", "resolution_approved",
                       "resolution_carried_out"]


async def test_an_approval_and_a_rejection_at_once_do_one_of_them(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    ines = await add_agent(client, "Ines", "supervisor")
    omar = await add_agent(client, "Omar", "supervisor")
    _, body = await act(client, customer, agent_headers, action="refund", amount=400)
    base = f"/api/agent/approvals/{body['resolution']['id']}"

    approve, reject = await asyncio.gather(
        client.post(f"{base}/approve", headers=ines), client.post(f"{base}/reject", headers=omar),
    )

    assert sorted((approve.status, reject.status)) == [200, 409]
    final = (await detail(client, customer, agent_headers))["resolutions"][0]["status"]
    assert final == ("done" if approve.status == 200 else "rejected")
    assert len(_committed(client)) == (1 if approve.status == 200 else 0)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/agent/approvals", None),
        ("POST", "/api/agent/approvals/1/approve", None),
        ("POST", "/api/agent/approvals/1/reject", {"reason": "no"}),
        ("GET", "/api/agent/audit", None),
        ("POST", "/api/agent/canned", {"shortcut": "/x", "title": "X", "text": "x"}),
        ("PATCH", "/api/agent/canned/1", {"title": "Y"}),
        ("DELETE", "/api/agent/canned/1", None),
    ],
)
async def test_supervisors_endpoints_refuse_agents(
    client: TestClient, agent_headers: dict[str, str], method: str, path: str,
    body: dict[str, Any] | None,
) -> None:
    customer = await claimed(client, agent_headers)
    _, asked = await act(client, customer, agent_headers, action="refund", amount=50)
    supervisor = await add_agent(client, "Ines", "supervisor")
    made = await client.post("/api/agent/canned", headers=supervisor,
                             json={"shortcut": "/bags", "title": "Bags", "text": "One bag."})
    assert made.status == 201
    sam = await add_agent(client, "Sam")

    for headers in (agent_headers, sam):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status == 403
        assert (await response.json())["error"]["message"] == "only a supervisor may do this"

    seen = await detail(client, customer, agent_headers)
    assert [r["status"] for r in seen["resolutions"]] == [asked["resolution"]["status"]]
    assert asked["resolution"]["status"] == "pending_approval"
    canned = await (await client.get("/api/agent/canned", headers=agent_headers)).json()
    assert [(c["shortcut"], c["title"]) for c in canned["canned"]] == [("/bags", "Bags")]


def _departure(days: int, time: str = "09:40") -> tuple[str, str]:
    """A departure `days` from today: as the console sends it, and as the customer reads it."""
    day = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=days)
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    return f"{day.isoformat()}T{time}", f"{day.day} {months[day.month - 1]} at {time}"


async def test_a_rebooking_tells_the_customer_the_flight_time_and_reference(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers, "my flight was cancelled")
    sent, told_as = _departure(1)

    status, body = await act(client, customer, agent_headers, action="rebook_next_flight",
                             fields={"flight": "ba 119", "departure": sent})

    assert status == 201
    resolution = body["resolution"]
    assert (resolution["status"], resolution["fields"], resolution["reference"]) == (
        "done", {"flight": "BA119", "departure": sent}, "BTN-000001",
    )
    told = (await customer.messages())[-1]
    assert (told["sender"], told["author"], told["text"]) == (
        "agent", "Maya",
        f"I've rebooked you on BA119, departing {told_as}, at no cost. Your reference is "
        "BTN-000001; your new e-ticket arrives by email within 15 minutes.",
    )
    [(_, commitment)] = client.app[keys.FULFILMENT].commitments  # type: ignore[attr-defined]
    assert commitment.fields == {"flight": "BA119", "departure": sent}
    audit = _audit((await detail(client, customer, agent_headers))["audit"])
    assert audit[-1] == (
        "resolution_carried_out", "Maya",
        {"resolution_id": 1, "action": "rebook_next_flight", "amount": None, "currency": None,
         "fields": {"flight": "BA119", "departure": sent}, "reference": "BTN-000001"},
    )
    listed = await (await client.get("/api/agent/resolutions", headers=agent_headers)).json()
    assert {a["id"]: a["fields"] for a in listed["actions"]}["rebook_next_flight"] == [
        {"id": "flight", "label": "New flight number", "type": "flight_number"},
        {"id": "departure", "label": "Departure (local time)", "type": "datetime"},
    ]


FLIGHT = "'fields.flight' (New flight number)"
DEPARTS = "'fields.departure' (Departure (local time))"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (None, f"{FLIGHT} is required"),
        ({}, f"{FLIGHT} is required"),
        ({"flight": "BA119"}, f"{DEPARTS} is required"),
        ({"flight": "", "departure": "tomorrow"}, f"{FLIGHT} is required"),
        ({"flight": "BA 119"}, f"{DEPARTS} is required"),
        ({"flight": "119", "departure": "D+1"}, f"{FLIGHT} must be a flight number such as BA119"),
        ({"flight": "BAW1192", "departure": "D+1"},
         f"{FLIGHT} must be a flight number such as BA119"),
        ({"flight": "12345", "departure": "D+1"}, f"{FLIGHT} must be a flight number such as BA119"),
        ({"flight": 119, "departure": "D+1"}, f"{FLIGHT} must be a short text"),
        ({"flight": "BA119", "departure": "tomorrow morning"},
         f"{DEPARTS} must be a date and time, as YYYY-MM-DDTHH:MM"),
        ({"flight": "BA119", "departure": "2026-13-04T09:40"},
         f"{DEPARTS} must be a date and time, as YYYY-MM-DDTHH:MM"),
        ({"flight": "BA119", "departure": "D+1Z"},
         f"{DEPARTS} is the local time of departure, without a time zone, as YYYY-MM-DDTHH:MM"),
        ({"flight": "BA119", "departure": "D-3"}, f"{DEPARTS} must be from today to a year ahead"),
        ({"flight": "BA119", "departure": "D+400"},
         f"{DEPARTS} must be from today to a year ahead"),
        ({"flight": "BA119", "departure": "D+1", "seat": "12A"},
         "'rebook_next_flight' has no field seat; it takes flight, departure"),
        ("BA119", "'fields' must be an object"),
    ],
)
async def test_a_rebooking_needs_a_valid_flight_and_departure(
    client: TestClient, agent_headers: dict[str, str], fields: Any, message: str
) -> None:
    customer = await claimed(client, agent_headers, "my flight was cancelled")
    transcript = await customer.messages()
    if isinstance(fields, dict) and str(fields.get("departure", "")).startswith("D"):
        raw = fields["departure"]
        days = int(raw[1:].rstrip("Z"))
        fields = {**fields, "departure": _departure(days)[0] + ("Z" if raw.endswith("Z") else "")}
    body: dict[str, Any] = {"action": "rebook_next_flight"}
    if fields is not None:
        body["fields"] = fields
    status, answer = await act(client, customer, agent_headers, **body)
    assert (status, answer["error"]["message"]) == (400, message)
    await _nothing_stored(client, customer, agent_headers, transcript)


async def test_an_action_without_fields_takes_none(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    status, answer = await act(client, customer, agent_headers, action="voucher", amount=20,
                               fields={"flight": "BA119"})
    assert (status, answer["error"]["message"]) == (
        400, "'voucher' has no field flight; it takes none",
    )


async def test_the_customer_never_reads_the_agents_label(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    """The issue's "I've asked a supervisor to approve this for you: Issue a travel
    voucher of 500 EUR.": every customer text says it in their words, with the reference."""
    customer = await claimed(client, agent_headers)
    supervisor = await add_agent(client, "Ines", "supervisor")
    before = len(await customer.messages())
    _, pending = await act(client, customer, agent_headers, action="voucher", amount=500)
    _, hotel = await act(client, customer, agent_headers, action="hotel_night", amount=180)
    await client.post(f"/api/agent/approvals/{pending['resolution']['id']}/approve",
                      headers=supervisor)
    await client.post(f"/api/agent/approvals/{hotel['resolution']['id']}/reject",
                      headers=supervisor)

    told = [(m["sender"], m["text"]) for m in (await customer.messages())[before:]]
    assert told == [
        ("agent", PENDING_TEXT.format("a travel voucher of 500 EUR for you")),
        ("agent", PENDING_TEXT.format("a hotel night for you, paid up to 180 EUR")),
        ("agent", VOUCHER_TEXT.format(500, "BTN-000001")),
        ("system", "I'm sorry, a hotel night for you, paid up to 180 EUR wasn't approved this "
                   "time. Maya will go through the other options with you here."),
    ]
    labels = [a.label for a in client.app[keys.RESOLUTIONS].actions.values()]
    assert not [text for _, text in told for label in labels if label in text]


async def test_the_approval_card_shows_the_booking_reason_and_what_was_given(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers, "my flight was cancelled")
    async with client.app[keys.DB].write() as db:
        handoff = await db.get(Handoff, 1)
        assert handoff is not None
        # What the bot read from the customer's messages before the handoff.
        handoff.context = {**handoff.context, "booking_reference": "ABC123",
                           "flight_number": "BA117"}
    supervisor = await add_agent(client, "Ines", "supervisor")
    sent, _ = _departure(2, "07:15")
    await act(client, customer, agent_headers, action="voucher", amount=170)
    await act(client, customer, agent_headers, action="rebook_next_flight",
              fields={"flight": "BA119", "departure": sent})
    _, asked = await act(client, customer, agent_headers, action="voucher", amount=170,
                         note="Second delay this week")
    other = await claimed(client, agent_headers)
    _, refund = await act(client, other, agent_headers, action="refund", amount=80)

    body = await (await client.get("/api/agent/approvals", headers=supervisor)).json()

    first, second = body["approvals"]
    assert _without_times(first) == {
        **_without_times(asked["resolution"]),
        "conversation": {"reason": "disruption", "disruption": "cancelled",
                         "booking_reference": "ABC123", "flight_number": "BA117",
                         "customer_name": None},
        "given": {
            "amount": 170, "currency": "EUR",
            "items": [
                {"id": 1, "action": "voucher", "label": "Issue a travel voucher", "amount": 170,
                 "currency": "EUR", "fields": {}, "status": "done", "reference": "BTN-000001"},
                {"id": 2, "action": "rebook_next_flight", "label": "Rebook on the next flight",
                 "amount": None, "currency": None,
                 "fields": {"flight": "BA119", "departure": sent}, "status": "done",
                 "reference": "BTN-000002"},
            ],
        },
        "authority": {"limit": 1000, "per_conversation": 1000, "remaining": 830},
        "batch": None,
    }
    assert first["requested_by"] == {"id": 1, "name": "Maya"}
    assert (first["amount"], first["note"]) == (170, "Second delay this week")
    assert (second["id"], second["conversation"]["reason"], second["given"], second["authority"]) == (
        refund["resolution"]["id"], "requested", {"amount": 0, "currency": "EUR", "items": []},
        {"limit": 2000, "per_conversation": 2000, "remaining": 2000},
    )
