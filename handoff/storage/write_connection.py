"""The group-commit writer's own database connection (handoff.storage.group_commit).

It stays open between transactions, which spares each transaction the pool's checkout,
its ping (PostgreSQL) and the rollback on return. A connection that failed is dropped;
the next transaction opens a new one.

On a SQLite file the connection is the standard library's driver, without SQLAlchemy in
between (handoff.storage.write_statements). Through aiosqlite every statement was several
thread hand-offs, on a busy machine the larger part of the relay's CPU time, so a quiet
gateway's transactions run right here on the event loop. A busy gateway's
(handoff.storage.busy decides) run on a thread of their own, one hand-off per
transaction: on the loop, a transaction held it while SQLite worked and while the file
system made its writes wait. On the writer's thread SQLite's own work runs without the
interpreter's lock, beside the loop, and a stalled write delays only the messages of
that transaction while the loop reads the next ones (the measurements: bench/README.md,
"The numbers behind the gateway's own code").

The connection waits at most a moment for SQLite's lock (writers of this process take
turns in Database.one_writer first, so only another process could hold it).
Checkpoints (copying the write-ahead log into the database file, with its fsyncs) run
once a second while there are writes: first on a third thread, beside the writer, then
on the writer's own connection and thread, between its transactions, so that the log
restarts (see CHECKPOINT_SECONDS). Never on the loop. On PostgreSQL the connection is
asyncpg's, as everywhere else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TypeVar

from sqlalchemy import PoolProxiedConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff.storage.db import Database, make_sqlite_file_engine
from handoff.storage.write_statements import (
    PASSIVE_CHECKPOINT,
    CoreStatements,
    SqliteBatch,
    SqliteRows,
    SqliteStatements,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
# How often the log is copied into the database file while there are writes. The
# checkpoint thread runs beside the writer, so under a steady stream of writes it never
# catches up with the log's end, and SQLite starts the log afresh only after a checkpoint
# that did: the log grew without end. So right after it the writer's own connection
# checkpoints, between two of its transactions, which catches up;
# the thread has just copied and synced most of the log, so this one holds the writer's
# turn only for what came meanwhile. The log holds about a second of writes.
# SQLite's automatic checkpoint (wal_autocheckpoint) is off on the writer's connection:
# it ran inside whichever commit crossed its threshold, which on a quiet gateway is on
# the loop, and stood the loop still in fdatasync about once a second in a busy relay
# (bench/README.md, "The numbers behind the gateway's own code").
CHECKPOINT_SECONDS = 1.0
# The writer's page cache (KiB, as SQLite's negative cache_size): a transaction of a
# thousand messages of a thousand conversations dirties about as many index pages, and
# past the default 2 MiB SQLite spilled pages to the log before the commit (in a profile
# at relay saturation, 28 % of the writer's time).
WRITER_CACHE_KIB = 65536


class WriteConnection:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._sqlite = make_sqlite_file_engine(database.url)
        # On SQLite (written by this process alone, one transaction after another in the
        # order they were run): drafts into the JSON a transaction takes. None: PostgreSQL.
        self.rows = SqliteRows(self._sqlite.dialect) if self._sqlite is not None else None
        self._raw: PoolProxiedConnection | None = None
        self._statements: SqliteStatements | None = None
        self._async: AsyncConnection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._checkpoints: ThreadPoolExecutor | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._written = False
        if self._sqlite is not None:
            self._thread = ThreadPoolExecutor(1, "baton-writer")
            self._checkpoints = ThreadPoolExecutor(1, "baton-checkpoint")
            self._checkpointer = asyncio.create_task(self._checkpoint_every(CHECKPOINT_SECONDS))

    async def write_sqlite(self, batch: SqliteBatch, inline: bool) -> dict[str, int]:
        """Stores the batch in one transaction (SqliteStatements): right here on the
        loop (`inline`), or on the writer's thread."""
        assert self._thread is not None
        async with self._database.one_writer():
            if inline:
                return self._write_here(batch)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self._write_here, batch)

    async def run_core(self, work: Callable[[CoreStatements], T]) -> T:
        """Runs `work` in one transaction through SQLAlchemy, which commits if it returns
        (the writer's way on PostgreSQL; on SQLite only where tests compare the two)."""
        async with self._database.one_writer():
            if self._async is None:
                self._async = await self._database.engine.connect()
            try:
                async with self._async.begin():
                    return await self._async.run_sync(
                        lambda connection: work(CoreStatements(connection))
                    )
            except BaseException as exc:
                if not isinstance(exc, IntegrityError):
                    connection, self._async = self._async, None
                    with suppress(Exception):
                        await connection.close()
                raise

    def _write_here(self, batch: SqliteBatch) -> dict[str, int]:
        """On the writer's thread or on the loop, one transaction at a time."""
        assert self._sqlite is not None
        if self._statements is None:
            self._raw = self._sqlite.raw_connection()
            driver = self._raw.driver_connection
            assert driver is not None
            driver.execute("PRAGMA wal_autocheckpoint=0")
            driver.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
            self._statements = SqliteStatements(driver)
        self._written = True
        statements = self._statements
        try:
            with statements.transaction():
                return statements.write(batch)
        except BaseException as exc:
            if not isinstance(exc, IntegrityError):
                self._drop_raw()
            raise

    def _drop_raw(self) -> None:
        connection, self._raw, self._statements = self._raw, None, None
        if connection is not None:
            with suppress(Exception):
                connection.close()

    async def _checkpoint_every(self, seconds: float) -> None:
        assert self._checkpoints is not None and self._thread is not None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(seconds)
            if not self._written:
                continue
            self._written = False
            try:
                # Beside the writer: the bulk of the copying and the syncs.
                await loop.run_in_executor(self._checkpoints, self._checkpoint)
                # In the writer's turn, on its thread: the rest, up to the log's end.
                async with self._database.one_writer():
                    await loop.run_in_executor(self._thread, self._checkpoint_writer)
            except Exception as exc:
                log.warning("checkpointing the database failed: %s", exc)

    def _checkpoint_writer(self) -> None:
        if self._statements is not None:  # else dropped after a failure: nothing to copy
            self._statements.checkpoint()

    def _checkpoint(self) -> None:
        assert self._sqlite is not None
        with self._sqlite.connect() as connection:
            connection.exec_driver_sql(PASSIVE_CHECKPOINT)

    async def close(self) -> None:
        """After the transaction under way, if any, has ended."""
        if self._async is not None:
            with suppress(Exception):
                await self._async.close()
            self._async = None
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
        if self._thread is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._thread, self._drop_raw)
            self._thread.shutdown()
        if self._checkpoints is not None:
            self._checkpoints.shutdown()
        if self._sqlite is not None:
            self._sqlite.dispose()
