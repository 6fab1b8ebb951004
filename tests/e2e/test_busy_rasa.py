"""A surge of customers at the real Rasa: a busy bot is waited for, not handed off."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from ..conftest import Stack, new_stack

pytestmark = pytest.mark.e2e

QUESTIONS = ("how do I check in online", "what is the baggage allowance",
             "how do I choose a seat")
CUSTOMERS = 60


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # 60 turns at once take Rasa far longer than 5 s; each one's own answer does not.
    stack = new_stack(tmp_path_factory.mktemp("busy"), extra_env={"BATON_RASA_TIMEOUT": "5"})
    try:
        stack.start(timeout=240)
        yield stack
    finally:
        stack.stop()


def _metric(text: str, name: str) -> float:
    (value,) = [line.split()[-1] for line in text.splitlines() if line.split(" ")[0] == name]
    return float(value)


async def test_sixty_customers_at_once_are_all_answered_by_the_bot(stack: Stack) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

        async def customer(question: str) -> dict[str, Any]:
            created = await (await http.post(f"{stack.base_url}/api/conversations")).json()
            response = await http.post(
                f"{stack.base_url}/api/conversations/{created['id']}/messages",
                json={"text": question},
                headers={"Authorization": f"Bearer {created['token']}"},
            )
            assert response.status == 200, await response.text()
            return await response.json()

        turns = await asyncio.gather(
            *(customer(QUESTIONS[i % len(QUESTIONS)]) for i in range(CUSTOMERS))
        )
        metrics = await (await http.get(f"{stack.base_url}/metrics")).text()

    assert [(t["status"], [m["sender"] for m in t["messages"]][:2]) for t in turns] == [
        ("bot", ["customer", "bot"])
    ] * CUSTOMERS
    assert [_metric(metrics, f'baton_bot_turns_total{{outcome="{outcome}"}}')
            for outcome in ("answered", "handoff", "bot_unavailable")] == [CUSTOMERS, 0, 0]
    assert _metric(metrics, "baton_rasa_wait_seconds_count") == CUSTOMERS
