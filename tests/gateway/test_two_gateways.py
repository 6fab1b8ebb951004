"""Two gateways on one PostgreSQL and one Redis (make run-cluster): what one of them
changes, the other knows at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.storage.holders import Holder
from handoff.storage.models import STATUS_AGENT, STATUS_BOT, STATUS_WAITING
from handoff.web.shared_limits import SharedTokenBuckets

from ..redis_server import RedisServer
from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient
from .test_sockets import next_event

# Several gateways need a database they all write: PostgreSQL only.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def gateways(make_client: MakeClient, redis_server: RedisServer) -> tuple[TestClient, TestClient]:
    url = redis_server.url(5)
    return await make_client(redis_url=url), await make_client(redis_url=url)


async def login(client: TestClient) -> dict[str, str]:
    response = await client.post(
        "/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    )
    assert response.status == 200
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def test_a_claim_on_one_gateway_routes_the_next_message_on_the_other(
    gateways: tuple[TestClient, TestClient],
) -> None:
    here, there = gateways
    body = await (await here.post("/api/conversations")).json()
    customer = Customer(here, body["id"], body["token"])
    agent = await login(there)
    base = f"/api/agent/conversations/{customer.id}"

    assert (await customer.say("hello"))["status"] == STATUS_BOT
    assert (await customer.say("can I talk to a real person"))["status"] == STATUS_WAITING
    assert (await there.post(f"{base}/claim", headers=agent)).status == 200
    # Read on the other gateway right after: the agent has it, the bot stays out.
    told = await customer.say("are you there?")
    assert (told["status"], [m["sender"] for m in told["messages"]]) == (STATUS_AGENT, ["customer"])
    assert await here.app[keys.HOLDERS].get(customer.id) == Holder(STATUS_AGENT, 1, "Maya")

    assert (await there.post(f"{base}/resolve", headers=agent)).status == 200
    answered = await customer.say("how do I check in?")
    assert (answered["status"], [m["sender"] for m in answered["messages"]]) == (
        STATUS_BOT, ["customer", "bot"]
    )


async def test_a_read_that_a_change_overtook_does_not_undo_it(
    gateways: tuple[TestClient, TestClient],
) -> None:
    here, there = gateways
    body = await (await here.post("/api/conversations")).json()
    shared = here.app[keys.REDIS]
    await shared.delete(f"baton:holder:{body['id']}")  # as if it had expired

    # The read of the row (still the bot's) starts, the change lands, then the read ends.
    reading = asyncio.ensure_future(there.app[keys.HOLDERS].get(body["id"]))
    await asyncio.sleep(0)
    await here.app[keys.HOLDERS].changed(body["id"], Holder(STATUS_AGENT, 1, "Maya"))
    assert await reading in (Holder(STATUS_BOT), Holder(STATUS_AGENT, 1, "Maya"))

    for gateway in gateways:
        assert await gateway.app[keys.HOLDERS].get(body["id"]) == Holder(STATUS_AGENT, 1, "Maya")
    assert await there.app[keys.HOLDERS].get("nope") is None


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Waits for what another gateway's notice changes here (in a few milliseconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.01)


async def console(client: TestClient, headers: dict[str, str]) -> ClientWebSocketResponse:
    ws = await client.ws_connect("/api/agent/ws", headers=headers)
    await next_event(ws, "hello")
    return ws


async def test_an_agent_on_the_other_gateway_is_online_for_the_customers_here(
    gateways: tuple[TestClient, TestClient],
) -> None:
    here, there = gateways
    sockets = here.app[keys.SOCKETS]
    agent_console = await console(there, await login(there))
    await until(lambda: sockets.elsewhere == {1})
    assert (sockets.agents_online(), sockets.agent_connected(1)) == (1, True)

    body = await (await here.post("/api/conversations")).json()
    customer = Customer(here, body["id"], body["token"])
    widget = await customer.socket()
    assert (await customer.say("can I talk to a real person"))["status"] == STATUS_WAITING
    place = await next_event(widget, "queue")
    assert (place["team"], place["agents_online"]) == ("online", 1)
    told = [(m["sender"], m["text"]) for m in await customer.messages() if m["sender"] != "customer"]
    assert told == [("bot", "A colleague is on the way.")]
    await widget.close()

    await agent_console.close()
    await until(lambda: sockets.elsewhere == frozenset())
    assert (sockets.agents_online(), sockets.agent_connected(1)) == (0, False)


async def test_an_agent_back_on_the_other_gateway_within_the_grace_keeps_the_conversation(
    make_client: MakeClient, redis_server: RedisServer
) -> None:
    url = redis_server.url(5)
    here = await make_client(redis_url=url, agent_grace_seconds=0.5)
    there = await make_client(redis_url=url, agent_grace_seconds=0.5)
    body = await (await here.post("/api/conversations")).json()
    customer = Customer(here, body["id"], body["token"])
    agent = await login(here)
    await customer.say("can I talk to a real person")
    first = await console(here, agent)
    assert (await here.post(f"/api/agent/conversations/{customer.id}/claim",
                            headers=agent)).status == 200

    # The gateway the console was on sees it go (its grace starts); it comes back on the
    # other one, which tells the first.
    await first.close()
    second = await console(there, agent)
    await until(lambda: here.app[keys.SOCKETS].elsewhere == {1})
    await asyncio.sleep(1.0)  # the grace period (0.5 s) is over

    assert await here.app[keys.HOLDERS].get(customer.id) == Holder(STATUS_AGENT, 1, "Maya")
    await second.close()


async def test_a_gateway_that_stops_takes_its_agents_out_of_the_others_view(
    gateways: tuple[TestClient, TestClient],
) -> None:
    here, there = gateways
    await console(there, await login(there))
    await until(lambda: here.app[keys.SOCKETS].elsewhere == {1})

    await there.close()

    await until(lambda: here.app[keys.SOCKETS].elsewhere == frozenset())


async def test_a_flooding_conversation_gets_one_limit_across_the_gateways(
    make_client: MakeClient, redis_server: RedisServer
) -> None:
    url = redis_server.url(5)
    gateways = [await make_client(redis_url=url, rate_per_conversation=0.5,
                                  burst_per_conversation=3) for _ in range(2)]
    body = await (await gateways[0].post("/api/conversations")).json()
    statuses = []
    for index in range(5):
        response = await gateways[index % 2].post(
            f"/api/conversations/{body['id']}/messages", json={"text": f"m{index}"},
            headers={"Authorization": f"Bearer {body['token']}"},
        )
        statuses.append(response.status)

    assert statuses == [200, 200, 200, 429, 429]
    assert response.headers["Retry-After"] == "1"


async def test_failed_logins_on_both_gateways_count_together(
    gateways: tuple[TestClient, TestClient],
) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"  # nobody's: every try fails
    statuses = []
    for index in range(6):
        response = await gateways[index % 2].post(
            "/api/agent/login", json={"email": email, "password": "wrong"}
        )
        statuses.append(response.status)

    # Five free failures, whichever gateway had them; the sixth waits a second.
    assert statuses == [401, 401, 401, 401, 401, 429]


async def test_a_shared_bucket_allows_its_burst_then_its_rate(
    gateways: tuple[TestClient, TestClient],
) -> None:
    buckets = SharedTokenBuckets(gateways[0].app[keys.REDIS], rate=2.0, burst=3.0)
    key = uuid.uuid4().hex

    assert [await buckets.take(key) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await buckets.take(key) == pytest.approx(0.5, abs=0.05)
    assert await buckets.take(f"{key}-other") == 0.0
    await asyncio.sleep(0.5)
    assert await buckets.take(key) == 0.0
    assert await SharedTokenBuckets(gateways[0].app[keys.REDIS], rate=0, burst=0).take(key) == 0.0
