"""The group-commit writer's statements (handoff.storage.dialects), for either database.

A transaction of the writer adds to conversations' last_seq to give its messages their
seqs, inserts the messages and sets what the bot understood of earlier ones.

- On PostgreSQL (CoreStatements) these are SQLAlchemy Core statements on asyncpg,
  ``UPDATE conversations ... RETURNING`` first, so gateway processes sharing one
  database never hand out a seq twice. A state change's messages, stored in its own
  transaction, take the same statements on either database.
- On a SQLite file, which one gateway process writes on its writer thread
  (handoff.storage.write_connection), they go straight to the standard library's driver
  (SqliteStatements) as fixed SQL. The values are converted beforehand, on the loop, by
  the columns' own SQLAlchemy types (SqliteRows), so what is stored is exactly what
  SQLAlchemy would store and read back (tests/gateway/test_write_statements.py checks
  that both store the same rows). A driver error is raised as SQLAlchemy's
  (IntegrityError, OperationalError ...). The reason is time: SQLAlchemy's execution of
  a bot turn's statements cost more than twice the driver's, holding the interpreter's
  lock the event loop needs (bench/README.md, "The numbers behind the gateway's own
  code").
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, bindparam, insert, update
from sqlalchemy.exc import DBAPIError

from handoff.storage.models import Conversation, Message

# The messages table's columns as the writer fills them (handoff.storage.drafts.message_row).
MESSAGE_COLUMNS = (
    "conversation_id", "seq", "sender", "text", "created_at", "client_message_id",
    "agent_id", "buttons", "nlu",
)


# Copies the write-ahead log into the database file as far as readers let it, without
# waiting for anyone or holding anyone up.
PASSIVE_CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"

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


@dataclass(frozen=True)
class SqliteBatch:
    """One transaction of the writer on SQLite, as the JSON arguments of its statements.

    Made on the event loop (SqliteRows.batch), so that the writer's thread runs SQL only.
    """

    # [[conversation_id, offset, sender, text, created_at, client_message_id, agent_id,
    #   buttons, nlu], ...]: offset 1 is the conversation's first message in this batch.
    messages: str | None
    # [[conversation_id, count], ...]: how many messages each conversation adds.
    adding: str | None
    # [[nlu, conversation_id, seq], ...]
    annotations: str | None
    updated_at: Any


class SqliteRows:
    """Rows as SqliteStatements takes them, with the values converted by the columns' own
    SQLAlchemy types, so what is stored is what SQLAlchemy would store."""

    def __init__(self, dialect: Dialect) -> None:
        messages = Message.__table__.c
        self._message_converters = [
            (i, convert)
            for i, name in enumerate(MESSAGE_COLUMNS)
            if (convert := _converter(messages[name], dialect)) is not None
        ]
        self._time = _converter(Conversation.__table__.c.updated_at, dialect)
        self._nlu = _converter(messages.nlu, dialect)

    def batch(
        self,
        rows: list[dict[str, Any]],
        adding: dict[str, int],
        annotations: list[tuple[str, int, dict[str, Any]]],
        now: dt.datetime,
    ) -> SqliteBatch:
        """`rows` keyed by MESSAGE_COLUMNS, with "seq" the offset (see SqliteBatch)."""
        converters = self._message_converters
        # Conversions of the values many rows share (None, the transaction's time).
        shared: dict[tuple[int, Any], Any] = {}
        values = []
        for row in rows:
            value = [row[name] for name in MESSAGE_COLUMNS]
            for i, convert in converters:
                given = value[i]
                if isinstance(given, (list, dict)):
                    value[i] = convert(given)
                    continue
                key = (i, given)
                if key not in shared:
                    shared[key] = convert(given)
                value[i] = shared[key]
            values.append(value)
        convert_nlu = self._nlu
        return SqliteBatch(
            messages=_json(values) if values else None,
            adding=_json(list(adding.items())) if adding else None,
            annotations=_json([
                (convert_nlu(n) if convert_nlu else n, c, s) for c, s, n in annotations
            ]) if annotations else None,
            updated_at=self._time(now) if self._time else now,
        )


def _json(value: Any) -> str:
    # As text: SQLite from 3.45 on takes a BLOB argument for its binary JSON.
    return orjson.dumps(value).decode()


class SqliteStatements:
    """Straight through sqlite3, on the writer's own connection (see the module's doc).

    Each statement takes all its rows as one JSON array (SQLite's json_each), so that it
    is one step of the driver whatever the transaction's size, and the seqs are added in
    SQL, so that no Python runs between the statements. The driver lets go of the
    interpreter's lock for each step, and getting it back means waiting for the event
    loop on the other thread: executemany() took it back for every row, three times
    slower a message (bench/README.md, "The numbers behind the gateway's own code").
    """

    _INSERT_SQL = (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "
        "SELECT c.id, c.last_seq + (j.value ->> 1), "
        f"{', '.join(f'j.value ->> {i}' for i in range(2, len(MESSAGE_COLUMNS)))} "
        "FROM json_each(?) AS j JOIN conversations AS c ON c.id = j.value ->> 0 "
        "ORDER BY j.key"
    )
    _ADD_SQL = (
        "UPDATE conversations SET last_seq = last_seq + (a.value ->> 1), updated_at = ? "
        "FROM json_each(?) AS a WHERE conversations.id = a.value ->> 0"
    )
    _LAST_SEQS_SQL = (
        "SELECT json_group_array(json_array(id, last_seq)) FROM conversations "
        "WHERE id IN (SELECT value ->> 0 FROM json_each(?))"
    )
    _SET_NLU_SQL = (
        "UPDATE messages SET nlu = j.value ->> 0 FROM json_each(?) AS j "
        "WHERE messages.conversation_id = j.value ->> 1 AND messages.seq = j.value ->> 2"
    )

    def __init__(self, connection: sqlite3.Connection) -> None:
        if sqlite3.sqlite_version_info < (3, 38):
            raise RuntimeError(f"SQLite 3.38 or later is needed, not {sqlite3.sqlite_version}")
        self._connection = connection

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commits if the block returns, rolls back if it raises."""
        try:
            with self._connection:
                yield
        except sqlite3.Error as exc:
            raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc

    def checkpoint(self) -> None:
        """Copies the log into the database file, as far as readers let it (PASSIVE)."""
        try:
            self._connection.execute(PASSIVE_CHECKPOINT).fetchall()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc

    def write(self, batch: SqliteBatch) -> dict[str, int]:
        """Stores the batch; gives each conversation's last seq after it (a conversation
        that does not exist is missing from the answer, and its messages not stored)."""
        execute = self._connection.execute
        last_seqs: dict[str, int] = {}
        if batch.adding is not None:
            execute(self._INSERT_SQL, (batch.messages,))
            execute(self._ADD_SQL, (batch.updated_at, batch.adding))
            (found,) = execute(self._LAST_SEQS_SQL, (batch.adding,)).fetchone()
            last_seqs = dict(orjson.loads(found))
        if batch.annotations is not None:
            execute(self._SET_NLU_SQL, (batch.annotations,))
        return last_seqs
