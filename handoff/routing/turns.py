"""Per-conversation ordering, and the background tasks the gateway starts."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from contextlib import suppress
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from handoff import keys

log = logging.getLogger(__name__)


# A turn's lock in Redis lives this long unless its gateway renews it (every third of
# it): a gateway killed in a turn holds up the conversation's next turn this long at most.
LEASE_SECONDS = 6.0
# How often a turn waiting for another gateway's asks Redis again.
POLL_SECONDS = 0.005


class TurnLocks:
    """One turn at a time per conversation, so its turns (and seqs) happen in arrival
    order. A conversation nobody waits for costs one dict entry and no lock: the relay
    takes a turn for every message, and asyncio.Lock behind an asynccontextmanager was
    a twentieth of the gateway's time at saturation.

    With `shared` (several gateways, make run-cluster) a turn also holds the
    conversation's lock in Redis, so a turn on one gateway waits for one on another; in
    this process turns still queue in arrival order before they ask Redis.
    """

    def __init__(self, shared: aioredis.Redis | None = None, lease: float = LEASE_SECONDS) -> None:
        # A conversation whose turn is under way: who comes next, in order.
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shared = shared
        self._lease = lease

    def hold(self, conversation_id: str) -> "_Turn | _SharedTurn":
        """``async with turns.hold(conversation_id):`` the conversation's turn."""
        turn = _Turn(self._waiting, conversation_id)
        if self._shared is None:
            return turn
        return _SharedTurn(turn, Lock(
            self._shared, f"baton:turn:{conversation_id}", timeout=self._lease,
            sleep=POLL_SECONDS, thread_local=False,
        ), self._lease)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run work that must not delay the answer; cancelled at shutdown."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def drain(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class _Turn:
    __slots__ = ("_waiting", "_conversation_id")

    def __init__(self, waiting: dict[str, deque[asyncio.Future[None]]], conversation_id: str):
        self._waiting = waiting
        self._conversation_id = conversation_id

    async def __aenter__(self) -> None:
        queue = self._waiting.get(self._conversation_id)
        if queue is None:
            self._waiting[self._conversation_id] = deque()
            return
        turn = asyncio.get_running_loop().create_future()
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._pass_on()  # it was ours just as we were cancelled: the next one's
            elif turn in queue:
                queue.remove(turn)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._pass_on()

    def _pass_on(self) -> None:
        queue = self._waiting[self._conversation_id]
        while queue:
            turn = queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        del self._waiting[self._conversation_id]


class _SharedTurn:
    """This process's turn, then the conversation's lock in Redis, renewed while held.

    The renewal is stopped by an event, not cancelled: on Python 3.11 a cancel that lands
    in a redis-py call can be lost (asyncio.wait_for's race, inside redis-py), and the
    turn would wait for ever for a renewal that goes on.
    """

    __slots__ = ("_turn", "_lock", "_lease", "_renewing", "_over")

    def __init__(self, turn: _Turn, lock: Lock, lease: float) -> None:
        self._turn = turn
        self._lock = lock
        self._lease = lease
        self._renewing: asyncio.Task[None] | None = None
        self._over = asyncio.Event()

    async def __aenter__(self) -> None:
        await self._turn.__aenter__()
        try:
            await self._lock.acquire()
        except BaseException:
            self._turn._pass_on()
            raise
        self._renewing = asyncio.create_task(self._renew())

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            self._over.set()
            if self._renewing is not None:
                await asyncio.wait([self._renewing], timeout=self._lease)
            # Not ours any more (the lease ran out while Redis was away): nothing to free.
            with suppress(LockError):
                await self._lock.release()
        finally:
            self._turn._pass_on()

    async def _renew(self) -> None:
        while not self._over.is_set():
            with suppress(TimeoutError):
                async with asyncio.timeout(self._lease / 3):
                    await self._over.wait()
            if self._over.is_set():
                return
            try:
                await self._lock.reacquire()
            except (LockError, aioredis.ConnectionError, OSError) as exc:
                log.warning("renewing a turn's lock failed: %s", exc)


async def setup_turns(app: web.Application) -> AsyncIterator[None]:
    turns = TurnLocks(app[keys.REDIS])
    app[keys.TURN_LOCKS] = turns
    yield
    await turns.drain()
