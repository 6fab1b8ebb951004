"""Which client_message_ids each conversation has already stored, kept in memory.

A widget retries a message with the same client_message_id until it hears back, so the
gateway must know, before it stores a message or asks the bot, whether it has it
already. Reading that from the database on every message is what this spares: a
conversation's ids are read once per process (on its first message after a restart) and
kept up to date by the writer as it commits. The unique constraint on
(conversation_id, client_message_id) stays the last word (handoff.storage.writer).
"""

from __future__ import annotations

from sqlalchemy import select

from handoff.storage.db import Database
from handoff.storage.models import Message


class ClientIds:
    def __init__(self, database: Database, conversations: int = 20_000) -> None:
        self._database = database
        self._size = conversations
        # conversation id -> {client_message_id: seq}; insertion-ordered, oldest out first.
        self._known: dict[str, dict[str, int]] = {}

    async def seq_of(self, conversation_id: str, client_message_id: str) -> int | None:
        """The seq this client id was stored under, or None when it is new."""
        ids = self._known.get(conversation_id)
        if ids is None:
            ids = await self._load(conversation_id)
        return ids.get(client_message_id)

    def adopt(self, conversation_id: str) -> None:
        """A conversation created by this process: it has stored nothing yet."""
        self._keep(conversation_id, {})

    def record(self, conversation_id: str, client_message_id: str, seq: int) -> None:
        ids = self._known.get(conversation_id)
        # Not known yet: its first lookup will read this one from the database.
        if ids is not None:
            ids[client_message_id] = seq

    async def _load(self, conversation_id: str) -> dict[str, int]:
        async with self._database.engine.connect() as connection:
            rows = await connection.execute(
                select(Message.client_message_id, Message.seq).where(
                    Message.conversation_id == conversation_id,
                    Message.client_message_id.is_not(None),
                )
            )
            ids = {client_id: seq for client_id, seq in rows if client_id is not None}
        self._keep(conversation_id, ids)
        return ids

    def _keep(self, conversation_id: str, ids: dict[str, int]) -> None:
        self._known[conversation_id] = ids
        if len(self._known) > self._size:
            del self._known[next(iter(self._known))]
