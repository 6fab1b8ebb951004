"""The Redis several gateways share: set by BATON_REDIS_URL, checked when the app starts."""

from __future__ import annotations

import asyncio

import pytest

from handoff import keys
from handoff.settings import Settings

from ..pg_server import free_port
from ..redis_server import RedisServer


def test_redis_url_is_read_from_the_environment() -> None:
    assert Settings.from_env({"BATON_REDIS_URL": " redis://127.0.0.1:6380/1 "}).redis_url == (
        "redis://127.0.0.1:6380/1"
    )
    assert Settings.from_env({}).redis_url == ""


async def test_alone_without_redis(client) -> None:
    assert client.app[keys.REDIS] is None


async def test_with_redis_the_app_holds_a_client(make_client, redis_server: RedisServer) -> None:
    client = await make_client(redis_url=redis_server.url(3))
    shared = client.app[keys.REDIS]
    assert shared is not None
    await shared.set(b"baton-test", b"1")
    assert await shared.get(b"baton-test") == b"1"
    await shared.delete(b"baton-test")


async def test_more_commands_at_once_than_connections_all_succeed(
    make_client, redis_server: RedisServer
) -> None:
    # A relay burst on a gateway among several has a command of each turn in flight at
    # once; redis-py's pool answered the 101st with MaxConnectionsError (bench/gateways.py).
    client = await make_client(redis_url=redis_server.url(3))
    shared = client.app[keys.REDIS]
    await shared.delete(b"baton-test-burst")
    counted = await asyncio.gather(*(shared.incr(b"baton-test-burst") for _ in range(500)))
    assert sorted(counted) == list(range(1, 501))
    assert await shared.get(b"baton-test-burst") == b"500"
    await shared.delete(b"baton-test-burst")


async def test_a_redis_that_does_not_answer_stops_the_start(make_client) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(RuntimeError, match=f"BATON_REDIS_URL {url} does not answer"):
        await make_client(redis_url=url)
