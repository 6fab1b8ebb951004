from __future__ import annotations

from aiohttp.test_utils import TestClient

from handoff.conversations.handoff_notices import EMPATHY, NOBODY_ONLINE

from .conftest import Customer
from .fake_rasa import FakeRasa


async def test_a_bot_turn_returns_the_stored_message_and_the_replies(
    customer: Customer, rasa: FakeRasa
) -> None:
    body = await customer.say("how do I check in online")

    assert body["status"] == "bot"
    assert [(m["seq"], m["sender"], m["text"]) for m in body["messages"]] == [
        (1, "customer", "how do I check in online"),
        (2, "bot", "Answer to: how do I check in online"),
    ]
    assert body["messages"][1]["buttons"] == [{"title": "Baggage", "payload": "/ask_baggage"}]
    assert rasa.calls[0]["sender"] == customer.id
    assert rasa.calls[0]["mode"] == "bot"
    assert [m["seq"] for m in await customer.messages()] == [1, 2]
    assert [m["seq"] for m in await customer.messages(after=1)] == [2]


async def test_a_quick_reply_shows_its_title_and_sends_its_payload(
    customer: Customer, rasa: FakeRasa
) -> None:
    body = await customer.say("Baggage", payload="/ask_baggage")

    assert body["messages"][0]["text"] == "Baggage"
    assert rasa.calls[0]["message"] == "/ask_baggage"


async def test_a_retry_with_the_same_client_message_id_is_not_stored_twice(
    customer: Customer, rasa: FakeRasa
) -> None:
    first = await customer.say("hello", client_message_id="m-1")
    again = await customer.say("hello", client_message_id="m-1")

    assert again == first
    assert [m["seq"] for m in await customer.messages()] == [1, 2]
    assert len(rasa.calls) == 1


async def test_asking_for_a_person_hands_off_and_the_bot_then_stays_silent(
    customer: Customer, rasa: FakeRasa
) -> None:
    handoff = await customer.say("can I talk to a real person")
    later = await customer.say("hello? anyone there")

    assert handoff["status"] == "waiting"
    # No agent has the console open: the customer is told so, honestly, once (instead of
    # the bot's "a colleague is on the way").
    assert [(m["sender"], m["text"]) for m in handoff["messages"][1:]] == [
        ("bot", f"{EMPATHY['requested']} {NOBODY_ONLINE.format(until='')}"),
    ]
    assert later["status"] == "waiting"
    assert [m["sender"] for m in later["messages"]] == ["customer"]
    assert [m["sender"] for m in await customer.messages()] == ["customer", "bot", "customer"]


async def test_rasa_down_keeps_the_message_and_queues_the_conversation(
    client: TestClient, customer: Customer, rasa: FakeRasa
) -> None:
    rasa.broken = True

    body = await customer.say("my flight")

    assert body["status"] == "waiting"
    assert [(m["seq"], m["sender"], m["text"]) for m in body["messages"]] == [
        (1, "customer", "my flight"),
        (2, "system", f"{EMPATHY['bot_unavailable']} {NOBODY_ONLINE.format(until='')}"),
    ]
    ready = await client.get("/readyz")
    assert ready.status == 503


async def test_status_endpoint(client: TestClient, customer: Customer) -> None:
    response = await client.get(f"/api/conversations/{customer.id}", headers=customer.headers)

    assert await response.json() == {"id": customer.id, "status": "bot", "agent": None, "rating": None}


async def test_another_conversations_token_is_refused(client: TestClient, customer: Customer) -> None:
    other = await (await client.post("/api/conversations")).json()
    wrong = {"Authorization": f"Bearer {other['token']}"}

    for method, path, body in (
        ("GET", f"/api/conversations/{customer.id}", None),
        ("GET", f"/api/conversations/{customer.id}/messages", None),
        ("POST", f"/api/conversations/{customer.id}/messages", {"text": "hi"}),
    ):
        refused = await client.request(method, path, json=body, headers=wrong)
        missing = await client.request(method, path, json=body)
        assert refused.status == 404
        assert missing.status == 401
        assert (await missing.json())["error"]["status"] == 401
    assert await customer.messages() == []


async def test_bad_input_gets_a_clear_error_and_stores_nothing(
    client: TestClient, customer: Customer
) -> None:
    path = f"/api/conversations/{customer.id}/messages"
    cases = [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"text": 5}', 400, "'text' must be a string"),
        (b"{}", 400, "'text' is required"),
        (b'{"text": "   "}', 400, "'text' must not be empty"),
        (b'{"text": "a\\u0000b"}', 400, "NUL"),
        (b'{"text": "a\\ud800b"}', 400, "'text' is not valid Unicode"),
        (b'{"text": "' + b"x" * 4001 + b'"}', 413, "longer than 4000"),
        (b'{"text": "hi", "client_message_id": 7}', 400, "client_message_id"),
    ]
    for raw, status, words in cases:
        response = await client.post(
            path, data=raw, headers={**customer.headers, "Content-Type": "application/json"}
        )
        assert response.status == status, raw
        assert words in (await response.json())["error"]["message"]
    too_big = await client.post(path, data=b"x" * 70_000, headers=customer.headers)
    assert too_big.status == 413
    assert await customer.messages() == []


async def test_after_must_be_a_non_negative_integer(client: TestClient, customer: Customer) -> None:
    for value in ("x", "-1"):
        response = await client.get(
            f"/api/conversations/{customer.id}/messages?after={value}", headers=customer.headers
        )
        assert response.status == 400


async def test_a_retry_of_a_message_the_bot_never_answered_gets_the_answer(
    client: TestClient, customer: Customer, rasa: FakeRasa
) -> None:
    # As if the gateway had stopped between storing the message and Rasa's answer.
    from handoff import keys
    from handoff.storage.writer import Draft

    await client.app[keys.WRITER].store(
        customer.id, [Draft("customer", "hello", client_message_id="m-9")]
    )

    retried = await customer.say("hello", client_message_id="m-9")

    assert [(m["seq"], m["sender"]) for m in retried["messages"]] == [(1, "customer"), (2, "bot")]
    assert len(rasa.calls) == 1
    again = await customer.say("hello", client_message_id="m-9")
    assert again == retried
