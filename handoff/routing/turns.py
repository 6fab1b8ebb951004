"""Per-conversation ordering, and the background tasks the gateway starts."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiohttp import web

from handoff import keys

log = logging.getLogger(__name__)


class TurnLocks:
    """One turn at a time per conversation, so its turns (and seqs) happen in arrival
    order. A conversation nobody waits for costs one dict entry and no lock: the relay
    takes a turn for every message, and asyncio.Lock behind an asynccontextmanager was
    a twentieth of the gateway's time at saturation."""

    def __init__(self) -> None:
        # A conversation whose turn is under way: who comes next, in order.
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def hold(self, conversation_id: str) -> "_Turn":
        """``async with turns.hold(conversation_id):`` the conversation's turn."""
        return _Turn(self._waiting, conversation_id)

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


async def setup_turns(app: web.Application) -> AsyncIterator[None]:
    turns = TurnLocks()
    app[keys.TURN_LOCKS] = turns
    yield
    await turns.drain()
