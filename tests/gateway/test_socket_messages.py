"""Customer messages sent on the widget's socket: stored, pushed, then acknowledged."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from handoff import keys

from .conftest import Customer, MakeClient
from .fake_rasa import FakeRasa
from .test_sockets import next_event


async def _widget(client: TestClient, customer: Customer, after: int = 0) -> ClientWebSocketResponse:
    ws = await customer.socket(after=after)
    await next_event(ws, "status")
    return ws


async def _console(client: TestClient, agent_headers: dict[str, str]) -> ClientWebSocketResponse:
    ws = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await next_event(ws, "hello")
    return ws


# The messages of _claimed: the request, the handoff notice (nobody was online: the
# gateway's, in place of the bot's), the agent joining.
CLAIMED = 3


async def _claimed(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    assert (await customer.say("can I talk to a real person"))["status"] == "waiting"
    claim = await client.post(f"/api/agent/conversations/{customer.id}/claim", headers=agent_headers)
    assert claim.status == 200


def _frame(text: str, client_message_id: str | None, **extra: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "message", "text": text, **extra}
    if client_message_id is not None:
        frame["client_message_id"] = client_message_id
    return frame


def _without_time(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "created_at"}


async def test_a_message_on_the_socket_reaches_the_agent_then_is_acknowledged(
    client: TestClient, customer: Customer, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    await _claimed(client, customer, agent_headers)
    console = await _console(client, agent_headers)
    widget = await _widget(client, customer, after=CLAIMED)

    await widget.send_json(_frame("my booking is QX7K2P", "c-1"))

    # The sending socket gets its message in the ack only, not as an event besides.
    ack = await next_event(widget)
    message = {"seq": CLAIMED + 1, "sender": "customer", "text": "my booking is QX7K2P",
               "buttons": [],
               "author": None}
    assert {k: v for k, v in ack.items() if k != "message"} == {
        "type": "ack", "client_message_id": "c-1", "seq": CLAIMED + 1, "status": "agent",
    }
    assert _without_time(ack["message"]) == message
    to_agent = await next_event(console, "message")
    assert (to_agent["conversation_id"], to_agent["message"]["seq"], to_agent["message"]["nlu"]) == (
        customer.id, CLAIMED + 1, None,
    )
    stored = await customer.messages(after=CLAIMED)
    assert stored == [ack["message"]] == [{k: v for k, v in to_agent["message"].items() if k != "nlu"}]
    await widget.send_json({"type": "typing", "typing": False})
    assert (await next_event(console, "typing"))["typing"] is False
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(widget.receive(), timeout=0.2)
    await widget.close()
    await console.close()


async def test_the_conversations_other_sockets_still_get_the_message_as_an_event(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _claimed(client, customer, agent_headers)
    sender = await _widget(client, customer, after=CLAIMED)
    other_tab = await _widget(client, customer, after=CLAIMED)

    await sender.send_json(_frame("from the first tab", "c-1"))
    ack = await next_event(sender)
    pushed = await next_event(other_tab)

    assert (ack["type"], ack["seq"]) == ("ack", CLAIMED + 1)
    assert pushed == {"type": "message", "conversation_id": customer.id, "message": ack["message"]}
    # Nothing else on the sending socket: its own message came once, in the ack.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(sender.receive(), timeout=0.2)
    await sender.close()
    await other_tab.close()


async def test_a_socket_that_resumes_after_its_own_message_gets_it_from_the_backlog(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    """The ack was lost with the connection: the resume from the last seq brings it."""
    await _claimed(client, customer, agent_headers)
    widget = await _widget(client, customer, after=CLAIMED)
    await widget.send_json(_frame("sent just before the drop", "c-1"))
    ack = await next_event(widget, "ack")
    await widget.close()

    again = await customer.socket(after=CLAIMED)
    backlog = await next_event(again)

    assert backlog == {"type": "message", "conversation_id": customer.id, "message": ack["message"]}
    await again.close()


async def test_a_retry_on_the_socket_is_not_stored_twice_and_gets_the_original_seq(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _claimed(client, customer, agent_headers)
    widget = await _widget(client, customer, after=CLAIMED)

    await widget.send_json(_frame("hello", "c-1"))
    first = await next_event(widget, "ack")
    await widget.send_json(_frame("hello", "c-1"))
    again = await next_event(widget, "ack")
    # The same id over HTTP, as the widget retries while its socket is down.
    posted = await customer.say("hello", client_message_id="c-1")
    # Both read an id as a POST does (trimmed); the answer echoes the id as sent.
    await widget.send_json(_frame("hello", " c-1 "))
    padded = await next_event(widget, "ack")

    message = posted["messages"][0]
    assert first == again == {"type": "ack", "client_message_id": "c-1", "seq": CLAIMED + 1,
                              "status": "agent",
                              "message": message}
    assert [(m["seq"], m["sender"]) for m in posted["messages"]] == [(CLAIMED + 1, "customer")]
    assert padded == {"type": "ack", "client_message_id": " c-1 ", "seq": CLAIMED + 1,
                      "status": "agent",
                      "message": message}
    assert [m["text"] for m in await customer.messages(after=CLAIMED)] == ["hello"]
    await widget.close()


async def test_messages_on_the_socket_keep_their_order(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _claimed(client, customer, agent_headers)
    widget = await _widget(client, customer, after=CLAIMED)

    # 15: within the conversation's burst (20, one of them spent asking for a person).
    for index in range(15):
        await widget.send_json(_frame(f"m{index}", f"c-{index}"))
    acks = [await next_event(widget, "ack") for _ in range(15)]

    assert [(a["client_message_id"], a["seq"]) for a in acks] == [
        (f"c-{i}", CLAIMED + 1 + i) for i in range(15)
    ]
    assert [m["text"] for m in await customer.messages(after=CLAIMED)] == [f"m{i}" for i in range(15)]
    await widget.close()


async def test_a_bot_turn_on_the_socket_pushes_the_replies_before_the_ack(
    client: TestClient, customer: Customer, rasa: FakeRasa
) -> None:
    widget = await _widget(client, customer)

    await widget.send_json(_frame("Baggage", "c-1", payload="/ask_baggage"))

    events = [await next_event(widget) for _ in range(3)]
    assert [(e["type"], e.get("message", {}).get("seq")) for e in events] == [
        ("message", 1), ("message", 2), ("ack", 1),
    ]
    assert events[1]["message"]["text"] == "Answer to: /ask_baggage"
    assert events[2] == {"type": "ack", "client_message_id": "c-1", "seq": 1, "status": "bot",
                         "message": events[0]["message"]}
    assert rasa.calls[0]["message"] == "/ask_baggage"
    await widget.close()


async def test_a_handoff_on_the_socket_acknowledges_with_the_new_status(
    client: TestClient, customer: Customer, rasa: FakeRasa
) -> None:
    widget = await _widget(client, customer)

    await widget.send_json(_frame("can I talk to a real person", "c-1"))

    pushed = await next_event(widget, "message")
    assert (await next_event(widget, "status"))["status"] == "waiting"
    assert await next_event(widget, "ack") == {
        "type": "ack", "client_message_id": "c-1", "seq": 1, "status": "waiting",
        "message": pushed["message"],
    }
    await widget.close()


async def test_a_frame_that_cannot_be_stored_gets_an_error_like_the_http_answer(
    client: TestClient, customer: Customer, rasa: FakeRasa
) -> None:
    widget = await _widget(client, customer)

    await widget.send_json(_frame("", "c-1"))
    empty = await next_event(widget, "error")
    await widget.send_json(_frame("x" * 5000, "c-2"))
    too_long = await next_event(widget, "error")
    await widget.send_json(_frame("hello", None))
    no_id = await next_event(widget, "error")
    await widget.send_json({"type": "message", "text": 5, "client_message_id": "c-3"})
    not_text = await next_event(widget, "error")
    # A lone surrogate: valid JSON, but no text that can be stored.
    await widget.send_str('{"type": "message", "text": "a\\udc00", "client_message_id": "c-4"}')
    not_unicode = await next_event(widget, "error")
    await widget.send_json(_frame("hello", "c-5", payload="p" * 201))
    long_payload = await next_event(widget, "error")
    await widget.send_json(_frame("hello", "c-6", sender="agent"))
    unknown = await next_event(widget, "error")

    assert empty == {"type": "error", "client_message_id": "c-1", "error": {
        "status": 400, "message": "'text' must not be empty", "field": "text"}}
    assert too_long == {"type": "error", "client_message_id": "c-2", "error": {
        "status": 413, "message": "'text' is longer than 4000 characters", "field": "text"}}
    assert no_id == {"type": "error", "client_message_id": None, "error": {
        "status": 400, "message": "'client_message_id' is required",
        "field": "client_message_id"}}
    assert not_text["error"]["status"] == 400
    assert not_unicode == {"type": "error", "client_message_id": "c-4", "error": {
        "status": 400, "message": "'text' is not valid Unicode", "field": "text"}}
    assert long_payload == {"type": "error", "client_message_id": "c-5", "error": {
        "status": 413, "message": "'payload' is longer than 200 characters", "field": "payload"}}
    assert unknown == {"type": "error", "client_message_id": "c-6", "error": {
        "status": 400, "field": "sender",
        "message": "unknown field 'sender'; the fields are text, payload, client_message_id"}}
    assert await customer.messages() == []
    assert rasa.calls == []
    await widget.close()


async def test_the_socket_shares_the_conversations_rate_limit(make_client: MakeClient) -> None:
    client = await make_client(rate_per_conversation=0.5, burst_per_conversation=2)
    body = await (await client.post("/api/conversations")).json()
    customer = Customer(client, body["id"], body["token"])
    widget = await _widget(client, customer)

    await customer.say("one over HTTP")
    await widget.send_json(_frame("two on the socket", "c-2"))
    assert (await next_event(widget, "ack"))["seq"] == 3
    started = time.monotonic()
    await widget.send_json(_frame("three, too soon", "c-3"))
    refused = await next_event(widget, "error")

    assert refused["client_message_id"] == "c-3"
    assert refused["error"]["status"] == 429
    assert refused["error"]["retry_after"] >= 1
    # Answered after the same tarpit as a refused POST.
    assert time.monotonic() - started >= 0.95
    assert [m["text"] for m in await customer.messages() if m["sender"] == "customer"] == [
        "one over HTTP", "two on the socket",
    ]
    await widget.close()


async def test_a_message_stored_behind_the_processs_back_is_found_by_the_constraint(
    make_client: MakeClient, customer: Customer, agent_headers: dict[str, str],
) -> None:
    """Another gateway process stored it: this one's memory does not know the id."""
    client = customer.client
    await _claimed(client, customer, agent_headers)
    other = await make_client()
    other_customer = Customer(other, customer.id, customer.token)
    stored = await other_customer.say("hello", client_message_id="c-1")
    widget = await _widget(client, customer, after=CLAIMED)

    await widget.send_json(_frame("hello", "c-1"))
    ack = await next_event(widget, "ack")

    assert ack["seq"] == stored["messages"][0]["seq"] == CLAIMED + 1
    assert [m["text"] for m in await customer.messages(after=CLAIMED)] == ["hello"]
    await widget.close()


async def test_many_conversations_share_transactions(
    make_client: MakeClient, agent_headers: dict[str, str]
) -> None:
    client = await make_client(annotation_rate=0)
    customers = []
    for _ in range(20):
        body = await (await client.post("/api/conversations")).json()
        customers.append(Customer(client, body["id"], body["token"]))
    for customer in customers:
        await _claimed(client, customer, agent_headers)
    widgets = [await _widget(client, customer, after=CLAIMED) for customer in customers]
    writer = client.app[keys.WRITER]
    before = writer.transactions

    for round_ in range(5):
        for index, widget in enumerate(widgets):
            await widget.send_json(_frame(f"{index}-{round_}", f"c-{index}-{round_}"))
    acks = [[await next_event(w, "ack") for _ in range(5)] for w in widgets]

    assert [[a["seq"] for a in conversation] for conversation in acks] == [
        list(range(CLAIMED + 1, CLAIMED + 6))
    ] * 20
    # 100 messages, stored in far fewer transactions than one each.
    assert writer.transactions - before < 100
    for index, customer in enumerate(customers):
        texts = [m["text"] for m in await customer.messages(after=CLAIMED)]
        assert texts == [f"{index}-{r}" for r in range(5)]
    for widget in widgets:
        await widget.close()


async def test_every_message_is_stored_before_the_agent_sees_it(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _claimed(client, customer, agent_headers)
    console = await _console(client, agent_headers)
    widget = await _widget(client, customer, after=CLAIMED)
    database_url = client.app[keys.SETTINGS].database_url
    reader = await _fresh_reader(database_url)
    try:
        await widget.send_json(_frame("stored first", "c-1"))
        event = await next_event(console, "message")
        # A connection of its own sees it committed the moment the event arrives.
        assert await reader(customer.id, event["message"]["seq"]) == "stored first"
    finally:
        await reader.close()  # type: ignore[attr-defined]
    await widget.close()
    await console.close()


async def _fresh_reader(database_url: str) -> Any:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)

    async def read(conversation_id: str, seq: int) -> str | None:
        async with engine.connect() as connection:
            return await connection.scalar(
                text("SELECT text FROM messages WHERE conversation_id = :c AND seq = :s"),
                {"c": conversation_id, "s": seq},
            )

    read.close = engine.dispose  # type: ignore[attr-defined]
    return read


async def test_typing_frames_still_reach_the_agent(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _claimed(client, customer, agent_headers)
    console = await _console(client, agent_headers)
    widget = await _widget(client, customer, after=CLAIMED)

    # Frames their shapes refuse are dropped: not a bool, an unknown type, not JSON.
    await widget.send_json({"type": "typing", "typing": "yes"})
    await widget.send_json({"type": "shout", "typing": False})
    await widget.send_str("not json")
    await widget.send_json(["not", "an", "object"])
    await widget.send_str(json.dumps({"type": "typing", "typing": True}))

    typing = await next_event(console, "typing")
    assert (typing["sender"], typing["typing"]) == ("customer", True)
    await asyncio.sleep(0.05)
    assert not widget.closed
    await widget.close()
    await console.close()
