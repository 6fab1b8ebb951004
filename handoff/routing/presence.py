"""Who is connected: agents get a grace period after their last console closes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

from aiohttp import web

from sqlalchemy import select

from handoff import keys
from handoff.storage.models import STATUS_AGENT, Conversation

log = logging.getLogger(__name__)


# What happens when an agent's grace period runs out: the conversations layer requeues
# what they held (given by the composition root, so routing never imports upward).
OnExpired = Callable[[web.Application, int], Awaitable[None]]


class AgentGrace:
    """Calls `on_expired` for a disconnected agent unless they are back in time."""

    def __init__(self, app: web.Application, on_expired: OnExpired) -> None:
        self._app = app
        self._on_expired = on_expired
        self._timers: dict[int, asyncio.Task[None]] = {}

    def connected(self, agent_id: int) -> None:
        timer = self._timers.pop(agent_id, None)
        if timer is not None:
            timer.cancel()

    def disconnected(self, agent_id: int) -> None:
        if self._app[keys.SOCKETS].agent_connected(agent_id) or agent_id in self._timers:
            return
        self._timers[agent_id] = asyncio.create_task(self._expire(agent_id))

    async def _expire(self, agent_id: int) -> None:
        try:
            await asyncio.sleep(self._app[keys.SETTINGS].agent_grace_seconds)
            self._timers.pop(agent_id, None)
            if self._app[keys.SOCKETS].agent_connected(agent_id):
                return
            await self._on_expired(self._app, agent_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("requeueing agent %s's conversations failed", agent_id)

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
        self._timers.clear()


async def _agents_holding_conversations(app: web.Application) -> list[int]:
    async with app[keys.DB].read() as db:
        rows = await db.scalars(
            select(Conversation.agent_id)
            .where(Conversation.status == STATUS_AGENT, Conversation.agent_id.is_not(None))
            .distinct()
        )
        return [agent_id for agent_id in rows if agent_id is not None]


def presence(on_expired: OnExpired) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup context of agents' presence, with what to do when a grace period ends."""
    return partial(_setup_presence, on_expired=on_expired)


async def _setup_presence(app: web.Application, on_expired: OnExpired) -> AsyncIterator[None]:
    grace = AgentGrace(app, on_expired)
    app[keys.AGENT_GRACE] = grace
    # After a restart nobody is connected yet: every agent holding conversations gets the
    # same grace period as after a disconnect, so none is stranded.
    for agent_id in await _agents_holding_conversations(app):
        grace.disconnected(agent_id)
    yield
    await grace.close()
