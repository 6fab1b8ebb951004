"""Which consoles get a conversation's events: all while it waits; once an agent holds it,
the holder's consoles and those that have it open (``watch``)."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from handoff.access.agents import ensure_agent
from handoff.live.publisher import Publisher
from handoff.live.sockets import SocketRegistry

from .conftest import Customer
from .test_queue import new_customer
from .test_sockets import next_event

OMAR_EMAIL = "omar@example.com"
OMAR_PASSWORD = "another long passphrase"


async def login(client: TestClient, email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/agent/login", json={"email": email, "password": password})
    assert response.status == 200
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


class Console:
    """A console's socket, keeping every event it gets in order."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def until(self, type_: str, **fields: Any) -> dict[str, Any]:
        while True:
            event = await next_event(self.ws)
            self.events.append(event)
            if event["type"] == type_ and all(event.get(k) == v for k, v in fields.items()):
                return event

    async def until_text(self, text: str) -> None:
        while True:
            event = await self.until("message")
            if event["message"]["text"] == text:
                return

    def texts(self, among: set[str]) -> list[str]:
        return [
            e["message"]["text"]
            for e in self.events
            if e["type"] == "message" and e["message"]["text"] in among
        ]


async def test_a_held_conversation_goes_to_its_holder_and_whoever_has_it_open(
    client: TestClient, database_url: str, agent_headers: dict[str, str]
) -> None:
    await ensure_agent(database_url, OMAR_EMAIL, OMAR_PASSWORD, "Omar")
    omar_headers = await login(client, OMAR_EMAIL, OMAR_PASSWORD)
    maya = Console(await client.ws_connect("/api/agent/ws", headers=agent_headers))
    omar = Console(await client.ws_connect("/api/agent/ws", headers=omar_headers))
    await maya.until("hello")
    await omar.until("hello")
    held, other = await new_customer(client), await new_customer(client)
    await held.say("can I talk to a real person")
    await other.say("a person please")
    await held.say("waiting 1")

    claimed = await client.post(f"/api/agent/conversations/{held.id}/claim", headers=agent_headers)
    assert claimed.status == 200
    await held.say("held 1")
    await other.say("marker 1")  # waits: every console gets it
    await omar.ws.send_json({"type": "watch", "conversation_id": held.id})
    watching = await omar.until("watching")
    await held.say("watched 1")
    await omar.ws.send_json({"type": "watch", "conversation_id": None})
    stopped = await omar.until("watching", conversation_id=None)
    await held.say("held 2")
    await other.say("marker 2")
    await maya.until_text("marker 2")
    await omar.until_text("marker 2")

    said = {"waiting 1", "held 1", "watched 1", "held 2", "marker 1", "marker 2"}
    assert watching == {"type": "watching", "conversation_id": held.id}
    assert stopped == {"type": "watching", "conversation_id": None}
    assert maya.texts(said) == ["waiting 1", "held 1", "marker 1", "watched 1", "held 2", "marker 2"]
    assert omar.texts(said) == ["waiting 1", "marker 1", "watched 1", "marker 2"]
    await maya.ws.close()
    await omar.ws.close()


async def test_resuming_replays_only_what_was_the_consoles_own() -> None:
    publisher = Publisher(SocketRegistry())
    await publisher.to_agents({"type": "message", "conversation_id": "a", "n": 1})
    await publisher.to_agents({"type": "message", "conversation_id": "b", "n": 2}, holder=7)
    await publisher.to_agents({"type": "message", "conversation_id": "c", "n": 3}, holder=8)

    def numbers(events: list[dict[str, Any]] | None) -> list[int]:
        return [e["n"] for e in events or []]

    assert numbers(await publisher.agent_events_after(0, agent_id=7)) == [1, 2]
    assert numbers(await publisher.agent_events_after(0, agent_id=8)) == [1, 3]
    assert numbers(await publisher.agent_events_after(1, agent_id=9)) == []


async def test_a_console_resumes_with_a_held_conversations_messages(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await customer.say("can I talk to a real person")
    assert (
        await client.post(f"/api/agent/conversations/{customer.id}/claim", headers=agent_headers)
    ).status == 200
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    hello = await next_event(console, "hello")
    await console.close()
    await customer.say("are you still there?")

    console = await client.ws_connect(
        f"/api/agent/ws?epoch={hello['epoch']}&last_event_id={hello['last_event_id']}",
        headers=agent_headers,
    )
    missed = await next_event(console, "message")
    assert (missed["conversation_id"], missed["message"]["text"]) == (
        customer.id, "are you still there?"
    )
    await console.close()
