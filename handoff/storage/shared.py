"""The Redis that several gateway processes share (make run-cluster), or none.

With `BATON_REDIS_URL` unset this process is the only gateway and everything it shares
with itself stays in memory; with it set, what one process learns others must see:
events fan out, caches are invalidated, turn locks and rate limits are held in Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web

from handoff import keys

# Connections a gateway keeps to the shared Redis (redis-py's default cap), and how
# long a command waits for one of them before it fails as Redis failing would.
POOL_CONNECTIONS = 100
POOL_WAIT_SECONDS = 10.0


async def setup_shared(app: web.Application) -> AsyncIterator[None]:
    url = app[keys.SETTINGS].redis_url
    if not url:
        app[keys.REDIS] = None
        yield
        return
    # A command waits for one of the pool's connections when all are busy: redis-py's
    # own pool fails it (MaxConnectionsError), which a relay burst of 100 turns did.
    client = aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(
        url, max_connections=POOL_CONNECTIONS, timeout=POOL_WAIT_SECONDS,
        decode_responses=False, health_check_interval=30,
    ))
    try:
        await client.ping()
    except (aioredis.ConnectionError, OSError) as exc:
        await client.aclose()
        raise RuntimeError(f"BATON_REDIS_URL {url} does not answer: {exc}") from None
    app[keys.REDIS] = client
    try:
        yield
    finally:
        await client.aclose()
