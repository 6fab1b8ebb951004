"""Who has each conversation (the bot, the queue, or which agent), kept in memory.

Every customer and agent message needs it, and it changes only when an action claims,
resolves, transfers, requeues or hands off a conversation. All of those tell the
conversation's sockets through ``conversations.common.status_changed``, which is also the one place
that updates this cache, so it never goes stale in this process. A miss reads the row.

With several gateways (a shared Redis) the cache is Redis's instead, one for all of
them: a change one gateway makes is what the next read on any other gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis
from sqlalchemy import select

from handoff.storage.db import Database
from handoff.storage.models import STATUS_BOT, Agent, Conversation


@dataclass(frozen=True)
class Holder:
    status: str
    agent_id: int | None = None
    agent_name: str | None = None


BOT = Holder(STATUS_BOT)

# A shared entry lives this long after it was written; a read after that reads the row.
SHARED_SECONDS = 24 * 3600


class Holders:
    def __init__(
        self, database: Database, size: int = 100_000, shared: aioredis.Redis | None = None
    ) -> None:
        self._database = database
        self._size = size
        self._shared = shared
        # Insertion-ordered: the oldest entry goes first when it is full.
        self._known: dict[str, Holder] = {}
        # Bumped by every change: a read that a change overtook is not kept.
        self._changes = 0

    async def get(self, conversation_id: str) -> Holder | None:
        """None: there is no such conversation."""
        if self._shared is not None:
            return await self._get_shared(conversation_id)
        holder = self._known.get(conversation_id)
        if holder is not None:
            return holder
        changes = self._changes
        holder = await self._read(conversation_id)
        if holder is not None and changes == self._changes:
            self._keep(conversation_id, holder)
        return holder

    async def changed(self, conversation_id: str, holder: Holder) -> None:
        """After a change is committed: in every gateway's view from now on."""
        if self._shared is None:
            self.set(conversation_id, holder)
            return
        await self._shared.set(_key(conversation_id), _packed(holder), ex=SHARED_SECONDS)

    async def _get_shared(self, conversation_id: str) -> Holder | None:
        assert self._shared is not None
        packed = await self._shared.get(_key(conversation_id))
        if packed is not None:
            status, agent_id, agent_name = orjson.loads(packed)
            return Holder(status, agent_id, agent_name)
        holder = await self._read(conversation_id)
        if holder is not None:
            # Only if no change came meanwhile: a change writes over what is there, and
            # what was read before it must not write over the change.
            await self._shared.set(
                _key(conversation_id), _packed(holder), ex=SHARED_SECONDS, nx=True
            )
        return holder

    async def _read(self, conversation_id: str) -> Holder | None:
        async with self._database.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(Conversation.status, Conversation.agent_id, Agent.name)
                    .outerjoin(Agent, Agent.id == Conversation.agent_id)
                    .where(Conversation.id == conversation_id)
                )
            ).first()
        if row is None:
            return None
        return Holder(row.status, row.agent_id, row.name)

    def set(self, conversation_id: str, holder: Holder) -> None:
        """This process's memory only; callers say `changed`, which is this alone."""
        self._changes += 1
        self._keep(conversation_id, holder)

    def _keep(self, conversation_id: str, holder: Holder) -> None:
        self._known[conversation_id] = holder
        if len(self._known) > self._size:
            del self._known[next(iter(self._known))]

    def forget(self, conversation_id: str) -> None:
        self._changes += 1
        self._known.pop(conversation_id, None)


def _key(conversation_id: str) -> str:
    return f"baton:holder:{conversation_id}"


def _packed(holder: Holder) -> bytes:
    return orjson.dumps([holder.status, holder.agent_id, holder.agent_name])
