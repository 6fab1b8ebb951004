from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.annotations import Annotator, Reading

from .conftest import Customer
from .fake_rasa import FakeRasa


async def test_messages_to_a_human_are_read_by_the_bot_in_the_background(
    client: TestClient, customer: Customer, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    await customer.say("can I talk to a real person")
    sent = await customer.say("my booking is QX7K2P")

    await asyncio.sleep(0.3)
    detail = await (await client.get(f"/api/agent/conversations/{customer.id}",
                                     headers=agent_headers)).json()
    read = next(m for m in detail["messages"] if m["seq"] == sent["messages"][0]["seq"])
    assert read["nlu"]["intent"] == "ask_check_in"
    assert [c["mode"] for c in rasa.calls] == ["bot", "human"]


async def test_under_overload_new_readings_are_dropped_and_counted(
    client: TestClient, customer: Customer, rasa: FakeRasa
) -> None:
    rasa.delay = 0.3
    annotator = Annotator(client.app, workers=1, backlog=1)
    try:
        for message_id in (1, 2, 3):
            annotator.submit(Reading(message_id, customer.id, "hello"))
            await asyncio.sleep(0.05)
        assert annotator.dropped == 1
        await asyncio.sleep(0.8)
        assert [c["message_id"] for c in rasa.calls] == ["1", "2"]
    finally:
        await annotator.close()
    assert client.app[keys.ANNOTATOR].dropped == 0
