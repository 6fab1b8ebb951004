"""One turn at a time per conversation across gateways: the lock in Redis (TurnLocks)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.asyncio.lock import Lock

from handoff.routing.turns import TurnLocks

from ..redis_server import RedisServer


@pytest.fixture
async def shared(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url(4))
    yield client
    await client.aclose()


def conversation() -> str:
    return uuid.uuid4().hex


async def test_two_gateways_take_a_conversations_turns_one_at_a_time(
    shared: aioredis.Redis, redis_server: RedisServer
) -> None:
    # Two processes' TurnLocks, each with its own connections, as two gateways have.
    other = aioredis.from_url(redis_server.url(4))
    first, second = TurnLocks(shared), TurnLocks(other)
    busy, calm = conversation(), conversation()
    log: list[str] = []

    async def turn(turns: TurnLocks, name: str, conversation_id: str) -> None:
        async with turns.hold(conversation_id):
            log.append(f"{name} in")
            await asyncio.sleep(0.05)
            log.append(f"{name} out")

    await asyncio.gather(
        turn(first, "a1", busy), turn(second, "b1", busy), turn(first, "a2", busy),
        turn(second, "b2", busy), turn(second, "calm", calm),
    )
    await other.aclose()

    in_busy = [entry for entry in log if not entry.startswith("calm")]
    # Never two at once: each "in" is followed by its own "out".
    assert [entry.split()[1] for entry in in_busy] == ["in", "out"] * 4
    assert all(a.split()[0] == b.split()[0] for a, b in zip(in_busy[::2], in_busy[1::2]))
    # In this process, in arrival order.
    assert in_busy.index("a1 in") < in_busy.index("a2 in")
    assert in_busy.index("b1 in") < in_busy.index("b2 in")
    # Another conversation waits for none of them.
    assert log.index("calm in") < log.index("calm out") < len(log) - 1
    assert await shared.exists(f"baton:turn:{busy}") == 0
    assert first._waiting == {} and second._waiting == {}


async def test_a_gateway_killed_in_a_turn_holds_the_conversation_up_for_its_lease(
    shared: aioredis.Redis,
) -> None:
    conversation_id = conversation()
    # What a gateway killed mid-turn leaves: its lock, renewed no more.
    left = Lock(shared, f"baton:turn:{conversation_id}", timeout=0.6, thread_local=False)
    assert await left.acquire(blocking=False)
    turns = TurnLocks(shared, lease=0.6)

    started = time.monotonic()
    async with turns.hold(conversation_id):
        waited = time.monotonic() - started

    assert 0.4 <= waited < 1.5, waited


async def test_a_turn_longer_than_its_lease_keeps_the_conversation(
    shared: aioredis.Redis,
) -> None:
    conversation_id = conversation()
    first, second = TurnLocks(shared, lease=0.3), TurnLocks(shared, lease=0.3)
    log: list[str] = []

    async def long_turn() -> None:
        async with first.hold(conversation_id):
            log.append("long in")
            await asyncio.sleep(1.0)  # more than three leases: renewed meanwhile
            log.append("long out")

    async def next_turn() -> None:
        await asyncio.sleep(0.1)
        async with second.hold(conversation_id):
            log.append("next in")

    await asyncio.gather(long_turn(), next_turn())

    assert log == ["long in", "long out", "next in"]


async def test_a_turn_cancelled_while_waiting_for_the_other_gateway_lets_the_next_in(
    shared: aioredis.Redis,
) -> None:
    conversation_id = conversation()
    elsewhere, here = TurnLocks(shared), TurnLocks(shared)
    release = asyncio.Event()

    async def holding() -> None:
        async with elsewhere.hold(conversation_id):
            await release.wait()

    held = asyncio.create_task(holding())
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(here.hold(conversation_id).__aenter__())
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await held

    # The cancelled one left nothing behind, here or in Redis.
    assert here._waiting == {}
    async with here.hold(conversation_id):
        assert await shared.exists(f"baton:turn:{conversation_id}") == 1
