"""One turn at a time per conversation, in arrival order (handoff.routing.turns.TurnLocks)."""

from __future__ import annotations

import asyncio

import pytest

from handoff.routing.turns import TurnLocks


async def test_turns_of_one_conversation_run_one_at_a_time_in_arrival_order() -> None:
    turns = TurnLocks()
    log: list[str] = []

    async def turn(name: str, conversation_id: str) -> None:
        async with turns.hold(conversation_id):
            log.append(f"{name} in")
            await asyncio.sleep(0.01)
            log.append(f"{name} out")

    await asyncio.gather(turn("a1", "a"), turn("a2", "a"), turn("b1", "b"), turn("a3", "a"))

    assert [entry for entry in log if entry.startswith("a")] == [
        "a1 in", "a1 out", "a2 in", "a2 out", "a3 in", "a3 out"
    ]
    # Another conversation does not wait for this one's turns.
    assert log.index("b1 in") < log.index("a1 out")
    assert turns._waiting == {}


async def test_a_turn_that_raises_lets_the_next_one_in() -> None:
    turns = TurnLocks()

    async def failing() -> None:
        async with turns.hold("c"):
            await asyncio.sleep(0)
            raise ValueError("boom")

    async def next_one() -> str:
        async with turns.hold("c"):
            return "ran"

    results = await asyncio.gather(failing(), next_one(), return_exceptions=True)

    assert isinstance(results[0], ValueError)
    assert results[1] == "ran"
    assert turns._waiting == {}


async def test_a_waiter_cancelled_in_the_queue_is_skipped() -> None:
    turns = TurnLocks()
    release = asyncio.Event()
    log: list[str] = []

    async def holder() -> None:
        async with turns.hold("c"):
            await release.wait()

    async def waiter(name: str) -> None:
        async with turns.hold("c"):
            log.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(waiter("cancelled"))
    last = asyncio.create_task(waiter("last"))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(asyncio.gather(first, last), 1)

    assert cancelled.cancelled()
    assert log == ["last"]
    assert turns._waiting == {}


async def test_a_waiter_cancelled_just_as_its_turn_came_passes_it_on() -> None:
    turns = TurnLocks()
    log: list[str] = []

    async def waiter(name: str) -> None:
        async with turns.hold("c"):
            log.append(name)

    entered = turns.hold("c")
    await entered.__aenter__()
    handed = asyncio.create_task(waiter("handed"))
    after = asyncio.create_task(waiter("after"))
    await asyncio.sleep(0)
    await entered.__aexit__(None, None, None)  # the turn is handed to `handed` ...
    handed.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await handed
    await asyncio.wait_for(after, 1)  # not left waiting for a turn nobody will end

    assert log == ["after"]
    assert turns._waiting == {}
