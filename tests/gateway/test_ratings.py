"""The rating an agent's resolve asks for stays open, over GET /api/conversations/{id},
until the customer gives it, the conversation is handed off again, or a day has passed;
once given, it reaches the consoles of the agent who resolved it and of those watching."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import event, select, update

from handoff import keys
from handoff.storage.models import Handoff, utcnow
from handoff.conversations.ratings import RATING_ASKED_FOR

from .conftest import Customer
from .test_resolutions import add_agent, detail
from .test_sockets import next_event


async def _state(customer: Customer) -> dict[str, Any]:
    response = await customer.client.get(f"/api/conversations/{customer.id}", headers=customer.headers)
    assert response.status == 200
    return await response.json()  # type: ignore[no-any-return]


async def _handed_off_and_resolved(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    base = f"/api/agent/conversations/{customer.id}"
    assert (await customer.say("can I talk to a real person"))["status"] == "waiting"
    assert (await client.post(f"{base}/claim", headers=agent_headers)).status == 200
    assert (await client.post(f"{base}/resolve", headers=agent_headers)).status == 200


async def _resolved_at(client: TestClient, customer: Customer) -> list[dt.datetime | None]:
    async with client.app[keys.DB].read() as db:
        return list(
            (
                await db.scalars(
                    select(Handoff.resolved_at)
                    .where(Handoff.conversation_id == customer.id)
                    .order_by(Handoff.id)
                )
            ).all()
        )


async def _set_resolved_at(client: TestClient, customer: Customer, when: dt.datetime) -> None:
    async with client.app[keys.DB].write() as db:
        await db.execute(
            update(Handoff).where(Handoff.conversation_id == customer.id).values(resolved_at=when)
        )


async def test_no_rating_before_any_handoff(customer: Customer) -> None:
    await customer.say("how do I check in online")

    assert await _state(customer) == {
        "id": customer.id, "status": "bot", "agent": None, "rating": None,
    }


async def test_after_a_resolve_the_rating_is_asked_for_until_it_is_given(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _handed_off_and_resolved(client, customer, agent_headers)
    [resolved_at] = await _resolved_at(client, customer)
    assert resolved_at is not None

    asked = {"agent": {"name": "Maya"}, "asked_at": resolved_at.isoformat()}
    assert await _state(customer) == {
        "id": customer.id, "status": "bot", "agent": None, "rating": asked,
    }
    # Chatting with the bot again does not answer it.
    await customer.say("and what about baggage")
    assert (await _state(customer))["rating"] == asked

    rated = await client.post(
        f"/api/conversations/{customer.id}/rating", json={"score": 5}, headers=customer.headers
    )
    assert rated.status == 200
    assert (await _state(customer))["rating"] is None


async def test_a_day_after_the_resolve_the_rating_is_no_longer_asked_for(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _handed_off_and_resolved(client, customer, agent_headers)
    minute = dt.timedelta(minutes=1)

    within = utcnow() - RATING_ASKED_FOR + minute
    await _set_resolved_at(client, customer, within)
    assert (await _state(customer))["rating"] == {
        "agent": {"name": "Maya"}, "asked_at": within.isoformat(),
    }

    await _set_resolved_at(client, customer, utcnow() - RATING_ASKED_FOR - minute)
    assert (await _state(customer))["rating"] is None


async def test_no_rating_while_handed_off_again_then_the_new_handoff_is_asked_about(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _handed_off_and_resolved(client, customer, agent_headers)
    base = f"/api/agent/conversations/{customer.id}"

    await customer.say("a real person again please")
    assert await _state(customer) == {
        "id": customer.id, "status": "waiting", "agent": None, "rating": None,
    }
    assert (await client.post(f"{base}/claim", headers=agent_headers)).status == 200
    assert await _state(customer) == {
        "id": customer.id, "status": "agent", "agent": {"name": "Maya"}, "rating": None,
    }

    assert (await client.post(f"{base}/resolve", headers=agent_headers)).status == 200
    first, second = await _resolved_at(client, customer)
    assert first is not None and second is not None and second > first
    assert (await _state(customer))["rating"] == {
        "agent": {"name": "Maya"}, "asked_at": second.isoformat(),
    }


async def test_a_rated_handoff_is_not_asked_about_even_if_an_older_one_is_unrated(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    # do_rate rates the latest resolved handoff only, so only it decides.
    await _handed_off_and_resolved(client, customer, agent_headers)
    await _handed_off_and_resolved(client, customer, agent_headers)
    rated = await client.post(
        f"/api/conversations/{customer.id}/rating", json={"score": 3}, headers=customer.headers
    )
    assert rated.status == 200

    assert (await _state(customer))["rating"] is None


async def test_the_status_costs_one_statement_with_the_bot_and_none_otherwise(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    await _handed_off_and_resolved(client, customer, agent_headers)
    await _state(customer)  # the token and the holder are cached from here on
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = client.app[keys.DB].engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert (await _state(customer))["rating"] is not None
        assert len(statements) == 1, statements
        await customer.say("a real person again please")
        statements.clear()
        assert (await _state(customer))["status"] == "waiting"
        assert statements == []
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_rating_reaches_the_resolving_agent_and_whoever_has_it_open(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    sam = await add_agent(client, "Sam")
    base = f"/api/agent/conversations/{customer.id}"
    await customer.say("can I talk to a real person")
    assert (await client.post(f"{base}/claim", headers=agent_headers)).status == 200
    assert (await client.post(f"{base}/resolve", headers=agent_headers)).status == 200
    maya_console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    sam_console = await client.ws_connect("/api/agent/ws", headers=sam)
    await next_event(sam_console, "hello")
    await sam_console.send_json({"type": "watch", "conversation_id": customer.id})
    await next_event(sam_console, "watching")

    rated = await client.post(
        f"/api/conversations/{customer.id}/rating", json={"score": 4, "comment": "Quick, thanks"},
        headers=customer.headers,
    )

    assert rated.status == 200
    handoff = (await detail(client, customer, agent_headers))["handoff"]
    expected = {
        "type": "rating", "conversation_id": customer.id,
        "rating": {"handoff_id": handoff["id"], "score": 4, "comment": "Quick, thanks",
                   "rated_at": handoff["rated_at"], "agent": {"id": 1, "name": "Maya"}},
    }
    for console in (maya_console, sam_console):
        event = await next_event(console, "rating")
        assert {k: v for k, v in event.items() if k != "id"} == expected
    await maya_console.close()
    await sam_console.close()
