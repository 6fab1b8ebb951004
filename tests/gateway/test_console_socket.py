"""The console's socket: replies sent on it (acked once stored, stored once per
client_message_id, the same as over HTTP), and a socket that ends with its session."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient
from .test_sockets import next_event


async def claimed(client: TestClient, customer: Customer, headers: dict[str, str]) -> None:
    await customer.say("can I talk to a real person")
    response = await client.post(f"/api/agent/conversations/{customer.id}/claim", headers=headers)
    assert response.status == 200


def reply(conversation_id: str, text: str, client_message_id: str) -> dict[str, str]:
    return {"type": "message", "conversation_id": conversation_id, "text": text,
            "client_message_id": client_message_id}


async def test_a_reply_on_the_socket_is_stored_once_and_acked_after_its_event(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await claimed(client, customer, agent_headers)
    widget = await customer.socket()
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await next_event(console, "hello")
    last = (await customer.messages())[-1]["seq"]

    await console.send_json(reply(customer.id, "Let me look at your booking.", "r-1"))
    event = await next_event(console, "message")
    ack = await next_event(console)
    to_widget = await next_event(widget, "message")
    while to_widget["message"]["seq"] <= last:
        to_widget = await next_event(widget, "message")
    # Resent (its ack was lost): the same seq, nothing stored again; so over HTTP.
    await console.send_json(reply(customer.id, "Let me look at your booking.", "r-1"))
    again = await next_event(console)
    posted = await client.post(
        f"/api/agent/conversations/{customer.id}/messages",
        json={"text": "Let me look at your booking.", "client_message_id": "r-1"},
        headers=agent_headers,
    )

    seq = last + 1
    assert (event["message"]["seq"], event["message"]["sender"]) == (seq, "agent")
    assert ack == again == {"type": "ack", "client_message_id": "r-1",
                            "conversation_id": customer.id, "seq": seq}
    assert (to_widget["message"]["seq"], to_widget["message"]["text"]) == (
        seq, "Let me look at your booking."
    )
    assert posted.status == 200
    assert (await posted.json())["message"]["seq"] == seq
    assert [m["seq"] for m in await customer.messages(after=last)] == [seq]
    await widget.close()
    await console.close()


async def test_a_bad_reply_on_the_socket_gets_an_error_and_stores_nothing(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await customer.say("can I talk to a real person")  # waiting: not claimed yet
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await next_event(console, "hello")
    before = await customer.messages()

    answers = []
    for frame in (
        reply(customer.id, "hello", "e-1"),  # not the holder
        {"type": "message", "conversation_id": customer.id, "client_message_id": "e-2"},
        reply(customer.id, "x" * 5000, "e-3"),
        {"type": "message", "text": "hello", "client_message_id": "e-4"},
        reply(customer.id, "hello", "e" * 65),
        reply("no-such-conversation", "hello", "e-6"),
        {**reply(customer.id, "hello", "e-7"), "as_agent": 2},
    ):
        await console.send_json(frame)
        answer = await next_event(console, "error")
        answers.append((answer["client_message_id"], answer["error"]["status"]))

    assert answers == [
        ("e-1", 409), ("e-2", 400), ("e-3", 413), ("e-4", 400), ("e" * 65, 413),
        ("e-6", 404), ("e-7", 400),
    ]
    assert answer["error"] == {
        "status": 400, "field": "as_agent",
        "message": "unknown field 'as_agent'; the fields are conversation_id, text, "
                   "client_message_id",
    }
    assert await customer.messages() == before
    await console.close()


async def test_logging_out_closes_the_sessions_consoles(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await next_event(console, "hello")

    assert (await client.post("/api/agent/logout", headers=agent_headers)).status == 200
    closed = await asyncio.wait_for(console.receive(), timeout=5)

    assert (closed.type, console.close_code) == (WSMsgType.CLOSE, 4401)


async def test_a_console_closes_when_its_session_expires(make_client: MakeClient) -> None:
    client = await make_client(session_ttl_seconds=1)
    login = await client.post(
        "/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    console = await client.ws_connect("/api/agent/ws", headers=headers)
    await next_event(console, "hello")

    closed = await asyncio.wait_for(console.receive(), timeout=5)

    assert (closed.type, console.close_code) == (WSMsgType.CLOSE, 4401)
