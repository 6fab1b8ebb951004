from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from handoff.web.ratelimit import LoginThrottle, TokenBuckets

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3.0, clock=clock)

    assert [await buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await buckets.take("a") == pytest.approx(0.5)
    assert await buckets.take("b") == 0.0
    clock.now += 0.5
    assert await buckets.take("a") == 0.0
    assert await buckets.take("a") == pytest.approx(0.5)
    assert await TokenBuckets(rate=0, burst=0).take("a") == 0.0


async def test_login_throttle_doubles_the_wait_after_the_free_failures() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, window=60, clock=clock)

    for _ in range(3):
        assert await throttle.wait("x") == 0
        await throttle.failed("x")
    assert await throttle.wait("x") == 1.0
    await throttle.failed("x")
    assert await throttle.wait("x") == 2.0
    clock.now += 2
    assert await throttle.wait("x") == 0
    clock.now += 60
    assert await throttle.wait("x") == 0
    await throttle.failed("x")
    await throttle.succeeded("x")
    assert throttle.failures == {}


async def test_a_flooding_conversation_gets_429_and_others_are_served(
    make_client: MakeClient,
) -> None:
    client = await make_client(rate_per_conversation=0.5, burst_per_conversation=3)
    noisy, calm = [
        Customer(client, b["id"], b["token"])
        for b in [await (await client.post("/api/conversations")).json() for _ in range(2)]
    ]
    statuses = []
    for index in range(5):
        response = await client.post(
            f"/api/conversations/{noisy.id}/messages", json={"text": f"m{index}"},
            headers=noisy.headers,
        )
        statuses.append(response.status)
    assert statuses == [200, 200, 200, 429, 429]
    # Refused after a second's wait (the tarpit), so one more second to go.
    assert response.headers["Retry-After"] == "1"
    assert (await response.json())["error"]["retry_after"] == 1
    assert (await calm.say("hello"))["status"] == "bot"
    assert [m["text"] for m in await noisy.messages() if m["sender"] == "customer"] == [
        "m0", "m1", "m2",
    ]


async def test_one_address_over_its_limit_gets_429(make_client: MakeClient) -> None:
    client = await make_client(rate_per_address=0.1, burst_per_address=2)

    statuses = [(await client.get("/api/openapi.json")).status for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert (await client.get("/healthz")).status == 200


async def test_repeated_failed_logins_are_slowed_down(client: TestClient) -> None:
    for _ in range(5):
        wrong = await client.post("/api/agent/login", json={"email": AGENT_EMAIL, "password": "x"})
        assert wrong.status == 401
    # Even the right password waits now: the throttle does not reveal which is right.
    blocked = await client.post(
        "/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    )
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) >= 1
