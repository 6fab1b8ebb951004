from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.live.publisher import Publisher
from handoff.storage.models import Handoff, Conversation, Message, utcnow
from handoff.routing.queue import estimate, handoff_priority
from handoff.live.sockets import SocketRegistry
from handoff.web.views import customer as customer_views

from .conftest import Customer, MakeClient
from .test_sockets import next_event


async def new_customer(client: TestClient) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    return Customer(client, body["id"], body["token"])


async def past_handoffs(client: TestClient, waited: dt.timedelta) -> None:
    """Three handoffs resolved an hour ago, each claimed after `waited`: the wait history."""
    async with client.app[keys.DB].write() as db:
        for index in range(3):
            conversation = Conversation(id=f"old{index}", token_hash="x", status="bot", last_seq=0)
            db.add(conversation)
            await db.flush()
            claimed = utcnow() - dt.timedelta(hours=1)
            db.add(Handoff(conversation_id=conversation.id, reason="requested", context={},
                           requested_at=claimed - waited, claimed_at=claimed, resolved_at=claimed))


@pytest.mark.parametrize(
    ("reason", "disruption", "context", "priority"),
    [
        ("requested", None, {}, 0),
        ("bot_unavailable", None, {}, 0),
        ("requested", None, {"frustration": {"score": 0.75}}, 1),
        ("frustration", None, {"frustration": {"score": 0.4}}, 1),
        ("disruption", "cancelled", {"frustration": {"score": 0.9}}, 2),
        ("requested", None, {"frustration": "garbage"}, 0),
    ],
)
def test_priority(reason: str, disruption: str | None, context: dict, priority: int) -> None:
    assert handoff_priority(reason, disruption, context) == priority


@pytest.mark.parametrize(
    ("position", "typical", "agents", "expected"),
    [(1, 120.0, 1, 120), (3, 120.0, 1, 360), (3, 120.0, 2, 180), (1, 5.0, 1, 30),
     (1, None, 1, None), (2, 120.0, 0, None)],
)
def test_estimate(position: int, typical: float | None, agents: int, expected: int | None) -> None:
    assert estimate(position, typical, agents) == expected


async def test_disrupted_then_frustrated_then_by_time_waiting(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    first, second, third, fourth = [await new_customer(client) for _ in range(4)]
    await first.say("can I talk to a real person")
    await second.say("I am furious")
    await third.say("my flight was cancelled")
    await fourth.say("another person please")

    queue = await (await client.get("/api/agent/queue", headers=agent_headers)).json()

    assert [c["id"] for c in queue["conversations"]] == [third.id, second.id, first.id, fourth.id]
    assert [c["handoff"]["priority"] for c in queue["conversations"]] == [2, 1, 0, 0]


async def test_waiting_customers_see_their_place_and_wait_live(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    # History: recent handoffs were claimed after 2 minutes.
    await past_handoffs(client, waited=dt.timedelta(seconds=120))
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    first, second = await new_customer(client), await new_customer(client)
    widget = await second.socket()
    await next_event(widget, "status")

    await first.say("can I talk to a real person")
    await second.say("a person please")

    place = await next_event(widget, "queue")
    assert place == {"type": "queue", "conversation_id": second.id, "position": 2,
                     "estimated_wait_seconds": 240, "agents_online": 1, "team": "online",
                     "reopens_at": None, "reopens": None}
    await client.post(f"/api/agent/conversations/{first.id}/claim", headers=agent_headers)
    place = await next_event(widget, "queue")
    assert (place["position"], place["estimated_wait_seconds"]) == (1, 120)
    await widget.close()
    await console.close()


async def test_a_handoff_while_the_widget_connects_ends_waiting_with_its_place(
    client: TestClient, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first message goes over HTTP while the widget's socket is still connecting: the
    # handoff is published to the socket after it registered, before it sent its status.
    registered, handed_off = asyncio.Event(), asyncio.Event()
    read_backlog = customer_views._messages_after

    async def backlog_after_the_handoff(
        request: web.Request, conversation_id: str, after: int
    ) -> list[Message]:
        registered.set()
        await handed_off.wait()
        return await read_backlog(request, conversation_id, after)

    monkeypatch.setattr(customer_views, "_messages_after", backlog_after_the_handoff)
    widget = await customer.socket()
    await asyncio.wait_for(registered.wait(), timeout=5)
    await customer.say("can I talk to a real person")
    handed_off.set()

    seen = []
    while True:
        try:
            frame = await asyncio.wait_for(widget.receive(), timeout=1)
        except asyncio.TimeoutError:
            break
        event = json.loads(frame.data)
        if event["type"] in ("status", "queue"):
            seen.append((event["type"], event.get("status")))
    # Whatever came twice, the widget's last word is "waiting", then its place: a status
    # read before the handoff would come last and clear the place (and the contact form).
    assert seen[-2:] == [("status", "waiting"), ("queue", None)], seen
    await widget.close()


async def test_nobody_online_the_customer_leaves_details_and_the_agent_sees_them(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await new_customer(client)
    too_early = await client.post(f"/api/conversations/{customer.id}/contact",
                                  json={"email": "ana@example.com"}, headers=customer.headers)
    assert too_early.status == 409
    widget = await customer.socket()
    await customer.say("can I talk to a real person")
    place = await next_event(widget, "queue")
    assert (place["agents_online"], place["estimated_wait_seconds"]) == (0, None)

    left = await client.post(
        f"/api/conversations/{customer.id}/contact",
        json={"name": "Ana", "email": "ana@example.com", "message": "Please email me."},
        headers=customer.headers,
    )
    assert left.status == 200
    body = await left.json()
    assert [(m["sender"], m["text"]) for m in body["messages"]] == [
        ("customer", "Please email me."),
        ("system", "Thank you. We'll get back to you at ana@example.com as soon as a colleague "
                   "is free, and they'll have this whole conversation in front of them."),
    ]
    await widget.close()
    await asyncio.sleep(1)

    queue = await (await client.get("/api/agent/queue", headers=agent_headers)).json()
    [entry] = queue["conversations"]
    contact = entry["handoff"]["contact"]
    assert {k: contact[k] for k in ("name", "email")} == {"name": "Ana", "email": "ana@example.com"}
    assert entry["customer_left_at"] is not None
    for bad, words in (({"email": "nope"}, "e-mail"), ({"phone": "call me"}, "phone"),
                       ({"name": "Ana"}, "e-mail address or a phone number")):
        response = await client.post(f"/api/conversations/{customer.id}/contact", json=bad,
                                     headers=customer.headers)
        assert response.status == 400
        assert words in (await response.json())["error"]["message"]


async def test_the_console_learns_when_a_waiting_customer_leaves_and_returns(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    widget = await customer.socket()
    # The socket counts as the customer's once its auth frame is checked, which the
    # status that follows says; otherwise it may join after the handoff, as a return.
    await next_event(widget, "status")
    await customer.say("can I talk to a real person")
    await widget.close()
    gone = await next_event(console, "presence")
    assert (gone["conversation_id"], gone["customer_online"]) == (customer.id, False)
    widget = await customer.socket()
    back = await next_event(console, "presence")
    assert back["customer_online"] is True
    await widget.close()
    await console.close()


async def test_an_agent_gone_past_the_grace_period_loses_their_conversations_to_the_front(
    make_client: MakeClient, agent_headers: dict[str, str]
) -> None:
    client = await make_client(agent_grace_seconds=0.3)
    from .conftest import AGENT_EMAIL, AGENT_PASSWORD

    login = await client.post("/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    held, waiting = await new_customer(client), await new_customer(client)
    console = await client.ws_connect("/api/agent/ws", headers=headers)
    await held.say("can I talk to a real person")
    await client.post(f"/api/agent/conversations/{held.id}/claim", headers=headers)
    await waiting.say("my flight was cancelled")

    await console.close()
    await asyncio.sleep(0.8)

    queue = await (await client.get("/api/agent/queue", headers=headers)).json()
    assert [(c["id"], c["status"], c["handoff"]["priority"]) for c in queue["conversations"]] == [
        (held.id, "waiting", 3),
        (waiting.id, "waiting", 2),
    ]
    last = (await held.messages())[-1]
    assert (last["sender"], last["text"]) == (
        "system",
        "Maya lost their connection. You're now first in line for the next colleague, "
        "who will see everything so far.",
    )


async def test_an_agent_back_within_the_grace_period_keeps_their_conversations(
    make_client: MakeClient,
) -> None:
    client = await make_client(agent_grace_seconds=0.5)
    from .conftest import AGENT_EMAIL, AGENT_PASSWORD

    login = await client.post("/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    held = await new_customer(client)
    console = await client.ws_connect("/api/agent/ws", headers=headers)
    await held.say("can I talk to a real person")
    await client.post(f"/api/agent/conversations/{held.id}/claim", headers=headers)
    await console.close()
    await asyncio.sleep(0.1)
    console = await client.ws_connect("/api/agent/ws", headers=headers)
    await asyncio.sleep(0.8)

    status = await (await client.get(f"/api/conversations/{held.id}", headers=held.headers)).json()
    assert status["status"] == "agent"
    await console.close()


async def test_a_console_resumes_from_its_last_event_id(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    hello = await next_event(console, "hello")
    await console.close()
    await customer.say("can I talk to a real person")
    await customer.say("hello?")

    console = await client.ws_connect(
        f"/api/agent/ws?epoch={hello['epoch']}&last_event_id={hello['last_event_id']}",
        headers=agent_headers,
    )
    await next_event(console, "hello")
    missed = [await next_event(console) for _ in range(3)]
    assert [e["type"] for e in missed] == ["status", "handoff", "message"]
    assert [e["id"] for e in missed] == sorted(e["id"] for e in missed)
    assert missed[2]["message"]["text"] == "hello?"
    await console.close()


async def test_publisher_keeps_recent_console_events_and_says_when_it_cannot() -> None:
    publisher = Publisher(SocketRegistry(), keep=3)
    for index in range(5):
        await publisher.to_agents({"type": "typing", "n": index})

    assert publisher.last_event_id == 5
    assert [e["id"] for e in (await publisher.agent_events_after(2)) or []] == [3, 4, 5]
    assert await publisher.agent_events_after(5) == []
    assert await publisher.agent_events_after(1) is None
    # Ids from another gateway process (a restart) cannot be replayed.
    assert await publisher.agent_events_after(6) is None
    assert await publisher.agent_events_after(2, epoch="other") is None
    assert len((await publisher.agent_events_after(2, epoch=publisher.epoch)) or []) == 3


async def test_after_a_restart_an_agent_who_never_returns_loses_their_conversations(
    make_client: MakeClient, agent_headers: dict[str, str], client: TestClient
) -> None:
    held = await new_customer(client)
    await held.say("can I talk to a real person")
    await client.post(f"/api/agent/conversations/{held.id}/claim", headers=agent_headers)

    restarted = await make_client(agent_grace_seconds=0.3)
    await asyncio.sleep(0.8)

    status = await (await restarted.get(f"/api/conversations/{held.id}", headers=held.headers)).json()
    assert status["status"] == "waiting"
