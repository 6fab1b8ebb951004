"""Two gateways on one database and one Redis: events cross from one to the other.

Each test runs two apps in this process (A and B), as make run-cluster runs two gateway
processes, with the real Redis of the `redis_server` fixture between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.access.agents import ensure_agent
from handoff.app import create_app
from handoff.live.events import typing_event
from handoff.live.fanout import COUNTER, STREAM, EVENTS_LOST, FanoutPublisher
from handoff.settings import Settings
from handoff.storage.db import upgrade_async

from ..redis_server import RedisServer
from ..shapes_check import CHECK_RESPONSES, CheckedWebSocket
from .conftest import AGENT_EMAIL, AGENT_PASSWORD, INTERNAL_SECRET, Customer
from .fake_rasa import FakeRasa
from .test_sockets import next_event

# This file's Redis database, emptied before each test.
REDIS_DB = 9


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url(REDIS_DB))
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def gateways(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    fake_rasa: tuple[FakeRasa, str],
    redis_server: RedisServer,
    redis: aioredis.Redis,
    tmp_path: Path,
) -> tuple[TestClient, TestClient]:
    """Gateways A and B: one SQLite file, one Redis."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    await upgrade_async(database_url)
    await ensure_agent(database_url, AGENT_EMAIL, AGENT_PASSWORD, "Maya")
    _, rasa_url = fake_rasa
    settings = Settings(
        database_url=database_url, rasa_url=rasa_url, actions_url=rasa_url, rasa_timeout=5,
        internal_secret=INTERNAL_SECRET, redis_url=redis_server.url(REDIS_DB),
    )
    a, b = [
        await aiohttp_client(
            create_app(settings), ws_response_class=CheckedWebSocket, middlewares=CHECK_RESPONSES
        )
        for _ in range(2)
    ]
    return a, b


async def login(client: TestClient) -> dict[str, str]:
    response = await client.post(
        "/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    )
    assert response.status == 200
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def claimed_customer(client: TestClient, headers: dict[str, str]) -> Customer:
    """A conversation that Maya holds, handed off and claimed on `client`."""
    body = await (await client.post("/api/conversations")).json()
    customer = Customer(client, body["id"], body["token"])
    assert (await customer.say("can I talk to a real person"))["status"] == "waiting"
    claim = await client.post(f"/api/agent/conversations/{customer.id}/claim", headers=headers)
    assert claim.status == 200
    return customer


async def console(client: TestClient, headers: dict[str, str], query: str = "") -> tuple[
    ClientWebSocketResponse, dict[str, Any]
]:
    ws = await client.ws_connect(f"/api/agent/ws{query}", headers=headers)
    return ws, await next_event(ws, "hello")


async def events_until(
    ws: ClientWebSocketResponse, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not events or not done(events[-1]):
        events.append(await next_event(ws))
    return events


def publisher(client: TestClient) -> FanoutPublisher:
    published = client.app[keys.PUBLISHER]
    assert isinstance(published, FanoutPublisher)
    return published


async def test_both_gateways_share_the_epoch(gateways: tuple[TestClient, TestClient]) -> None:
    a, b = gateways
    assert publisher(a).epoch == publisher(b).epoch != ""


async def test_a_customer_on_a_and_an_agent_on_b_hear_each_other_in_order(
    gateways: tuple[TestClient, TestClient],
) -> None:
    a, b = gateways
    headers = await login(b)
    on_b = await claimed_customer(b, headers)
    customer = Customer(a, on_b.id, on_b.token)
    last_seq = (await customer.messages())[-1]["seq"]
    agent, _ = await console(b, headers)
    widget = await customer.socket(after=last_seq)
    assert (await next_event(widget))["type"] == "status"

    widget_saw: list[dict[str, Any]] = []
    for turn in range(1, 6):
        await widget.send_json(
            {"type": "message", "text": f"customer {turn}", "client_message_id": f"c-{turn}"}
        )
        widget_saw.append(await next_event(widget))
        reply = await b.post(
            f"/api/agent/conversations/{customer.id}/messages", headers=headers,
            json={"text": f"agent {turn}", "client_message_id": f"a-{turn}"},
        )
        assert reply.status == 201
        widget_saw.append(await next_event(widget))
    console_saw = await events_until(
        agent, lambda e: e["type"] == "message" and e["message"]["text"] == "agent 5"
    )

    # The sending widget hears of its own messages in their acks only, never as events.
    assert [(e["type"], e.get("client_message_id"), e["message"]["text"]) for e in widget_saw] == [
        step
        for turn in range(1, 6)
        for step in (("ack", f"c-{turn}", f"customer {turn}"), ("message", None, f"agent {turn}"))
    ]
    assert [e["message"]["seq"] for e in widget_saw] == list(range(last_seq + 1, last_seq + 11))
    messages = [e for e in console_saw if e["type"] == "message"]
    assert [e["message"]["text"] for e in messages] == [
        text for turn in range(1, 6) for text in (f"customer {turn}", f"agent {turn}")
    ]
    assert [e["message"]["seq"] for e in messages] == list(range(last_seq + 1, last_seq + 11))
    ids = [e["id"] for e in console_saw]
    assert ids == sorted(set(ids))
    await widget.close()
    await agent.close()


async def test_a_console_resumes_on_the_other_gateway_with_exactly_what_it_missed(
    gateways: tuple[TestClient, TestClient],
) -> None:
    a, b = gateways
    headers = await login(a)
    witness, _ = await console(a, headers)
    leaving, hello = await console(a, headers)
    first = await claimed_customer(a, headers)
    seen = await events_until(leaving, lambda e: e["type"] == "status" and e["status"] == "agent")
    await leaving.close()
    await events_until(witness, lambda e: e.get("id") == seen[-1]["id"])

    await first.say("are you still there?")
    await claimed_customer(b, headers)
    await first.say("hello?")
    missed = await events_until(
        witness, lambda e: e["type"] == "message" and e["message"]["text"] == "hello?"
    )

    back, hello_again = await console(
        b, headers, f"?epoch={hello['epoch']}&last_event_id={seen[-1]['id']}"
    )
    replayed = [await next_event(back) for _ in missed]

    assert hello_again["epoch"] == hello["epoch"]
    assert hello_again["last_event_id"] == missed[-1]["id"]
    assert replayed == missed
    assert [e["id"] for e in replayed] == list(
        range(seen[-1]["id"] + 1, seen[-1]["id"] + 1 + len(missed))
    )
    await witness.close()
    await back.close()


async def test_a_console_resuming_during_a_burst_gets_the_replay_then_the_rest_once(
    gateways: tuple[TestClient, TestClient],
) -> None:
    a, b = gateways
    headers = await login(a)
    witness, hello = await console(a, headers)
    burst = 300

    async def publish() -> None:
        for n in range(burst):
            await publisher(a).to_agents(typing_event(f"burst-{n}", "customer", True))

    publishing = asyncio.ensure_future(publish())
    seen = [await next_event(witness) for _ in range(burst // 3)]
    # Resumed from a third of the way, while the rest is being published: what the
    # replay (read from Redis) holds and what arrives live meanwhile must not cross.
    back, _ = await console(
        b, headers, f"?epoch={hello['epoch']}&last_event_id={seen[-1]['id']}"
    )
    await publishing
    rest = [await next_event(back) for _ in range(burst - len(seen))]

    assert [e["conversation_id"] for e in rest] == [f"burst-{n}" for n in range(len(seen), burst)]
    assert [e["id"] for e in rest] == list(range(seen[-1]["id"] + 1, seen[-1]["id"] + 1 + len(rest)))
    await publisher(a).to_agents(typing_event("after", "customer", False))
    assert (await next_event(back))["conversation_id"] == "after"
    await witness.close()
    await back.close()


async def kill_reader(redis: aioredis.Redis, name: str) -> int:
    """Kills the connection CLIENT LIST names `name`; its id."""
    [reader] = [c for c in await redis.client_list() if c["name"] == name]
    await redis.client_kill_filter(_id=reader["id"])
    return int(reader["id"])


async def test_a_subscriber_that_loses_its_connection_mid_burst_loses_and_doubles_nothing(
    gateways: tuple[TestClient, TestClient], redis: aioredis.Redis,
) -> None:
    a, b = gateways
    headers = await login(b)
    customer = await claimed_customer(b, headers)
    agent, _ = await console(b, headers)
    widget = await customer.socket(after=(await customer.messages())[-1]["seq"])
    assert (await next_event(widget))["type"] == "status"
    presence = await next_event(agent)
    assert presence["type"] == "presence"
    burst = 200

    killed = None
    for n in range(burst):
        if n == burst // 2:
            killed = await kill_reader(redis, publisher(b).reader_name)
        await publisher(a).to_agents(typing_event(f"burst-{n}", "customer", True))
        await publisher(a).to_conversation(customer.id, typing_event(customer.id, "agent", n % 2 == 0))
    to_console = [await next_event(agent) for _ in range(burst)]
    to_widget = [await next_event(widget) for _ in range(burst)]

    assert [e["conversation_id"] for e in to_console] == [f"burst-{n}" for n in range(burst)]
    first = presence["id"] + 1
    assert [e["id"] for e in to_console] == list(range(first, first + burst))
    assert [e["typing"] for e in to_widget] == [n % 2 == 0 for n in range(burst)]
    [reader] = [c for c in await redis.client_list() if c["name"] == publisher(b).reader_name]
    assert int(reader["id"]) != killed
    # Nothing more came: no event twice.
    await publisher(a).to_agents(typing_event("after", "customer", False))
    assert (await next_event(agent))["conversation_id"] == "after"
    await widget.close()
    await agent.close()


# What other gateways publishing faster than this one reads look like: 200 console events
# at once, the stream trimmed to the last 100 of them.
_FLOOD = """
for i = 1, 200 do
  local n = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], 'MAXLEN', 100, n .. '-0',
    'e', '{"id":' .. n .. ',"type":"typing","conversation_id":"flood-' .. i ..
      '","sender":"customer","typing":true}', 'c', 'flood-' .. i, 'h', '')
end
"""


async def test_events_trimmed_before_a_gateway_read_them_reset_its_sockets(
    gateways: tuple[TestClient, TestClient], redis: aioredis.Redis,
) -> None:
    a, b = gateways
    headers = await login(b)
    customer = await claimed_customer(b, headers)
    agent, hello = await console(b, headers)
    widget = await customer.socket(after=(await customer.messages())[-1]["seq"])
    assert (await next_event(widget))["type"] == "status"
    assert (await next_event(agent))["type"] == "presence"

    await redis.eval(_FLOOD, 2, STREAM, COUNTER)

    assert await next_event(agent) == {"type": "reset"}
    survivors = [await next_event(agent) for _ in range(100)]
    assert [e["conversation_id"] for e in survivors] == [f"flood-{i}" for i in range(101, 201)]
    closing = await asyncio.wait_for(widget.receive(), timeout=5)
    assert (closing.type, closing.data) == (WSMsgType.CLOSE, EVENTS_LOST)
    # Nor can a console that was away resume across the gap: it reloads. (A's own
    # publish returns once A has read on past the flood.)
    await publisher(a).to_agents(typing_event("after", "customer", False))
    back, _ = await console(
        a, headers, f"?epoch={hello['epoch']}&last_event_id={hello['last_event_id']}"
    )
    assert await next_event(back) == {"type": "reset"}
    await agent.close()
    await back.close()


async def test_a_redis_that_starts_anew_resets_the_sockets_and_numbers_from_one(
    gateways: tuple[TestClient, TestClient], redis: aioredis.Redis,
) -> None:
    a, b = gateways
    headers = await login(b)
    customer = await claimed_customer(b, headers)
    agent, hello = await console(b, headers)
    widget = await customer.socket(after=(await customer.messages())[-1]["seq"])
    assert (await next_event(widget))["type"] == "status"
    assert (await next_event(agent))["type"] == "presence"

    # As a Redis restarted without its data, but without dropping the connections.
    await redis.flushdb()
    await publisher(a).to_agents(typing_event("anew", "customer", True))

    assert await next_event(agent) == {"type": "reset"}
    anew = await next_event(agent)
    assert (anew["id"], anew["conversation_id"]) == (1, "anew")
    closing = await asyncio.wait_for(widget.receive(), timeout=5)
    assert (closing.type, closing.data) == (WSMsgType.CLOSE, EVENTS_LOST)
    # The widget gone, the customer is offline: event 2 of the new epoch.
    assert await next_event(agent) == {
        "type": "presence", "id": 2, "conversation_id": customer.id, "customer_online": False,
    }
    assert publisher(a).epoch == publisher(b).epoch != hello["epoch"]
    back, hello_again = await console(
        b, headers, f"?epoch={hello['epoch']}&last_event_id={hello['last_event_id']}"
    )
    assert (hello_again["epoch"], hello_again["last_event_id"]) == (publisher(b).epoch, 2)
    assert await next_event(back) == {"type": "reset"}
    await agent.close()
    await back.close()
