from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.conversations.annotations import Annotator

from .conftest import Customer
from .fake_rasa import FakeRasa


async def _new_customer(client: TestClient) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    return Customer(client, body["id"], body["token"])


async def _handed_off(client: TestClient, count: int) -> list[Customer]:
    customers = [await _new_customer(client) for _ in range(count)]
    for customer in customers:
        assert (await customer.say("can I talk to a real person"))["status"] == "waiting"
    return customers


async def _nlu_by_seq(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> dict[int, Any]:
    detail = await (await client.get(f"/api/agent/conversations/{customer.id}",
                                     headers=agent_headers)).json()
    return {m["seq"]: m.get("nlu") for m in detail["messages"] if m["sender"] == "customer"}


def _human_calls(rasa: FakeRasa) -> list[tuple[str, str, str]]:
    return [(c["sender"], c["message"], c["message_id"]) for c in rasa.calls if c["mode"] == "human"]


async def _until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_messages_to_a_human_are_read_by_the_bot_in_the_background(
    client: TestClient, customer: Customer, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    await customer.say("can I talk to a real person")
    sent = await customer.say("my booking is QX7K2P")
    seq = sent["messages"][0]["seq"]

    await _until(lambda: len(_human_calls(rasa)) == 1)
    await asyncio.sleep(0.1)
    read = (await _nlu_by_seq(client, customer, agent_headers))[seq]
    assert read["intent"] == "ask_check_in"
    assert [c["mode"] for c in rasa.calls] == ["bot", "human"]
    assert _human_calls(rasa) == [(customer.id, "my booking is QX7K2P", f"{customer.id}-{seq}")]


async def test_messages_that_wait_are_read_together_and_annotated_on_the_last(
    client: TestClient, customer: Customer, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    await customer.say("can I talk to a real person")
    rasa.delay = 0.3
    first = (await customer.say("first"))["messages"][0]["seq"]
    await _until(lambda: len(_human_calls(rasa)) == 1)
    # While the bot reads "first", two more arrive: they wait, and go together.
    second = (await customer.say("second"))["messages"][0]["seq"]
    third = (await customer.say("third"))["messages"][0]["seq"]

    await _until(lambda: len(_human_calls(rasa)) == 2)
    await asyncio.sleep(0.5)
    assert _human_calls(rasa) == [
        (customer.id, "first", f"{customer.id}-{first}"),
        (customer.id, "second\nthird", f"{customer.id}-{third}"),
    ]
    nlu = await _nlu_by_seq(client, customer, agent_headers)
    assert (nlu[first]["intent"], nlu[second], nlu[third]["intent"]) == (
        "ask_check_in", None, "ask_check_in",
    )
    assert client.app[keys.ANNOTATOR].dropped == 0


async def test_past_the_backlog_new_readings_are_dropped_and_counted(
    client: TestClient, rasa: FakeRasa
) -> None:
    a, b, c = await _handed_off(client, 3)
    rasa.delay = 0.3
    rasa.calls.clear()
    annotator = Annotator(client.app, rate=100, backlog=1, max_chars=10)
    try:
        annotator.submit(a.id, 10, "to a")  # read at once
        await _until(lambda: len(rasa.calls) == 1)
        annotator.submit(b.id, 11, "to b")  # waits: the backlog is full
        annotator.submit(c.id, 12, "to c")  # dropped
        annotator.submit(b.id, 13, "too long!")  # joins b's: over max_chars, dropped
        assert annotator.dropped == 2
        await _until(lambda: len(rasa.calls) == 2)
        assert _human_calls(rasa) == [(a.id, "to a", f"{a.id}-10"), (b.id, "to b", f"{b.id}-11")]
    finally:
        await annotator.close()


async def test_readings_keep_to_the_rate(client: TestClient, rasa: FakeRasa) -> None:
    customers = await _handed_off(client, 3)
    rasa.calls.clear()
    annotator = Annotator(client.app, rate=5)
    try:
        started = time.monotonic()
        for index, customer in enumerate(customers):
            annotator.submit(customer.id, 100 + index, "hello")
        await _until(lambda: len(rasa.calls) == 3)
        # Three readings at five a second: the third starts 0.4 s after the first.
        assert time.monotonic() - started >= 0.39
        assert [sender for sender, _, _ in _human_calls(rasa)] == [c.id for c in customers]
    finally:
        await annotator.close()


async def test_a_conversation_back_with_the_bot_is_not_read_as_paused(
    client: TestClient, rasa: FakeRasa, agent_headers: dict[str, str]
) -> None:
    first, second = await _handed_off(client, 2)
    base = f"/api/agent/conversations/{second.id}"
    assert (await client.post(f"{base}/claim", headers=agent_headers)).status == 200
    rasa.calls.clear()
    annotator = Annotator(client.app, rate=2)
    try:
        annotator.submit(first.id, 100, "read now")
        annotator.submit(second.id, 101, "read in half a second")
        await _until(lambda: len(rasa.calls) == 1)
        assert (await client.post(f"{base}/resolve", headers=agent_headers)).status == 200
        await asyncio.sleep(0.8)
        assert _human_calls(rasa) == [(first.id, "read now", f"{first.id}-100")]
    finally:
        await annotator.close()


async def test_reading_along_can_be_turned_off(
    make_client: Any, rasa: FakeRasa
) -> None:
    client = await make_client(annotation_rate=0)
    (customer,) = await _handed_off(client, 1)
    await customer.say("not read")
    await asyncio.sleep(0.2)
    assert _human_calls(rasa) == []


async def test_readings_slow_down_while_the_relay_is_busy(
    client: TestClient, rasa: FakeRasa
) -> None:
    a, b, c = await _handed_off(client, 3)
    rasa.calls.clear()
    rasa.delay = 0.05
    writer = client.app[keys.WRITER]
    annotator = Annotator(client.app, rate=100)
    try:
        for index, customer in enumerate((a, b, c)):
            annotator.submit(customer.id, 100 + index, "hello")
        await _until(lambda: len(rasa.calls) == 1)
        first = time.monotonic()
        await _until(lambda: len(rasa.calls) == 2)
        # Quiet: the second reading follows after about three times the first's 50 ms.
        quiet = time.monotonic() - first
        # 1,000 messages relayed during the second reading: about 5,000 a second over
        # that reading and its rest, five times BUSY_RELAY_RATE, so it rests five times
        # as long.
        writer._queue.busy.messages += 1000  # what the writer counts as committed
        second = time.monotonic()
        await _until(lambda: len(rasa.calls) == 3)
        busy = time.monotonic() - second

        assert 0.15 <= quiet < 0.4
        assert busy >= 0.6
        assert [sender for sender, _, _ in _human_calls(rasa)] == [a.id, b.id, c.id]
    finally:
        await annotator.close()
