"""A SQLite file at one of alembic's revisions with one conversation in it, for the tests
that take a migration down and up: a rebuilt table would take that row with it (on
SQLite, dropping a table cascades to the rows that point at it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.storage.db import _alembic_config, make_engine


class Revisions:
    def __init__(self, config: Any, engine: AsyncEngine) -> None:
        self.config = config
        self.engine = engine

    async def upgrade(self, revision: str = "head") -> None:
        await asyncio.to_thread(command.upgrade, self.config, revision)

    async def downgrade(self, revision: str) -> None:
        await asyncio.to_thread(command.downgrade, self.config, revision)

    async def conversation_ids(self) -> list[str]:
        async with self.engine.connect() as connection:
            return [row[0] for row in await connection.execute(text("SELECT id FROM conversations"))]

    async def tables(self) -> set[str]:
        async with self.engine.connect() as connection:
            return await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))

    async def columns(self, table: str) -> set[str]:
        async with self.engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns(table)}
            )


@asynccontextmanager
async def one_conversation_at(tmp_path: Path, revision: str) -> AsyncIterator[Revisions]:
    """The database at ``revision``, its conversations table holding 'c1'."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    revisions = Revisions(_alembic_config(url), make_engine(url))
    try:
        await revisions.upgrade(revision)
        async with revisions.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO conversations (id, token_hash, status, last_seq, created_at, "
                "updated_at, assistant_forget_pending) VALUES ('c1', 'h', 'bot', 0, "
                "'2026-12-07 10:00:00', '2026-12-07 10:00:00', 0)"
            ))
        yield revisions
    finally:
        await revisions.engine.dispose()
