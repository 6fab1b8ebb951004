"""Every way the write path stores a message stores the same rows and fails alike.

The door is handoff.storage.writer; behind it a transaction is written through the
standard library's driver (the writer on a SQLite file, for the relay's guard) or through
SQLAlchemy Core (the writer on PostgreSQL, and a state change's messages in its own
transaction on either database). The same drafts go through each way, each on a fresh
database, and the rows (every column, ids included), the stored messages and the errors
must be the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select

from handoff.access.agents import ensure_agent
from handoff.storage import group_commit, writer
from handoff.storage.client_ids import ClientIds
from handoff.storage.db import Database, make_engine, upgrade_async
from handoff.storage.dialects import CoreCommit, committer_for
from handoff.storage.drafts import ConversationMissing, Draft, Stored
from handoff.storage.group_commit import GroupCommit
from handoff.storage.models import STATUS_BOT, Conversation, Message
from handoff.storage.writer import store_in_transaction

from ..pg_server import PostgresServer

NOW = dt.datetime(2026, 11, 22, 23, 59, 58, 123456, tzinfo=dt.timezone.utc)
NLU = {"intent": "greet", "confidence": 0.9, "entities": [], "frustration": {"score": 0.0}}
FIRST = {
    "a": [
        Draft("customer", "héllo \"quoted\"", client_message_id="c-1"),
        Draft("bot", "pick one", buttons=[{"title": "Bags", "payload": "/ask_baggage"}]),
        Draft("system", "note", buttons=[]),
    ],
    "b": [Draft("agent", "Maya here", client_message_id="m-1", agent_id=1, author="Maya")],
    "nope": [Draft("customer", "lost")],
}
# What SQLAlchemy reads back of every column, in the order of the messages' ids.
COLUMNS = [c for c in Message.__table__.c]
RAW_SQLITE = "SELECT * FROM messages ORDER BY id"


async def _fresh(kind: str, tmp_path: Path, request: pytest.FixtureRequest, name: str) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        database = f"p_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user=server.user, database="postgres"
        )
        try:
            await connection.execute(f'CREATE DATABASE "{database}"')
        finally:
            await connection.close()
        url = server.url(database)
    await upgrade_async(url)
    await ensure_agent(url, "maya@example.com", "correct horse battery staple", "Maya")
    database = Database(make_engine(url), url)
    async with database.write() as session:
        for conversation_id in ("a", "b"):
            session.add(Conversation(id=conversation_id, token_hash="h", status=STATUS_BOT,
                                     last_seq=0, created_at=NOW, updated_at=NOW))
    await database.engine.dispose()
    return url


def _outcome(result: list[Stored] | BaseException) -> Any:
    """A result as compared: the stored messages, or the error's type, text and seq."""
    if isinstance(result, BaseException):
        return (type(result).__name__, str(result), getattr(result, "seq", None))
    return result


async def _rows(database: Database) -> tuple[list[Any], list[Any], list[Any]]:
    """The messages as SQLAlchemy reads them, as stored (SQLite only, else []), and
    each conversation's last seq."""
    async with database.engine.connect() as connection:
        read = [tuple(row) for row in await connection.execute(
            select(*COLUMNS).order_by(Message.id))]
        raw = ([tuple(row) for row in await connection.exec_driver_sql(RAW_SQLITE)]
               if database.url.startswith("sqlite") else [])
        seqs = [tuple(row) for row in await connection.execute(
            select(Conversation.id, Conversation.last_seq, Conversation.updated_at)
            .order_by(Conversation.id))]
    return read, raw, seqs


async def _through_the_writer(url: str, committer: Any) -> dict[str, Any]:
    """Three transactions: two conversations' drafts and a missing one's; an annotation;
    a client_message_id stored before beside a new message of the other conversation."""
    database = Database(make_engine(url), url)
    queue = GroupCommit(database, ClientIds(database), committer=committer)
    try:
        first = await asyncio.gather(
            *(queue.submit(cid, drafts).stored for cid, drafts in FIRST.items()),
            return_exceptions=True,
        )
        after_first = await _rows(database)
        await queue.submit("a", [], nlu=(1, NLU)).stored
        again = await asyncio.gather(
            queue.submit("b", [Draft("customer", "thanks")]).stored,
            queue.submit("a", [Draft("customer", "hello again", client_message_id="c-1")]).stored,
            return_exceptions=True,
        )
        return {
            "first": [_outcome(r) for r in first],
            "again": [_outcome(r) for r in again],
            "after_first": after_first,
            "after_all": await _rows(database),
        }
    finally:
        await queue.close()
        await database.engine.dispose()


async def _in_state_changes(url: str) -> dict[str, Any]:
    """The first drafts again, each conversation's in a transaction of its own."""
    database = Database(make_engine(url), url)
    try:
        first: list[Any] = []
        for conversation_id, drafts in FIRST.items():
            try:
                async with database.write() as session:
                    first.append(await store_in_transaction(session, conversation_id, drafts))
            except ConversationMissing as exc:
                first.append(exc)
        return {"first": [_outcome(r) for r in first], "after_first": await _rows(database)}
    finally:
        await database.engine.dispose()


def _core(connections: Any, busy: Any) -> CoreCommit:
    return CoreCommit(connections)


async def test_every_way_stores_the_same_rows_and_fails_alike(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "utcnow", lambda: NOW)
    monkeypatch.setattr(writer, "utcnow", lambda: NOW)
    driver = await _through_the_writer(
        await _fresh("sqlite", tmp_path, request, "driver"), committer_for)
    core_sqlite = await _through_the_writer(
        await _fresh("sqlite", tmp_path, request, "core"), _core)
    core_pg = await _through_the_writer(
        await _fresh("postgresql", tmp_path, request, "core"), _core)
    state_sqlite = await _in_state_changes(await _fresh("sqlite", tmp_path, request, "state"))
    state_pg = await _in_state_changes(await _fresh("postgresql", tmp_path, request, "state"))

    # Not vacuous: what the driver's way gave, exactly.
    assert driver["first"] == [
        [Stored("a", 1, "customer", "héllo \"quoted\"", NOW, None, None),
         Stored("a", 2, "bot", "pick one", NOW, [{"title": "Bags", "payload": "/ask_baggage"}],
                None),
         Stored("a", 3, "system", "note", NOW, None, None)],
        [Stored("b", 1, "agent", "Maya here", NOW, None, "Maya")],
        ("ConversationMissing", "nope", None),
    ]
    assert driver["again"] == [
        [Stored("b", 2, "customer", "thanks", NOW, None, None)],
        ("DuplicateMessage", "stored already as seq 1", 1),
    ]
    read, raw, seqs = driver["after_all"]
    assert read == [
        (1, "a", 1, "customer", "héllo \"quoted\"", NOW, "c-1", None, None, NLU),
        (2, "a", 2, "bot", "pick one", NOW, None, None,
         [{"title": "Bags", "payload": "/ask_baggage"}], None),
        (3, "a", 3, "system", "note", NOW, None, None, None, None),
        (4, "b", 1, "agent", "Maya here", NOW, "m-1", 1, None, None),
        (5, "b", 2, "customer", "thanks", NOW, None, None, None, None),
    ]
    assert seqs == [("a", 3, NOW), ("b", 2, NOW)]

    # The writer's two ways on SQLite: the same bytes in every column.
    assert core_sqlite == driver
    # On PostgreSQL: the same outcomes, and the same values read back. Its serial ids
    # are not given back by a rolled-back insert (the transaction with the duplicate
    # is written again one job at a time), so the later message's id is larger there.
    assert core_pg["first"] == driver["first"] and core_pg["again"] == driver["again"]
    assert core_pg["after_first"][0] == driver["after_first"][0]
    assert core_pg["after_first"][2] == driver["after_first"][2]
    pg_read, _, pg_seqs = core_pg["after_all"]
    assert pg_read[:4] == read[:4]
    assert [row[1:] for row in pg_read[4:]] == [row[1:] for row in read[4:]]
    assert pg_read[4][0] > read[4][0]
    assert pg_seqs == seqs
    # A state change's messages: the same as the writer's first transaction, on both.
    for state in (state_sqlite, state_pg):
        assert state["first"] == driver["first"]
        assert state["after_first"][0] == driver["after_first"][0]
        assert state["after_first"][2] == driver["after_first"][2]
    assert state_sqlite["after_first"][1] == driver["after_first"][1]
