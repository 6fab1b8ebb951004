"""The one door to storing messages: everything outside handoff.storage comes through here.

- ``await writer.store(conversation_id, drafts)`` stores drafts of one conversation in
  order and returns them once committed, or raises DuplicateMessage (the
  client_message_id is stored already, with its seq), ConversationMissing or the
  database's error.
- ``await writer.store_alongside(conversation_id, drafts, start)`` is the same, and
  starts `start()` (a bot turn's request to Rasa): on PostgreSQL as soon as the
  database has given the drafts their seqs, before their commit, so the two overlap;
  on SQLite once committed.
- ``writer.annotate`` / ``annotate_soon`` set what the bot understood of a message.
- ``await store_in_transaction(session, conversation_id, drafts)`` adds messages inside a
  state change's own transaction (handoff, claim, resolve ...), which its caller commits.

Behind it, messages of all conversations are group-committed (handoff.storage.group_commit),
written the database's way (handoff.storage.dialects): SQLAlchemy Core, or on a SQLite
file the standard library's driver for the relay's sake. Callers never see the batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.storage.client_ids import ClientIds
from handoff.storage.db import Database
from handoff.storage.dialects import write_in_transaction
from handoff.storage.drafts import ConversationMissing, Draft, DuplicateMessage, Stored
from handoff.storage.group_commit import GroupCommit
from handoff.storage.models import utcnow

__all__ = [
    "ConversationMissing",
    "Draft",
    "DuplicateMessage",
    "MessageWriter",
    "Stored",
    "setup_writer",
    "store_in_transaction",
]

T = TypeVar("T")


class MessageWriter:
    def __init__(self, database: Database, client_ids: ClientIds) -> None:
        self._queue = GroupCommit(database, client_ids)

    @property
    def messages(self) -> int:
        """Messages committed so far: how busy the relay is (handoff.conversations.annotations)."""
        return self._queue.busy.messages

    @property
    def transactions(self) -> int:
        return self._queue.transactions

    async def store(self, conversation_id: str, drafts: list[Draft]) -> list[Stored]:
        """Stores the drafts in order; returns them once committed."""
        return await self._queue.submit(conversation_id, drafts).stored

    async def store_alongside(
        self, conversation_id: str, drafts: list[Draft], start: Callable[[], asyncio.Future[T]]
    ) -> tuple[list[Stored], asyncio.Future[T]]:
        """Stores the drafts and calls `start`; returns both once committed.

        On PostgreSQL `start` is called once the drafts' transaction has given them their
        seqs, so its work and the rest of the commit (a round trip or more) overlap. On
        SQLite it is called once they are committed: the commit is a fifth of a
        millisecond on this process's loop, and overlapping it took a core from Rasa's
        turn for longer than that (bench/README.md, "The bot asked after SQLite's
        commit"). Either way work for drafts refused (a retry while the database is
        down) never starts; if they are not stored, what was started is cancelled and
        the reason raised.
        """
        job = self._queue.submit(conversation_id, drafts)
        if self._queue.takes_at_once:
            return await job.stored, start()
        started: asyncio.Future[T] | None = None
        try:
            try:
                await job.begun
            except Exception:
                pass  # not stored: awaiting `stored` raises why
            else:
                started = start()
            stored = await job.stored
        except BaseException:
            if started is not None:
                started.cancel()
                await asyncio.gather(started, return_exceptions=True)
            raise
        return stored, started if started is not None else start()

    async def annotate(self, conversation_id: str, seq: int, nlu: dict[str, Any]) -> None:
        await self._queue.submit(conversation_id, [], nlu=(seq, nlu)).stored

    def annotate_soon(self, conversation_id: str, seq: int, nlu: dict[str, Any]) -> None:
        """The same, without waiting: it rides in the next transaction written anyway."""
        self._queue.annotate_soon(conversation_id, seq, nlu)

    async def close(self) -> None:
        """Writes what is queued, then stops."""
        await self._queue.close()


async def store_in_transaction(
    session: AsyncSession, conversation_id: str, drafts: list[Draft]
) -> list[Stored]:
    """Adds the drafts in the session's transaction, with the same statements as the
    writer's on PostgreSQL; ConversationMissing if there is no such conversation."""
    if not drafts:
        return []
    # The session's own changes first, as its autoflush would put them before a statement.
    await session.flush()
    now = utcnow()
    connection = await session.connection()
    return await connection.run_sync(write_in_transaction, conversation_id, drafts, now)


async def setup_writer(app: web.Application) -> AsyncIterator[None]:
    """The writer, and the cache of stored client_message_ids it keeps up to date."""
    database = app[keys.DB]
    app[keys.CLIENT_IDS] = ClientIds(database)
    writer = MessageWriter(database, app[keys.CLIENT_IDS])
    app[keys.WRITER] = writer
    yield
    await writer.close()
