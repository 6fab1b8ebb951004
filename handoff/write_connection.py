"""The group-commit writer's own database connection (handoff.writer).

It stays open between transactions, which spares each transaction the pool's checkout,
its ping (PostgreSQL) and the rollback on return. A connection that failed is dropped;
the next transaction opens a new one.

On a SQLite file the connection is the standard library's driver, used right here on the
event loop and without SQLAlchemy in between (handoff.write_statements): a transaction of
the writer is a few hundred microseconds of work, while
through aiosqlite every statement is several hand-offs to aiosqlite's thread and back,
and on a busy machine those thread switches were the larger part of the relay's CPU time
(measured: 0.65 ms against 0.45 ms of gateway CPU per relayed message, and a quarter of
the context switches). What could block the loop is kept off it: the connection waits
at most a moment for SQLite's lock (writers of this process take turns in
Database.one_writer first, so only another process could hold it), and it leaves
checkpoints (copying the write-ahead log into the database file, with its fsyncs) to a
thread that runs them once a second. On PostgreSQL the connection is asyncpg's, as
everywhere else.
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

from .db import Database, make_sqlite_file_engine
from .write_statements import CoreStatements, SqliteStatements, Statements

log = logging.getLogger(__name__)

T = TypeVar("T")
CHECKPOINT_SECONDS = 1.0


class WriteConnection:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._sqlite = make_sqlite_file_engine(database.url)
        # True: transactions run right here on the event loop (SQLite).
        self.inline = self._sqlite is not None
        self._raw: PoolProxiedConnection | None = None
        self._statements: SqliteStatements | None = None
        self._async: AsyncConnection | None = None
        self._checkpoints: ThreadPoolExecutor | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._written = False
        if self._sqlite is not None:
            self._checkpoints = ThreadPoolExecutor(1, "baton-checkpoint")
            self._checkpointer = asyncio.create_task(self._checkpoint_every(CHECKPOINT_SECONDS))

    async def run(self, work: Callable[[Statements], T]) -> T:
        """Runs `work` in one transaction, which commits if it returns."""
        async with self._database.one_writer():
            if self._sqlite is not None:
                return self._run_here(work)
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

    def _run_here(self, work: Callable[[Statements], T]) -> T:
        assert self._sqlite is not None
        if self._statements is None:
            self._raw = self._sqlite.raw_connection()
            driver = self._raw.driver_connection
            assert driver is not None
            # Checkpoints are the thread's (below), never a commit's on the loop.
            driver.execute("PRAGMA wal_autocheckpoint=0")
            self._statements = SqliteStatements(driver, self._sqlite.dialect)
        self._written = True
        statements = self._statements
        try:
            with statements.transaction():
                return work(statements)
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
        assert self._checkpoints is not None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(seconds)
            if not self._written:
                continue
            self._written = False
            try:
                await loop.run_in_executor(self._checkpoints, self._checkpoint)
            except Exception as exc:
                log.warning("checkpointing the database failed: %s", exc)

    def _checkpoint(self) -> None:
        assert self._sqlite is not None
        with self._sqlite.connect() as connection:
            # PASSIVE: copies what it can without waiting for, or holding up, anyone.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def close(self) -> None:
        if self._async is not None:
            with suppress(Exception):
                await self._async.close()
            self._async = None
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
        self._drop_raw()
        if self._checkpoints is not None:
            self._checkpoints.shutdown()
        if self._sqlite is not None:
            self._sqlite.dispose()
