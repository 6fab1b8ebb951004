"""Sockets are authenticated by their first frame (or a header), never by their URL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient

from handoff.access.agents import ensure_agent

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient, widget_socket
from .test_sockets import next_event

AUTH_FRAME = 'the first frame must be {"type": "auth", "token": ...}'


async def closed_with(ws: ClientWebSocketResponse) -> tuple[int | None, str]:
    """The close code and reason of a socket that must say nothing before closing."""
    frame = await asyncio.wait_for(ws.receive(), timeout=5)
    assert frame.type == WSMsgType.CLOSE, frame
    return ws.close_code, frame.extra or ""


async def login(client: TestClient, email: str, password: str) -> str:
    response = await client.post("/api/agent/login", json={"email": email, "password": password})
    assert response.status == 200
    return str((await response.json())["token"])


async def test_the_widget_socket_takes_its_token_in_the_first_frame(
    client: TestClient, customer: Customer
) -> None:
    await customer.say("hello")

    ws = await client.ws_connect(f"/api/conversations/{customer.id}/ws?after=1")
    await ws.send_json({"type": "auth", "token": customer.token})

    backlog = await next_event(ws)
    assert (backlog["type"], backlog["message"]["seq"]) == ("message", 2)
    assert await next_event(ws) == {
        "type": "status", "conversation_id": customer.id, "status": "bot", "agent": None,
    }
    await ws.send_json({"type": "message", "text": "and again", "client_message_id": "m-1"})
    ack = await next_event(ws, "ack")
    assert (ack["seq"], ack["message"]["text"]) == (3, "and again")
    await ws.close()


@pytest.mark.parametrize(
    ("first_frame", "code", "reason"),
    [
        ({"type": "auth", "token": "wrong"}, 4404, "conversation not found"),
        ({"type": "auth", "token": ""}, 4401, AUTH_FRAME),
        ({"type": "auth"}, 4401, AUTH_FRAME),
        ({"type": "auth", "token": 42}, 4401, AUTH_FRAME),
        ({"type": "message", "text": "hi", "client_message_id": "m-1"}, 4401, AUTH_FRAME),
        ("not json", 4401, AUTH_FRAME),
    ],
)
async def test_a_widget_socket_without_the_right_token_is_closed_before_anything_is_said(
    client: TestClient, customer: Customer, first_frame: Any, code: int, reason: str
) -> None:
    await customer.say("hello")
    ws = await client.ws_connect(f"/api/conversations/{customer.id}/ws")

    await ws.send_str(first_frame if isinstance(first_frame, str) else json.dumps(first_frame))

    assert await closed_with(ws) == (code, reason)
    # Nothing was stored from the socket either.
    assert [m["text"] for m in await customer.messages()] == ["hello", "Answer to: hello"]


async def test_another_conversations_token_opens_no_socket(
    client: TestClient, customer: Customer
) -> None:
    other = await (await client.post("/api/conversations")).json()

    ws = await widget_socket(client, customer.id, other["token"])

    assert await closed_with(ws) == (4404, "conversation not found")


async def test_a_token_in_the_url_authenticates_no_socket(
    make_client: MakeClient, customer: Customer
) -> None:
    client = await make_client(socket_auth_seconds=0.3)
    agent_token = await login(client, AGENT_EMAIL, AGENT_PASSWORD)

    widget = await client.ws_connect(f"/api/conversations/{customer.id}/ws?token={customer.token}")
    console = await client.ws_connect(f"/api/agent/ws?token={agent_token}")

    # The old form is ignored: both wait for an auth frame, then give up on it.
    assert await closed_with(widget) == (4408, 'no {"type": "auth", "token": ...} within 0.3 s')
    assert await closed_with(console) == (4408, 'no {"type": "auth", "token": ...} within 0.3 s')


async def test_a_plain_get_of_a_socket_is_answered_in_words(
    client: TestClient, customer: Customer
) -> None:
    for path in (f"/api/conversations/{customer.id}/ws", "/api/agent/ws"):
        response = await client.get(path)
        assert response.status == 400
        assert (await response.json())["error"]["message"] == (
            'this is a WebSocket: connect with one and send {"type": "auth", "token": ...} first'
        )


async def test_a_wrong_bearer_header_is_refused_before_the_upgrade(
    client: TestClient, customer: Customer
) -> None:
    for path in (f"/api/conversations/{customer.id}/ws", "/api/agent/ws"):
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect(path, headers={"Authorization": "Bearer nope"})
        assert refused.value.status == (404 if "conversations" in path else 401)

    widget = await client.ws_connect(f"/api/conversations/{customer.id}/ws", headers=customer.headers)
    assert (await next_event(widget))["type"] == "status"
    await widget.close()


async def test_the_console_socket_is_the_tabs_session_not_the_browsers_cookie(
    client: TestClient, database_url: str
) -> None:
    await ensure_agent(database_url, "omar@example.com", "another good password", "Omar")
    mayas = await login(client, AGENT_EMAIL, AGENT_PASSWORD)
    # Omar signs in last in the same browser: the cookie is his now.
    await login(client, "omar@example.com", "another good password")

    ws = await client.ws_connect("/api/agent/ws")
    await ws.send_json({"type": "auth", "token": mayas})
    hello = await next_event(ws, "hello")

    assert hello["agent"] == {"id": 1, "name": "Maya"}
    await ws.close()


async def test_the_cookie_alone_opens_no_console_socket_from_any_site(
    make_client: MakeClient,
) -> None:
    client = await make_client(socket_auth_seconds=0.3)
    await login(client, AGENT_EMAIL, AGENT_PASSWORD)
    own = str(client.make_url("")).rstrip("/")

    for origin in (own, "https://evil.example"):
        ws = await client.ws_connect("/api/agent/ws", origin=origin)
        await ws.send_json({"type": "watch", "conversation_id": None})
        assert await closed_with(ws) == (4401, AUTH_FRAME), origin


@pytest.mark.parametrize("ended", ["wrong", "logged out"])
async def test_a_console_socket_with_a_dead_session_is_closed(
    client: TestClient, ended: str
) -> None:
    token = await login(client, AGENT_EMAIL, AGENT_PASSWORD)
    if ended == "logged out":
        response = await client.post("/api/agent/logout", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200
    else:
        token = "wrong"

    ws = await client.ws_connect("/api/agent/ws")
    await ws.send_json({"type": "auth", "token": token})

    assert await closed_with(ws) == (4401, "invalid or expired session")


async def test_a_console_resumes_after_authenticating_in_its_first_frame(
    client: TestClient, customer: Customer
) -> None:
    token = await login(client, AGENT_EMAIL, AGENT_PASSWORD)
    first = await client.ws_connect("/api/agent/ws")
    await first.send_json({"type": "auth", "token": token})
    hello = await next_event(first, "hello")
    await first.close()
    await customer.say("can I talk to a real person")

    again = await client.ws_connect(
        f"/api/agent/ws?epoch={hello['epoch']}&last_event_id={hello['last_event_id']}"
    )
    await again.send_json({"type": "auth", "token": token})

    assert (await next_event(again))["type"] == "hello"
    missed = await next_event(again, "handoff")
    assert (missed["type"], missed["conversation"]["id"]) == ("handoff", customer.id)
    await again.close()
