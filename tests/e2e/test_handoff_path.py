"""The whole path through real processes: trained model, action server, gateway, SQLite.

widget -> gateway -> Rasa -> handoff -> agent -> back to the bot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ..conftest import RunningBaton
from ..shapes_check import CHECK_RESPONSES, CheckedWebSocket

pytestmark = pytest.mark.e2e


class Socket:
    """A WebSocket that keeps every event it receives, to wait for one by its shape."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def wait_for(self, timeout: float = 10, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        index = 0
        while True:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if all(_get(event, key) == value for key, value in match.items()):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no event matching {match}; got {self.events}")
            frame = await asyncio.wait_for(self.ws.receive(), timeout=remaining)
            assert frame.type == aiohttp.WSMsgType.TEXT, frame
            self.events.append(json.loads(frame.data))


def _get(event: dict[str, Any], dotted: str) -> Any:
    value: Any = event
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        ws_response_class=CheckedWebSocket, middlewares=CHECK_RESPONSES,
        timeout=aiohttp.ClientTimeout(total=60),
    ) as session:
        yield session


async def test_widget_to_bot_to_agent_and_back(
    baton: RunningBaton, http: aiohttp.ClientSession
) -> None:
    base = baton.base_url

    # The demo page embeds the widget with one script tag; the console page is served.
    page = await (await http.get(f"{base}/")).text()
    assert page.count("<script") == 1 and 'src="/widget.js"' in page
    assert (await http.get(f"{base}/widget.js")).status == 200
    assert (await http.get(f"{base}/agent")).status == 200

    login = await http.post(
        f"{base}/api/agent/login",
        json={"email": baton.agent_email, "password": baton.agent_password},
    )
    assert login.status == 200
    agent_auth = {"Authorization": f"Bearer {(await login.json())['token']}"}
    console = Socket(await http.ws_connect(f"{base}/api/agent/ws", headers=agent_auth))
    await console.wait_for(type="hello")

    created = await http.post(f"{base}/api/conversations")
    assert created.status == 201
    conversation = await created.json()
    cid = conversation["id"]
    customer_auth = {"Authorization": f"Bearer {conversation['token']}"}
    widget = Socket(await http.ws_connect(f"{base}/api/conversations/{cid}/ws"))
    await widget.ws.send_json({"type": "auth", "token": conversation["token"]})
    await widget.wait_for(type="status", status="bot")

    async def say(text: str) -> dict[str, Any]:
        response = await http.post(
            f"{base}/api/conversations/{cid}/messages", json={"text": text}, headers=customer_auth
        )
        assert response.status == 200, await response.text()
        return await response.json()

    # 1. A how-to question: the bot teaches.
    taught = await say("how do I check in online")
    assert taught["status"] == "bot"
    assert [m["sender"] for m in taught["messages"]][:2] == ["customer", "bot"]
    assert "check-in" in taught["messages"][1]["text"].lower()
    await widget.wait_for(type="message", message__seq=taught["messages"][1]["seq"])

    # 2. Asking for a person hands off in the same turn; the bot promises no repeating.
    handed = await say("can I talk to a real person")
    assert handed["status"] == "waiting"
    bot_said = " ".join(m["text"] for m in handed["messages"] if m["sender"] == "bot").lower()
    assert "colleague" in bot_said and "repeat" in bot_said
    await widget.wait_for(type="status", status="waiting")
    handoff_event = await console.wait_for(type="handoff", conversation__id=cid)
    assert handoff_event["conversation"]["handoff"]["reason"] == "requested"

    # 3. The agent sees it in the queue with the reason and the transcript.
    queue = await (await http.get(f"{base}/api/agent/queue", headers=agent_auth)).json()
    entry = next(c for c in queue["conversations"] if c["id"] == cid)
    assert (entry["status"], entry["handoff"]["reason"]) == ("waiting", "requested")
    detail = await (await http.get(f"{base}/api/agent/conversations/{cid}", headers=agent_auth)).json()
    customer_lines = [m for m in detail["messages"] if m["sender"] == "customer"]
    assert [m["text"] for m in customer_lines] == [
        "how do I check in online",
        "can I talk to a real person",
    ]
    assert [m["nlu"]["intent"] for m in customer_lines] == ["check_in", "human_handoff"]
    assert all(0 < m["nlu"]["confidence"] <= 1 for m in customer_lines)
    assert detail["handoff"]["context"]["summary"]

    # 4. The agent claims and replies; the customer sees both live.
    claimed = await http.post(f"{base}/api/agent/conversations/{cid}/claim", headers=agent_auth)
    assert claimed.status == 200
    await widget.wait_for(type="status", status="agent", agent__name=baton.agent_name)
    sent = await http.post(
        f"{base}/api/agent/conversations/{cid}/messages",
        json={"text": "Hi, I'm Maya. I'll sort this out for you."},
        headers=agent_auth,
    )
    assert sent.status == 201
    live = await widget.wait_for(type="message", message__sender="agent")
    assert live["message"]["text"] == "Hi, I'm Maya. I'll sort this out for you."

    # 5. While the agent has it, the customer's message reaches the agent live and the
    #    bot says nothing.
    quiet = await say("thanks! my booking reference is QX7K2P")
    assert quiet["status"] == "agent"
    assert [m["sender"] for m in quiet["messages"]] == ["customer"]
    seen = await console.wait_for(type="message", conversation_id=cid, message__sender="customer",
                                  message__text="thanks! my booking reference is QX7K2P")
    assert seen["message"]["seq"] == quiet["messages"][0]["seq"]
    await asyncio.sleep(2)  # room for a bot reply that must not come
    history = await (
        await http.get(f"{base}/api/conversations/{cid}/messages", headers=customer_auth)
    ).json()
    assert [m["sender"] for m in history["messages"]][-3:] == ["system", "agent", "customer"]

    # 6. The agent resolves; the bot answers the next question again.
    resolved = await http.post(f"{base}/api/agent/conversations/{cid}/resolve", headers=agent_auth)
    assert (await resolved.json())["status"] == "bot"
    await widget.wait_for(type="status", status="bot")
    again = await say("what is the baggage allowance")
    assert again["status"] == "bot"
    answer = [m for m in again["messages"] if m["sender"] == "bot"]
    assert answer and "bag" in answer[0]["text"].lower()

    queue = await (await http.get(f"{base}/api/agent/queue", headers=agent_auth)).json()
    assert cid not in [c["id"] for c in queue["conversations"]]
    await widget.ws.close()
    await console.ws.close()


async def test_the_widget_socket_carries_the_customers_messages(
    baton: RunningBaton, http: aiohttp.ClientSession
) -> None:
    """As the widget sends while its socket is open: a frame, events, then an ack."""
    base = baton.base_url
    login = await http.post(
        f"{base}/api/agent/login",
        json={"email": baton.agent_email, "password": baton.agent_password},
    )
    agent_auth = {"Authorization": f"Bearer {(await login.json())['token']}"}
    console = Socket(await http.ws_connect(f"{base}/api/agent/ws", headers=agent_auth))
    await console.wait_for(type="hello")
    conversation = await (await http.post(f"{base}/api/conversations")).json()
    cid = conversation["id"]
    widget = Socket(await http.ws_connect(f"{base}/api/conversations/{cid}/ws"))
    await widget.ws.send_json({"type": "auth", "token": conversation["token"]})
    await widget.wait_for(type="status", status="bot")

    async def send(text: str, client_message_id: str) -> dict[str, Any]:
        await widget.ws.send_json(
            {"type": "message", "text": text, "client_message_id": client_message_id}
        )
        return await widget.wait_for(timeout=30, type="ack", client_message_id=client_message_id)

    # A bot turn: the question and the answer are pushed, then the ack.
    taught = await send("how do I check in online", "w-1")
    assert (taught["seq"], taught["status"]) == (1, "bot")
    answer = await widget.wait_for(type="message", message__seq=2)
    assert answer["message"]["sender"] == "bot"
    assert widget.events.index(answer) < widget.events.index(taught)

    handed = await send("can I talk to a real person", "w-2")
    assert handed["status"] == "waiting"
    await console.wait_for(type="handoff", conversation__id=cid)
    claimed = await http.post(f"{base}/api/agent/conversations/{cid}/claim", headers=agent_auth)
    assert claimed.status == 200

    # With the agent: the message reaches the console; a retry is the same message.
    relayed = await send("my booking reference is QX7K2P", "w-3")
    assert relayed["status"] == "agent"
    seen = await console.wait_for(type="message", conversation_id=cid, message__sender="customer",
                                  message__text="my booking reference is QX7K2P")
    assert seen["message"]["seq"] == relayed["seq"]
    await widget.ws.send_json(
        {"type": "message", "text": "my booking reference is QX7K2P", "client_message_id": "w-3"}
    )
    while widget.events.count(relayed) < 2:
        frame = await asyncio.wait_for(widget.ws.receive(), timeout=10)
        widget.events.append(json.loads(frame.data))
    assert [e for e in widget.events if e.get("client_message_id") == "w-3"] == [relayed] * 2

    # The bot reads along in the background: the agent gets what it understood.
    deadline = time.monotonic() + 20
    while True:
        detail = await (
            await http.get(f"{base}/api/agent/conversations/{cid}", headers=agent_auth)
        ).json()
        texts = [m["text"] for m in detail["messages"] if m["sender"] == "customer"]
        read = next(m for m in detail["messages"] if m["seq"] == relayed["seq"])
        if read["nlu"] is not None or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert texts == [
        "how do I check in online", "can I talk to a real person", "my booking reference is QX7K2P",
    ]
    assert read["nlu"] is not None and read["nlu"]["intent"]

    resolved = await http.post(f"{base}/api/agent/conversations/{cid}/resolve", headers=agent_auth)
    assert resolved.status == 200
    await widget.ws.close()
    await console.ws.close()


async def test_readiness_reflects_rasa_and_the_action_server(
    baton: RunningBaton, http: aiohttp.ClientSession
) -> None:
    ready = await http.get(f"{baton.base_url}/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready", "checks": {"rasa": True, "actions": True}}
