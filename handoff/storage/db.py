"""The database engine and sessions, and applying migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from handoff import keys

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _ensure_sqlite_dir(url: str) -> None:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What retention and erasure delete is overwritten with zeros, not left in the file's
    # free pages (Debian's SQLite does so by default; other builds do not).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    _ensure_sqlite_dir(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sqlite_file_engine(url: str, busy_timeout: float = 2.0) -> Engine | None:
    """The same SQLite file through the standard library's driver, used without a thread
    of aiosqlite's (handoff.storage.write_connection); None for PostgreSQL and in-memory
    databases. It waits at most `busy_timeout` seconds for another process's lock."""
    if not url.startswith("sqlite+aiosqlite:///") or ":memory:" in url:
        return None
    engine = create_engine(
        url.replace("sqlite+aiosqlite:", "sqlite:", 1),
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Apply every migration; synchronous, for the command line."""
    from alembic import command

    _ensure_sqlite_dir(url)
    command.upgrade(_alembic_config(url), "head")


async def upgrade_async(url: str) -> None:
    # Alembic's async env.py runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(upgrade, url)


class Database:
    """Sessions for reading, and transactions for writing.

    SQLite has one writer at a time and fails a transaction that reads and then writes
    while another commits, so on SQLite the writers of this process take turns here.
    """

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.sessionmaker = make_sessionmaker(engine)
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self.one_writer():
            async with self.sessionmaker.begin() as session:
                yield session

    @asynccontextmanager
    async def one_writer(self) -> AsyncIterator[None]:
        """This process's turn to write (SQLite); PostgreSQL needs no turns."""
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield


async def setup_database(app: web.Application) -> AsyncIterator[None]:
    url = app[keys.SETTINGS].database_url
    database = Database(make_engine(url), url)
    app[keys.DB] = database
    yield
    await database.engine.dispose()
