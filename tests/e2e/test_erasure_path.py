"""Erasure through real processes: Rasa's tracker in Redis goes with the transcript.

A customer talks to the trained bot, so Rasa keeps the conversation's tracker in its
Redis (endpoints.yml); a supervisor erases the conversation, and the tracker is gone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from ..conftest import RunningBaton
from .customer_api import supervisor_headers
from ..shapes_check import CHECK_RESPONSES

pytestmark = pytest.mark.e2e


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(middlewares=CHECK_RESPONSES,
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


async def test_an_erased_conversation_is_gone_from_rasa_too(
    baton: RunningBaton, http: aiohttp.ClientSession
) -> None:
    base = baton.base_url
    supervisor = await supervisor_headers(baton, http)
    async with http.post(f"{base}/api/conversations") as created:
        body = await created.json()
    customer = {"Authorization": f"Bearer {body['token']}"}
    async with http.post(f"{base}/api/conversations/{body['id']}/messages", headers=customer,
                         json={"text": "how do I check in online?"}) as answered:
        reply = await answered.json()
    assert [m["sender"] for m in reply["messages"]] == ["customer", "bot"], reply
    trackers = aioredis.Redis(host="127.0.0.1", port=baton.stack.ports.redis, db=0)
    try:
        assert await trackers.exists(f"tracker:{body['id']}") == 1

        async with http.post(f"{base}/api/agent/privacy/erasures", headers=supervisor, json={
            "conversation_ids": [body["id"]], "reason": "the customer asked"
        }) as erased:
            assert erased.status == 200, await erased.text()
            result = await erased.json()

        assert (result["erased"], result["messages_deleted"], result["assistant_forgotten"]) == (
            [body["id"]], 2, True)
        assert await trackers.exists(f"tracker:{body['id']}") == 0
    finally:
        await trackers.aclose()
    async with http.get(f"{base}/api/conversations/{body['id']}/messages",
                        headers=customer) as gone:
        assert gone.status == 404
