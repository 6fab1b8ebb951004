"""Who has each conversation (the bot, the queue, or which agent), kept in memory.

Every customer and agent message needs it, and it changes only when an action claims,
resolves, transfers, requeues or hands off a conversation. All of those tell the
conversation's sockets through ``conversations.common.status_changed``, which is also the one place
that updates this cache, so it never goes stale in this process. A miss reads the row.

Like the sockets and the publisher, this is one gateway process's view: several
processes would need the broker that handoff.live.publisher anticipates to share status changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from handoff.storage.db import Database
from handoff.storage.models import STATUS_BOT, Agent, Conversation


@dataclass(frozen=True)
class Holder:
    status: str
    agent_id: int | None = None
    agent_name: str | None = None


BOT = Holder(STATUS_BOT)


class Holders:
    def __init__(self, database: Database, size: int = 100_000) -> None:
        self._database = database
        self._size = size
        # Insertion-ordered: the oldest entry goes first when it is full.
        self._known: dict[str, Holder] = {}
        # Bumped by every change: a read that a change overtook is not kept.
        self._changes = 0

    async def get(self, conversation_id: str) -> Holder | None:
        """None: there is no such conversation."""
        holder = self._known.get(conversation_id)
        if holder is not None:
            return holder
        changes = self._changes
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
        holder = Holder(row.status, row.agent_id, row.name)
        if changes == self._changes:
            self._keep(conversation_id, holder)
        return holder

    def set(self, conversation_id: str, holder: Holder) -> None:
        """After a change is committed (conversations.common.status_changed, a new conversation)."""
        self._changes += 1
        self._keep(conversation_id, holder)

    def _keep(self, conversation_id: str, holder: Holder) -> None:
        self._known[conversation_id] = holder
        if len(self._known) > self._size:
            del self._known[next(iter(self._known))]

    def forget(self, conversation_id: str) -> None:
        self._changes += 1
        self._known.pop(conversation_id, None)
