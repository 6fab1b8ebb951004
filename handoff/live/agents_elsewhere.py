"""Agents whose consoles are open on the other gateways (several share a Redis).

Each gateway writes the agents connected to it under a key of its own that lives
`LIFETIME` seconds unless it is written again (every `REFRESH` seconds, and at once on a
change, with a notice to the others); each reads the others' keys on a notice and at
every refresh. A gateway killed outright drops out when its key runs out. The registry
counts these agents as online (SocketRegistry.elsewhere): a customer on one gateway is
not told "nobody is online" while an agent is on the other, and an agent who reconnects
to another gateway is back within their grace period.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import suppress

import orjson
import redis.asyncio as aioredis
from aiohttp import web

from handoff import keys
from handoff.live.sockets import SocketRegistry

log = logging.getLogger(__name__)

REFRESH = 5.0
LIFETIME = 3 * REFRESH
PREFIX = "baton:agents-on:"
NOTICES = "baton:agents-changed"
# The longest close() waits for its tasks.
CLOSE_SECONDS = 2.0


class AgentsElsewhere:
    def __init__(self, registry: SocketRegistry, shared: aioredis.Redis) -> None:
        self._registry = registry
        self._shared = shared
        self.gateway = secrets.token_hex(8)
        self._key = f"{PREFIX}{self.gateway}"
        self._changed = asyncio.Event()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._registry.on_agents_changed = self._changed.set
        self._tasks = [asyncio.create_task(self._write()), asyncio.create_task(self._listen())]

    async def close(self) -> None:
        self._registry.on_agents_changed = None
        # Both tasks also stop by themselves: on Python 3.11 a cancel that lands in a
        # redis-py call can be lost (asyncio.wait_for's race, inside redis-py); the task
        # went on, and the app's cleanup waited for ever.
        self._closing = True
        self._changed.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.wait(self._tasks, timeout=CLOSE_SECONDS)
        try:
            await self._shared.delete(self._key)
            await self._shared.publish(NOTICES, self.gateway)
        except (aioredis.RedisError, OSError):
            pass  # it runs out by itself

    async def _write(self) -> None:
        """This gateway's agents, at every change and every REFRESH seconds."""
        while not self._closing:
            try:
                await self._shared.set(
                    self._key, orjson.dumps(sorted(self._registry.local_agent_ids())),
                    ex=int(LIFETIME),
                )
                await self._shared.publish(NOTICES, self.gateway)
                await self.read()
            except (aioredis.RedisError, OSError) as exc:
                log.warning("sharing the agents online failed: %s", exc)
            with suppress(TimeoutError):
                async with asyncio.timeout(REFRESH):
                    await self._changed.wait()
            self._changed.clear()

    async def _listen(self) -> None:
        """Reads the others' agents when one of them says they changed."""
        me = self.gateway.encode()
        while not self._closing:
            try:
                async with self._shared.pubsub(ignore_subscribe_messages=True) as notices:
                    await notices.subscribe(NOTICES)
                    # A second at a time, not listen(): it sees `_closing` (see close()).
                    while not self._closing:
                        notice = await notices.get_message(timeout=1.0)
                        if notice is not None and notice["data"] != me:
                            await self.read()
            except (aioredis.RedisError, OSError) as exc:
                log.warning("listening for the agents online failed: %s", exc)
                await asyncio.sleep(1)

    async def read(self) -> None:
        names = [name async for name in self._shared.scan_iter(match=f"{PREFIX}*", count=100)]
        others = [name for name in names if name != self._key.encode()]
        found: set[int] = set()
        for value in await self._shared.mget(others) if others else []:
            if value is not None:
                found.update(orjson.loads(value))
        self._registry.elsewhere = frozenset(found)


async def setup_agents_elsewhere(app: web.Application) -> AsyncIterator[None]:
    shared = app[keys.REDIS]
    if shared is None:
        yield
        return
    elsewhere = AgentsElsewhere(app[keys.SOCKETS], shared)
    await elsewhere.read()
    elsewhere.start()
    try:
        yield
    finally:
        await elsewhere.close()
