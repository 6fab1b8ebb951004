"""The handoff's context follows what the customer says after the handoff (issue #15,
point 11): the bot reads along, and what it finds reaches the stored context and the
agent's console as one `context` event."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.conversations.context import merged_context
from handoff.settings import Settings

from .conftest import MakeClient
from .fake_rasa import FakeRasa
from .test_annotations import _until
from .test_resolutions import claimed, detail
from .test_sockets import next_event

BOOKING = "my booking is QX7K2P, I fly to Lisbon tomorrow"
FOUND = [
    {"entity": "booking_reference", "value": "qx7k2p", "start": 14, "end": 20},
    {"entity": "place", "value": "Lisbon", "start": 31, "end": 37},
    {"entity": "date", "value": "tomorrow", "start": 38, "end": 46, "resolved": "2026-12-04"},
]


async def _no_event(ws: Any, type_: str, within: float = 0.5) -> None:
    """No event of this type arrives on the socket within the time given."""
    try:
        while True:
            frame = await asyncio.wait_for(ws.receive(), timeout=within)
            assert json.loads(frame.data)["type"] != type_, frame.data
    except asyncio.TimeoutError:
        return


async def test_a_booking_reference_given_after_the_handoff_reaches_the_context_live(
    client: TestClient, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    customer = await claimed(client, agent_headers)
    before = (await detail(client, customer, agent_headers))["handoff"]
    assert before["context"] == {"summary": "The customer asked for a person."}
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await next_event(console, "hello")
    rasa.entities[BOOKING] = FOUND

    await customer.say(BOOKING)

    event = await next_event(console, "context")
    context = {
        "summary": "The customer asked for a person.",
        "booking_reference": "QX7K2P",
        "places": ["Lisbon"],
        "dates": ["tomorrow"],
        "resolved_dates": {"tomorrow": "2026-12-04"},
    }
    assert {k: v for k, v in event.items() if k != "id"} == {
        "type": "context", "conversation_id": customer.id, "handoff_id": before["id"],
        "context": context,
    }
    assert json.loads(json.dumps(event)) == event
    stored = await detail(client, customer, agent_headers)
    assert stored["handoff"]["context"] == context
    queued = await (await client.get("/api/agent/queue", headers=agent_headers)).json()
    assert [c["handoff"]["context"] for c in queued["conversations"]] == [context]

    # Said again, or nothing found: the context does not change, and no event is sent.
    for text, readings in ((BOOKING, 2), ("thanks", 3)):
        await customer.say(text)
        await _until(lambda: sum(c["mode"] == "human" for c in rasa.calls) == readings)
    await _no_event(console, "context")
    assert (await detail(client, customer, agent_headers))["handoff"]["context"] == context
    await console.close()


async def test_a_name_and_a_new_reference_replace_the_earlier_ones(
    client: TestClient, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    customer = await claimed(client, agent_headers)
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await next_event(console, "hello")
    rasa.entities["booking AB12CD"] = [{"entity": "booking_reference", "value": "AB12CD"}]
    rasa.entities["sorry, it's ZZ99YY, my name is Anna Schmidt"] = [
        {"entity": "booking_reference", "value": "ZZ99YY"},
        {"entity": "customer_name", "value": "Anna Schmidt"},
    ]
    await customer.say("booking AB12CD")
    assert (await next_event(console, "context"))["context"]["booking_reference"] == "AB12CD"

    await customer.say("sorry, it's ZZ99YY, my name is Anna Schmidt")

    context = (await next_event(console, "context"))["context"]
    assert (context["booking_reference"], context["customer_name"]) == ("ZZ99YY", "Anna Schmidt")
    await console.close()


async def test_a_waiting_conversation_is_updated_too_and_a_resolved_one_is_not(
    client: TestClient, customer: Any, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    await customer.say("can I talk to a real person")
    rasa.entities["flight BA123"] = [{"entity": "flight_number", "value": "BA 123"}]
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    await next_event(console, "hello")

    await customer.say("flight BA123")

    event = await next_event(console, "context")
    assert event["context"]["flight_number"] == "BA123"
    resolved = await client.post(f"/api/agent/conversations/{customer.id}/resolve",
                                 headers=agent_headers)
    assert resolved.status == 200
    # Back with the bot, the message is a bot turn: nothing is read along.
    rasa.entities["flight BA456"] = [{"entity": "flight_number", "value": "BA456"}]
    await customer.say("flight BA456")
    await _no_event(console, "context")
    await console.close()


async def test_a_message_that_waited_tells_the_bot_when_it_was_sent_in_the_company_zone(
    make_client: MakeClient, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    """A turn sent at once carries no time (Rasa's clock, in the same zone, is as good);
    one that queued for Rasa, and a message read along, carry when they were sent."""
    client = await make_client(timezone="Europe/Berlin", rasa_concurrency=1)
    rasa.delay = 0.3
    paths = []
    for _ in range(2):
        body = await (await client.post("/api/conversations")).json()
        paths.append((f"/api/conversations/{body['id']}/messages",
                      {"Authorization": f"Bearer {body['token']}"}))
    started = dt.datetime.now(dt.timezone.utc)
    answers = await asyncio.gather(*(
        client.post(path, json={"text": "tomorrow at 9"}, headers=headers)
        for path, headers in paths
    ))
    assert [answer.status for answer in answers] == [200, 200]
    assert len(rasa.calls) == 2
    first, queued = rasa.calls
    assert "metadata" not in first
    sent_at = dt.datetime.fromisoformat(queued["metadata"]["sent_at"])
    # December in Berlin: an hour ahead of UTC, written as such; when it began to wait,
    # before the first turn's 0.3 s were over.
    assert sent_at.utcoffset() == dt.timedelta(hours=1), queued["metadata"]
    assert started - dt.timedelta(seconds=1) <= sent_at <= started + dt.timedelta(seconds=0.3)

    rasa.delay = 0
    path, headers = paths[0]
    assert (await client.post(path, json={"text": "can I talk to a real person"},
                              headers=headers)).status == 200
    assert (await client.post(path, json={"text": "tomorrow at 9"}, headers=headers)).status == 200
    await _until(lambda: len(rasa.calls) == 4)
    read_along = rasa.calls[3]
    assert read_along["mode"] == "human"
    assert dt.datetime.fromisoformat(read_along["metadata"]["sent_at"]).utcoffset() == (
        dt.timedelta(hours=1)
    )


def test_the_time_zone_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).timezone == "UTC"
    assert Settings.from_env({"BATON_TIMEZONE": "Europe/Lisbon"}).timezone == "Europe/Lisbon"
    with pytest.raises(ValueError, match="BATON_TIMEZONE must be a time zone name such as "
                                         "Europe/Berlin or UTC, got 'Mars/Olympus'"):
        Settings.from_env({"BATON_TIMEZONE": "Mars/Olympus"})


@pytest.mark.parametrize(
    ("context", "entities", "expected"),
    [
        ({}, [], None),
        ({"booking_reference": "AB12CD"}, [{"entity": "booking_reference", "value": "ab 12cd"}], None),
        ({"dates": ["tomorrow"]}, [{"entity": "date", "value": "tomorrow"}], None),
        ({"dates": ["tomorrow"]}, [{"entity": "date", "value": "friday", "resolved": "2026-12-04"}],
         {"dates": ["tomorrow", "friday"], "resolved_dates": {"friday": "2026-12-04"}}),
        ({"places": ["Paris"]}, [{"entity": "place", "value": "Rome"}, {"entity": "place", "value": ""}],
         {"places": ["Paris", "Rome"]}),
        ({"summary": "s"}, [{"entity": "intent_like", "value": "x"}], None),
    ],
)
def test_merged_context(
    context: dict[str, Any], entities: list[dict[str, Any]], expected: dict[str, Any] | None
) -> None:
    assert merged_context(context, {"entities": entities}) == expected
