"""PostgreSQL restarts under live conversations: a clear 503 while it is down, then every
retried message is stored exactly once and answered."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import aiohttp
import asyncpg
import pytest

from ..conftest import ROOT, Stack, new_stack
from ..pg_server import PostgresServer, start_postgres
from ..shapes_check import CHECK_RESPONSES

pytestmark = pytest.mark.e2e
RESULTS = ROOT / "var" / "test-results" / "fault-postgres-restart.json"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.close()


@pytest.fixture(scope="module")
def stack(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    async def create() -> None:
        connection = await asyncpg.connect(host="127.0.0.1", port=postgres.port,
                                           user=postgres.user, database="postgres")
        await connection.execute("CREATE DATABASE baton_e2e")
        await connection.close()

    asyncio.run(create())
    stack = new_stack(tmp_path_factory.mktemp("pgrestart"), postgres.url("baton_e2e"))
    try:
        stack.start(timeout=240)
        yield stack
    finally:
        stack.stop()


async def test_postgres_restart_loses_and_duplicates_nothing(
    stack: Stack, postgres: PostgresServer
) -> None:
    async with aiohttp.ClientSession(
        middlewares=CHECK_RESPONSES, timeout=aiohttp.ClientTimeout(total=30)
    ) as http:
        base = stack.base_url
        body = await (await http.post(f"{base}/api/conversations")).json()
        cid, auth = body["id"], {"Authorization": f"Bearer {body['token']}"}
        sent: list[str] = []
        refused = 0

        async def say(text: str) -> dict:
            nonlocal refused
            client_id = uuid.uuid4().hex
            sent.append(text)
            deadline = time.monotonic() + 90
            while True:
                try:
                    async with http.post(f"{base}/api/conversations/{cid}/messages",
                                         json={"text": text, "client_message_id": client_id},
                                         headers=auth) as response:
                        if response.status == 200:
                            return await response.json()
                        assert response.status == 503, await response.text()
                        assert response.headers["Retry-After"] == "2"
                        assert "retry" in (await response.json())["error"]["message"]
                        refused += 1
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline
                await asyncio.sleep(0.5)

        assert (await say("how do I check in online"))["status"] == "bot"
        postgres.stop("fast")
        down = asyncio.create_task(say("what is the baggage allowance"))
        await asyncio.sleep(3)
        assert not down.done()
        postgres.start()
        answered = await down
        assert answered["status"] == "bot"
        assert [m["sender"] for m in answered["messages"]][:2] == ["customer", "bot"]
        assert (await say("how do I choose a seat"))["status"] == "bot"

        async with http.get(f"{base}/api/conversations/{cid}/messages", headers=auth) as response:
            stored = (await response.json())["messages"]
        customer = [m["text"] for m in stored if m["sender"] == "customer"]
        figures = {"customer_messages_sent": len(sent), "stored": len(customer),
                   "refused_with_503_while_down": refused,
                   "seqs_in_order_without_gaps": [m["seq"] for m in stored] == list(range(1, len(stored) + 1))}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=2))
        assert customer == sent
        assert figures["seqs_in_order_without_gaps"]
        assert refused >= 1
