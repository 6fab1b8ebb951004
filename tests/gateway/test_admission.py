"""A busy Rasa is waited for; only a down one hands customers to people (issue 17, 1)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.conversations.customer_turns import ASK_FOR_PERSON
from handoff.conversations.handoff_notices import EMPATHY, NOBODY_ONLINE

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient
from .fake_rasa import FakeRasa

UNAVAILABLE = f"{EMPATHY['bot_unavailable']} {NOBODY_ONLINE.format(until='')}"


def _metric(text: str, name: str) -> float:
    (value,) = [line.split()[-1] for line in text.splitlines() if line.split(" ")[0] == name]
    return float(value)


async def _customers(client: TestClient, count: int) -> list[Customer]:
    customers = []
    for _ in range(count):
        response = await client.post("/api/conversations")
        assert response.status == 201
        body = await response.json()
        customers.append(Customer(client, body["id"], body["token"]))
    return customers


def _told(body: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    return body["status"], [(m["sender"], m["text"]) for m in body["messages"][1:]]


def _free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


async def test_twenty_customers_at_once_wait_their_turn_and_are_all_answered(
    make_client: MakeClient, rasa: FakeRasa
) -> None:
    client = await make_client(rasa_concurrency=2, rasa_timeout=1)
    rasa.delay = 0.3
    customers = await _customers(client, 20)

    turns = asyncio.gather(*(c.say(f"question {i}") for i, c in enumerate(customers)))
    await asyncio.sleep(0.15)
    during = await (await client.get("/metrics")).text()
    bodies = await turns
    after = await (await client.get("/metrics")).text()

    # Ten rounds of 0.3 s: far past the 1 s timeout, which counts only a turn's own answer.
    assert [_told(body) for body in bodies] == [
        ("bot", [("bot", f"Answer to: question {i}")]) for i in range(20)
    ]
    assert rasa.max_in_flight == 2
    # 0.15 s in, the first two are in flight; how many of the rest have reached the queue
    # by then depends on the machine's load, all 18 on an idle one.
    assert _metric(during, "baton_rasa_in_flight") == 2
    assert 0 < _metric(during, "baton_rasa_waiting") <= 18
    assert [_metric(after, f'baton_bot_turns_total{{outcome="{outcome}"}}')
            for outcome in ("answered", "handoff", "bot_unavailable")] == [20, 0, 0]
    assert _metric(after, "baton_rasa_wait_seconds_count") == 20
    assert (_metric(after, "baton_rasa_waiting"), _metric(after, "baton_rasa_in_flight")) == (0, 0)
    assert client.app is not None
    admission = client.app[keys.RASA]
    assert (admission.in_flight, admission.waiting, admission.down) == (0, 0, None)


async def test_a_refused_connection_hands_off_at_once(make_client: MakeClient) -> None:
    client = await make_client(rasa_url=f"http://127.0.0.1:{_free_port()}")
    (customer,) = await _customers(client, 1)
    loop = asyncio.get_running_loop()

    started = loop.time()
    body = await customer.say("how do I check in")

    assert loop.time() - started < 1
    assert _told(body) == ("waiting", [("system", UNAVAILABLE)])
    metrics = await (await client.get("/metrics")).text()
    assert _metric(metrics, 'baton_bot_turns_total{outcome="bot_unavailable"}') == 1
    assert _metric(metrics, "baton_rasa_down") == 1


async def test_waiting_turns_fail_at_once_when_the_one_in_flight_finds_rasa_down(
    make_client: MakeClient, rasa: FakeRasa
) -> None:
    client = await make_client(rasa_concurrency=1)
    rasa.delay = 0.5
    first, *queued = await _customers(client, 4)
    loop = asyncio.get_running_loop()

    started = loop.time()
    turns = [asyncio.ensure_future(first.say("first"))]
    await asyncio.sleep(0.1)
    turns += [asyncio.ensure_future(c.say("queued")) for c in queued]
    await asyncio.sleep(0.1)
    rasa.broken = True
    bodies = await asyncio.gather(*turns)

    # One answer's time: the queued turns were not each sent to fail on their own.
    assert loop.time() - started < 0.9
    assert [_told(body) for body in bodies] == [("waiting", [("system", UNAVAILABLE)])] * 4
    assert [call["message"] for call in rasa.calls] == ["first"]


async def test_a_turn_waiting_past_its_bound_is_handed_off(
    make_client: MakeClient, rasa: FakeRasa
) -> None:
    client = await make_client(rasa_concurrency=1, rasa_wait=0.2)
    rasa.delay = 0.6
    first, second = await _customers(client, 2)

    answered = asyncio.ensure_future(first.say("first"))
    await asyncio.sleep(0.1)
    waited = await second.say("second")

    assert _told(waited) == ("waiting", [("system", UNAVAILABLE)])
    # The turn in flight was only slow: it is answered.
    assert _told(await answered) == ("bot", [("bot", "Answer to: first")])
    assert [call["message"] for call in rasa.calls] == ["first"]


async def test_after_rasa_is_back_turns_are_answered_again(
    make_client: MakeClient, rasa: FakeRasa
) -> None:
    client = await make_client()
    assert client.app is not None
    admission = client.app[keys.RASA]
    down, meanwhile, later = await _customers(client, 3)
    rasa.broken = True
    assert _told(await down.say("hello")) == ("waiting", [("system", UNAVAILABLE)])

    rasa.broken = False
    # Until its health is asked again, Rasa is taken for down: no turn is sent.
    assert _told(await meanwhile.say("hello")) == ("waiting", [("system", UNAVAILABLE)])
    assert len(rasa.calls) == 0
    for _ in range(30):
        if admission.down is None:
            break
        await asyncio.sleep(0.1)

    assert admission.down is None
    assert _told(await later.say("hello")) == ("bot", [("bot", "Answer to: hello")])


async def test_readiness_seeing_rasa_back_ends_the_refusals_at_once(
    client: TestClient, rasa: FakeRasa
) -> None:
    # The supervisor waits for /readyz after restarting Rasa, then the customers come.
    down, later = await _customers(client, 2)
    rasa.broken = True
    assert _told(await down.say("hello")) == ("waiting", [("system", UNAVAILABLE)])
    assert (await client.get("/readyz")).status == 503

    rasa.broken = False
    assert (await client.get("/readyz")).status == 200

    assert _told(await later.say("hello")) == ("bot", [("bot", "Answer to: hello")])


async def test_asking_for_a_person_while_the_bot_is_busy_hands_off_at_once(
    make_client: MakeClient, rasa: FakeRasa
) -> None:
    client = await make_client(rasa_concurrency=1)
    login = await client.post(
        "/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    )
    agent = {"Authorization": f"Bearer {(await login.json())['token']}"}
    rasa.delay = 1.0
    other, customer = await _customers(client, 2)
    loop = asyncio.get_running_loop()
    busy = asyncio.ensure_future(other.say("first"))
    await asyncio.sleep(0.1)
    waiting = asyncio.ensure_future(customer.say("how do I check in"))
    await asyncio.sleep(0.1)

    started = loop.time()
    asked = await customer.say("Talk to a person", payload=ASK_FOR_PERSON)
    handed = await waiting

    assert loop.time() - started < 0.5
    assert handed["status"] == "waiting"
    assert [(m["sender"], m["text"]) for m in handed["messages"]][0] == (
        "customer", "how do I check in"
    )
    assert [(m["seq"], m["sender"], m["text"]) for m in asked["messages"]] == [
        (len(handed["messages"]) + 1, "customer", "Talk to a person")
    ]
    assert asked["status"] == "waiting"
    detail = await (await client.get(f"/api/agent/conversations/{customer.id}",
                                     headers=agent)).json()
    assert detail["handoff"]["reason"] == "requested"
    # Its turn never reached Rasa: it was taken out of the queue (what reaches Rasa
    # afterwards is the bot reading along, in human mode).
    assert _told(await busy) == ("bot", [("bot", "Answer to: first")])
    assert [call["message"] for call in rasa.calls if call["mode"] == "bot"] == ["first"]
    assert client.app is not None
    assert client.app[keys.WAITING_BOT_TURNS] == {}
