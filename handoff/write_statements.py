"""The group-commit writer's three statements (handoff.writer), for either database.

A transaction of the writer takes seqs (``UPDATE conversations ... RETURNING``), inserts
messages and sets what the bot understood of earlier ones. On PostgreSQL these are
SQLAlchemy Core statements on asyncpg. On a SQLite file, where they run on the event
loop (handoff.write_connection), they go straight to the standard library's driver, as
fixed SQL with the values converted by the columns' own SQLAlchemy types, so what is
stored is exactly what SQLAlchemy would store and read back. The reason is time: a bot
turn's replies are committed before they are pushed, on the turn's path, and with the
caches cold after Rasa's work SQLAlchemy's execution of the same two statements cost
0.57 ms against 0.22 ms for the driver's (tests/gateway/test_write_statements.py checks
that both store the same rows). A driver error is raised as SQLAlchemy's, as it would be through
SQLAlchemy (IntegrityError, OperationalError ...).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Connection, Dialect, bindparam, insert, update
from sqlalchemy.exc import DBAPIError

from .models import Conversation, Message

# The messages table's columns as the writer fills them (handoff.writer.message_row).
MESSAGE_COLUMNS = (
    "conversation_id", "seq", "sender", "text", "created_at", "client_message_id",
    "agent_id", "buttons", "nlu",
)


class Statements(Protocol):
    def take_seqs(
        self, conversation_ids: list[str], count: int, now: dt.datetime
    ) -> Iterable[tuple[str, int]]:
        """Adds `count` to each conversation's last_seq; gives (id, new last_seq)."""

    def insert_messages(self, rows: list[dict[str, Any]]) -> None:
        """Rows of the messages table, keyed by MESSAGE_COLUMNS."""

    def set_nlu(self, annotations: list[tuple[str, int, dict[str, Any]]]) -> None:
        """(conversation_id, seq, nlu) for each message to annotate."""


# Built once: building them again for every transaction showed in profiles.
_TAKE_SEQS = (
    update(Conversation)
    .where(Conversation.id.in_(bindparam("b_ids", expanding=True)))
    .values(last_seq=Conversation.last_seq + bindparam("b_count"), updated_at=bindparam("b_now"))
    .returning(Conversation.id, Conversation.last_seq)
)
_INSERT = insert(Message)
_SET_NLU = (
    update(Message)
    .where(
        Message.conversation_id == bindparam("b_conversation_id"),
        Message.seq == bindparam("b_seq"),
    )
    .values(nlu=bindparam("b_nlu"))
)


class CoreStatements:
    """Through SQLAlchemy Core, on any database (the writer's PostgreSQL path)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def take_seqs(
        self, conversation_ids: list[str], count: int, now: dt.datetime
    ) -> Iterable[tuple[str, int]]:
        rows = self._connection.execute(
            _TAKE_SEQS, {"b_ids": conversation_ids, "b_count": count, "b_now": now}
        )
        return [(conversation_id, last) for conversation_id, last in rows]

    def insert_messages(self, rows: list[dict[str, Any]]) -> None:
        self._connection.execute(_INSERT, rows)

    def set_nlu(self, annotations: list[tuple[str, int, dict[str, Any]]]) -> None:
        self._connection.execute(
            _SET_NLU,
            [{"b_conversation_id": c, "b_seq": s, "b_nlu": n} for c, s, n in annotations],
        )


def _converter(column: Any, dialect: Dialect) -> Any:
    """The column type's own conversion of a Python value for this dialect (or None)."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)


class SqliteStatements:
    """Straight through sqlite3, on the writer's own connection (see the module's doc)."""

    _INSERT_SQL = (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in MESSAGE_COLUMNS)})"
    )
    _SET_NLU_SQL = "UPDATE messages SET nlu = ? WHERE conversation_id = ? AND seq = ?"

    def __init__(self, connection: sqlite3.Connection, dialect: Dialect) -> None:
        self._connection = connection
        messages = Message.__table__.c
        self._message_converters = [
            (i, convert)
            for i, name in enumerate(MESSAGE_COLUMNS)
            if (convert := _converter(messages[name], dialect)) is not None
        ]
        self._time = _converter(Conversation.__table__.c.updated_at, dialect)
        self._nlu = _converter(messages.nlu, dialect)
        self._take_seqs_sql: dict[int, str] = {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commits if the block returns, rolls back if it raises."""
        try:
            with self._connection:
                yield
        except sqlite3.Error as exc:
            raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc

    def take_seqs(
        self, conversation_ids: list[str], count: int, now: dt.datetime
    ) -> Iterable[tuple[str, int]]:
        sql = self._take_seqs_sql.get(len(conversation_ids))
        if sql is None:
            sql = self._take_seqs_sql[len(conversation_ids)] = (
                "UPDATE conversations SET last_seq = last_seq + ?, updated_at = ? "
                f"WHERE id IN ({', '.join('?' for _ in conversation_ids)}) "
                "RETURNING id, last_seq"
            )
        when = self._time(now) if self._time else now
        return self._connection.execute(sql, (count, when, *conversation_ids)).fetchall()

    def insert_messages(self, rows: list[dict[str, Any]]) -> None:
        converters = self._message_converters
        values = []
        for row in rows:
            value = [row[name] for name in MESSAGE_COLUMNS]
            for i, convert in converters:
                value[i] = convert(value[i])
            values.append(value)
        self._connection.executemany(self._INSERT_SQL, values)

    def set_nlu(self, annotations: list[tuple[str, int, dict[str, Any]]]) -> None:
        convert = self._nlu
        self._connection.executemany(
            self._SET_NLU_SQL,
            [(convert(n) if convert else n, c, s) for c, s, n in annotations],
        )
