"""The writer's statements on SQLite, straight through the driver, store exactly what
SQLAlchemy Core stores (handoff.storage.write_statements)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from handoff.storage.db import make_sqlite_file_engine, upgrade_async
from handoff.storage.models import Message
from handoff.storage.write_statements import CoreStatements, SqliteRows, SqliteStatements
from handoff.storage.drafts import Draft, message_row

NOW = dt.datetime(2026, 11, 22, 23, 59, 58, 123456, tzinfo=dt.timezone.utc)
DRAFTS = [
    Draft("customer", "hello", client_message_id="c-1"),
    Draft("bot", "Hi! How can I help?", buttons=[{"title": "Bags", "payload": "/ask_baggage"}]),
    Draft("agent", "Maya here", agent_id=1, author="Maya"),
]
NLU = {"intent": "greet", "confidence": 0.9, "entities": [], "frustration": {"score": 0.0}}


@pytest.fixture
async def url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    await upgrade_async(url)
    return url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_sqlite_file_engine(url)
    assert engine is not None
    yield engine
    engine.dispose()


@dataclass
class Driver:
    connection: sqlite3.Connection
    statements: SqliteStatements
    rows: SqliteRows


@pytest.fixture
def driver(engine: Engine) -> Iterator[Driver]:
    """The writer's SQLite path on its own raw connection (handoff.storage.write_connection)."""
    raw = engine.raw_connection()
    connection = raw.driver_connection
    assert connection is not None
    yield Driver(connection, SqliteStatements(connection), SqliteRows(engine.dialect))
    raw.close()


def _add_conversation(connection: Connection, conversation_id: str, last_seq: int) -> None:
    connection.exec_driver_sql(
        "INSERT INTO conversations (id, token_hash, status, last_seq, created_at, updated_at) "
        "VALUES (?, 'h', 'bot', ?, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
        (conversation_id, last_seq),
    )


def _write_core(statements: CoreStatements, conversation_id: str) -> int:
    """The core way: seqs first, then the rows with them; gives the last seq."""
    ((_, last),) = statements.take_seqs([conversation_id], len(DRAFTS), NOW)
    first = last - len(DRAFTS) + 1
    statements.insert_messages(
        [message_row(conversation_id, first + i, draft, NOW) for i, draft in enumerate(DRAFTS)]
    )
    statements.set_nlu([(conversation_id, first, NLU)])
    return last


def _write_driver(statements: SqliteStatements, rows: SqliteRows, conversation_id: str) -> int:
    """The driver's way: rows counted from 1, the seqs added in SQL; the same annotation
    (the first message will be 5, as last_seq is 4)."""
    batch = rows.batch(
        [message_row(conversation_id, 1 + i, draft, NOW) for i, draft in enumerate(DRAFTS)],
        {conversation_id: len(DRAFTS)},
        [],
        NOW,
    )
    with statements.transaction():
        last_seqs = statements.write(batch)
    with statements.transaction():
        statements.write(rows.batch([], {}, [(conversation_id, 5, NLU)], NOW))
    return last_seqs[conversation_id]


async def test_both_ways_store_the_same_rows_and_read_back_the_same(
    url: str, engine: Engine, driver: Driver
) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO agents (id, email, name, password_hash, role, created_at) "
            "VALUES (1, 'maya@example.com', 'Maya', 'x', 'agent', '2026-01-01 00:00:00.000000')"
        )
        for cid in ("core", "driver"):
            _add_conversation(connection, cid, last_seq=4)
    with engine.begin() as connection:
        assert _write_core(CoreStatements(connection), "core") == 7
    assert _write_driver(driver.statements, driver.rows, "driver") == 7

    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT conversation_id, seq, sender, text, created_at, client_message_id, "
            "agent_id, buttons, nlu FROM messages ORDER BY conversation_id, seq"
        ).all()
        conversations = connection.exec_driver_sql(
            "SELECT id, last_seq, updated_at FROM conversations ORDER BY id"
        ).all()
    core = [row[1:] for row in rows if row[0] == "core"]
    assert [row[1:] for row in rows if row[0] == "driver"] == core
    assert core[0] == (
        5, "customer", "hello", "2026-11-22 23:59:58.123456", "c-1", None, "null",
        '{"intent": "greet", "confidence": 0.9, "entities": [], "frustration": {"score": 0.0}}',
    )
    assert core[1][6] == '[{"title": "Bags", "payload": "/ask_baggage"}]'
    assert conversations == [
        ("core", 7, "2026-11-22 23:59:58.123456"), ("driver", 7, "2026-11-22 23:59:58.123456")
    ]

    # And the ORM reads them back alike: aware datetimes, JSON as Python values.
    async_engine = create_async_engine(url)
    async with async_engine.connect() as connection:
        read = (
            await connection.execute(
                select(Message.conversation_id, Message.seq, Message.created_at,
                       Message.buttons, Message.nlu).order_by(Message.conversation_id, Message.seq)
            )
        ).all()
    await async_engine.dispose()
    assert [row[1:] for row in read if row[0] == "driver"] == [
        row[1:] for row in read if row[0] == "core"
    ]
    assert read[0][1:] == (5, NOW, None, NLU)
    assert read[1][3] == [{"title": "Bags", "payload": "/ask_baggage"}]


async def test_a_conversation_that_does_not_exist_stores_nothing_and_has_no_last_seq(
    engine: Engine, driver: Driver
) -> None:
    with engine.begin() as connection:
        _add_conversation(connection, "here", last_seq=2)
    batch = driver.rows.batch(
        [message_row("here", 1, DRAFTS[0], NOW), message_row("gone", 1, DRAFTS[1], NOW),
         message_row("here", 2, DRAFTS[1], NOW)],
        {"here": 2, "gone": 1},
        [],
        NOW,
    )
    with driver.statements.transaction():
        assert driver.statements.write(batch) == {"here": 4}
    stored = driver.connection.execute(
        "SELECT conversation_id, seq, sender FROM messages ORDER BY id"
    ).fetchall()
    assert stored == [("here", 3, "customer"), ("here", 4, "bot")]


async def test_a_driver_error_is_raised_as_sqlalchemys_and_rolled_back(
    engine: Engine, driver: Driver
) -> None:
    with engine.begin() as connection:
        _add_conversation(connection, "c", last_seq=0)
    statements, batch = driver.statements, driver.rows.batch(
        [message_row("c", 1, DRAFTS[0], NOW)], {"c": 1}, [], NOW
    )
    with statements.transaction():
        assert statements.write(batch) == {"c": 1}
    with pytest.raises(IntegrityError):
        with statements.transaction():
            statements.write(batch)  # the same client_message_id
    # Nothing of the failed transaction stayed: last_seq is still 1.
    assert driver.connection.execute("SELECT last_seq FROM conversations").fetchall() == [(1,)]
