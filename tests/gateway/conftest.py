from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from handoff.access.agents import ensure_agent
from handoff.app import create_app
from handoff.storage.db import upgrade_async
from handoff.settings import Settings

from ..pg_server import PostgresServer, start_postgres
from ..redis_server import RedisServer
from ..shapes_check import CHECK_RESPONSES, CheckedWebSocket
from .fake_rasa import FakeRasa

AGENT_EMAIL = "maya@example.com"
AGENT_PASSWORD = "correct horse battery staple"
INTERNAL_SECRET = "gateway-test-internal-secret"


@pytest.fixture
async def fake_rasa() -> AsyncIterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real Redis, as several gateway processes share one (make run-cluster)."""
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every database test runs on SQLite (embedded) and on a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        name = f"t_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user=server.user, database="postgres"
        )
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        url = server.url(name)
    await upgrade_async(url)
    await ensure_agent(url, AGENT_EMAIL, AGENT_PASSWORD, "Maya")
    return url


MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    fake_rasa: tuple[FakeRasa, str],
    database_url: str,
    tmp_path: Path,
) -> MakeClient:
    async def make(**overrides: Any) -> TestClient:
        _, rasa_url = fake_rasa
        settings = Settings(
            database_url=database_url, rasa_url=rasa_url, actions_url=rasa_url, rasa_timeout=5,
            internal_secret=INTERNAL_SECRET,
            # Never the repository's var/learned_nlu.yml, which `make train` would read.
            learned_file=tmp_path / "learned_nlu.yml",
        )
        # Every socket frame a test reads, and every API answer, is checked against its shape.
        return await aiohttp_client(
            create_app(replace(settings, **overrides)), ws_response_class=CheckedWebSocket,
            middlewares=CHECK_RESPONSES,
        )

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient:
    return await make_client()


@pytest.fixture
def rasa(fake_rasa: tuple[FakeRasa, str]) -> FakeRasa:
    return fake_rasa[0]


async def widget_socket(
    client: TestClient, conversation_id: str, token: str, after: int | None = None
) -> ClientWebSocketResponse:
    """The widget's socket as widget.js opens it: the token in the first frame, not the URL."""
    query = "" if after is None else f"?after={after}"
    ws = await client.ws_connect(f"/api/conversations/{conversation_id}/ws{query}")
    await ws.send_json({"type": "auth", "token": token})
    return ws


class Customer:
    def __init__(self, client: TestClient, conversation_id: str, token: str) -> None:
        self.client = client
        self.id = conversation_id
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    async def say(self, text: str, **extra: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/conversations/{self.id}/messages", json={"text": text, **extra},
            headers=self.headers,
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def socket(self, after: int | None = None) -> ClientWebSocketResponse:
        return await widget_socket(self.client, self.id, self.token, after)

    async def messages(self, after: int = 0) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/conversations/{self.id}/messages?after={after}", headers=self.headers
        )
        assert response.status == 200
        return (await response.json())["messages"]


@pytest.fixture
async def customer(client: TestClient) -> Customer:
    response = await client.post("/api/conversations")
    assert response.status == 201
    body = await response.json()
    return Customer(client, body["id"], body["token"])


@pytest.fixture
async def agent_headers(client: TestClient) -> dict[str, str]:
    response = await client.post(
        "/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    )
    assert response.status == 200
    return {"Authorization": f"Bearer {(await response.json())['token']}"}
