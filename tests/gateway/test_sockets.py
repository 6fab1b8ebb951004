from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from handoff.conversations.handoff_notices import EMPATHY, NOBODY_ONLINE

from .conftest import Customer, MakeClient


async def next_event(ws: ClientWebSocketResponse, type_: str | None = None) -> dict[str, Any]:
    while True:
        frame = await asyncio.wait_for(ws.receive(), timeout=5)
        assert frame.type == WSMsgType.TEXT, frame
        event = json.loads(frame.data)
        if type_ is None or event["type"] == type_:
            return event


async def test_the_widget_gets_the_backlog_then_live_events(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await customer.say("hello")
    ws = await customer.socket(after=1)

    backlog = await next_event(ws)
    assert backlog["type"] == "message"
    assert backlog["message"]["seq"] == 2
    assert await next_event(ws) == {
        "type": "status", "conversation_id": customer.id, "status": "bot", "agent": None,
    }

    await customer.say("can I talk to a real person")
    assert (await next_event(ws, "message"))["message"]["sender"] == "customer"
    # Nobody is online: the gateway's notice says so, in place of the bot's "on the way".
    told = (await next_event(ws, "message"))["message"]
    assert (told["sender"], told["text"]) == (
        "bot", f"{EMPATHY['requested']} {NOBODY_ONLINE.format(until='')}"
    )
    assert (await next_event(ws, "status"))["status"] == "waiting"

    base = f"/api/agent/conversations/{customer.id}"
    await client.post(f"{base}/claim", headers=agent_headers)
    joined = await next_event(ws, "message")
    assert joined["message"]["text"] == "Maya from our team has joined the chat."
    assert await next_event(ws, "status") == {
        "type": "status", "conversation_id": customer.id, "status": "agent",
        "agent": {"name": "Maya"},
    }
    await client.post(f"{base}/messages", json={"text": "Hello!"}, headers=agent_headers)
    live = await next_event(ws, "message")
    assert (live["message"]["sender"], live["message"]["text"], live["message"]["author"]) == (
        "agent", "Hello!", "Maya",
    )
    assert "nlu" not in live["message"]
    await ws.close()


async def test_the_console_sees_handoffs_and_customer_messages_live(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    ws = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    hello = await next_event(ws)
    assert hello == {"type": "hello", "agent": {"id": 1, "name": "Maya"}, "last_event_id": 0,
                     "epoch": hello["epoch"]}

    await customer.say("can I talk to a real person")
    handoff = await next_event(ws, "handoff")
    assert handoff["conversation"]["id"] == customer.id
    assert handoff["conversation"]["handoff"]["reason"] == "requested"

    await customer.say("are you there")
    message = await next_event(ws, "message")
    assert message["message"]["text"] == "are you there"

    widget = await customer.socket()
    await widget.send_json({"type": "typing", "typing": True})
    typing = await next_event(ws, "typing")
    assert typing == {
        "type": "typing", "conversation_id": customer.id, "sender": "customer", "typing": True,
        "id": typing["id"],
    }
    await ws.send_json({"type": "typing", "conversation_id": customer.id, "typing": True})
    assert (await next_event(widget, "typing"))["sender"] == "agent"
    await widget.close()
    await ws.close()


async def test_origins_outside_the_allow_list_are_refused(make_client: MakeClient) -> None:
    client = await make_client(allowed_origins=("https://shop.example",))

    refused = await client.post("/api/conversations", headers={"Origin": "https://evil.example"})
    allowed = await client.post("/api/conversations", headers={"Origin": "https://shop.example"})
    preflight = await client.options(
        "/api/conversations/x/messages",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    socket = await client.get(
        "/api/agent/ws", headers={"Origin": "https://evil.example", "Upgrade": "websocket"}
    )

    assert refused.status == 403
    assert allowed.status == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert preflight.status == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert socket.status == 403
