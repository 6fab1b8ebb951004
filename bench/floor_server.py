"""The relay's floor: store each message, then ack it and forward it, and nothing else.

A separate process, like the bare echo, started by bench/relay.py. It speaks the part of
the gateway's protocol the relay's client uses (a widget's `message` frame, its `ack`, the
holder's `message` event) on the gateway's stack: aiohttp with uvloop, sockets without
compression, SQLite in WAL with synchronous=NORMAL. Each message is committed before its
ack and its forward, with the messages that arrive meanwhile batched into one transaction
on a thread and the next transaction started before the last one's answers go out, as
handoff.storage.writer does; a socket's frames of one batch leave in one write (the
gateway sends each through aiohttp, handoff.live.sockets). Left out is everything the gateway does besides: tokens, validation,
turns, the holder's lookup, client-id memory, the queue, annotation, the console's event
ids and replay. So its saturation is what any gateway on this stack and machine could
reach while keeping "stored before acknowledged".

    python bench/floor_server.py [--gateway-sql CONVERSATIONS] DB_PATH PORT

Widgets connect to /w/{conversation_id}?agent=K, the holder's console to /a/K. The seqs
are counted here, one process being the only writer. `--gateway-sql N` stores with the
gateway's own schema and statements instead (handoff.storage.models, handoff.storage.write_statements:
the conversation's last_seq taken in SQL, foreign keys on, the writer's pragmas) for
conversations floor-00000 ... floor-{N-1}, so that the difference between the two floors
is what the gateway's SQL costs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import struct
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import uvloop
from aiohttp import WSMsgType, web
from sqlalchemy import create_engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.storage.models import Base, Conversation  # noqa: E402
from handoff.storage.write_connection import WRITER_CACHE_KIB  # noqa: E402
from handoff.storage.write_statements import SqliteBatch, SqliteRows, SqliteStatements  # noqa: E402


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked text frame (RFC 6455 5.2): the floor writes frames itself."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


# A stored message as the floor knows it: conversation, seq, text, client id, created_at.
Row = tuple[str, int, str, str, str]

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    client_message_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id
    ON messages (conversation_id, client_message_id);
"""
# One statement per transaction, its rows as one JSON array, as handoff.storage.write_statements.
INSERT = (
    "INSERT INTO messages (conversation_id, seq, sender, text, client_message_id, created_at) "
    "SELECT j.value ->> 0, j.value ->> 1, 'customer', j.value ->> 2, j.value ->> 3, "
    "j.value ->> 4 FROM json_each(?) AS j"
)


class OwnSchema:
    """The messages alone, in a table of their own."""

    def __init__(self, db: sqlite3.Connection) -> None:
        db.executescript(SCHEMA)
        self.db = db

    def prepare(self, rows: list[Row], now: dt.datetime) -> str:
        return orjson.dumps(rows).decode()

    def commit(self, rows: str) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(INSERT, (rows,))


class GatewaySql:
    """The gateway's schema and its writer's statements (see --gateway-sql)."""

    def __init__(self, path: str, db: sqlite3.Connection, conversations: int) -> None:
        engine = create_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(Conversation), [
                {"id": f"floor-{i:05d}", "token_hash": "-", "status": "agent"}
                for i in range(conversations)])
        self.rows = SqliteRows(engine.dialect)
        engine.dispose()
        db.execute("PRAGMA foreign_keys=ON")
        # The floor commits on its thread only, so SQLite's own checkpoint, inside the
        # commit, runs there too (the gateway's writer, which commits on the loop while
        # quiet, turns it off and checkpoints on its threads: handoff.storage.write_connection).
        db.execute("PRAGMA wal_autocheckpoint=4000")
        db.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        self.statements = SqliteStatements(db)

    def prepare(self, rows: list[Row], now: dt.datetime) -> SqliteBatch:
        """The batch as the gateway's writer hands it to its thread: "seq" is the
        message's place among its conversation's in this batch."""
        adding: defaultdict[str, int] = defaultdict(int)
        drafts = []
        for conversation_id, _seq, text, client_id, _at in rows:
            adding[conversation_id] += 1
            drafts.append({"conversation_id": conversation_id, "seq": adding[conversation_id],
                           "sender": "customer", "text": text, "created_at": now,
                           "client_message_id": client_id, "agent_id": None,
                           "buttons": None, "nlu": None})
        return self.rows.batch(drafts, dict(adding), [], now)

    def commit(self, batch: SqliteBatch) -> None:
        with self.statements.transaction():
            self.statements.write(batch)


class Relay:
    def __init__(self, path: str, gateway_conversations: int | None = None) -> None:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        self.store: OwnSchema | GatewaySql = (
            OwnSchema(db) if gateway_conversations is None
            else GatewaySql(path, db, gateway_conversations))
        self.consoles: dict[str, web.WebSocketResponse] = {}
        self.transports: dict[web.WebSocketResponse, asyncio.Transport] = {}
        self.seqs: dict[str, int] = defaultdict(int)
        self.waiting: list[tuple[web.WebSocketResponse, str, str, dict[str, Any]]] = []
        self.writing = False
        self.event_id = 0

    def take(self, ws: web.WebSocketResponse, conversation_id: str, agent: str,
             data: dict[str, Any]) -> None:
        self.waiting.append((ws, conversation_id, agent, data))
        if not self.writing:
            self.writing = True
            # What arrives in this turn of the loop joins the transaction.
            asyncio.get_running_loop().call_soon(self.write_next)

    def write_next(self) -> None:
        batch, self.waiting = self.waiting, []
        now = dt.datetime.now(dt.timezone.utc)
        at = now.isoformat()
        rows: list[Row] = []
        for _ws, conversation_id, _agent, data in batch:
            self.seqs[conversation_id] += 1
            rows.append((conversation_id, self.seqs[conversation_id], data["text"],
                         data["client_message_id"], at))
        done = asyncio.get_running_loop().run_in_executor(
            None, self.store.commit, self.store.prepare(rows, now))
        done.add_done_callback(lambda future: self.written(future, batch, rows))

    def written(self, future: asyncio.Future[None], batch: list, rows: list[Row]) -> None:
        future.result()  # a failed commit ends the benchmark loudly
        if self.waiting:
            self.write_next()  # the next transaction goes first, then the answers
        else:
            self.writing = False
        out: defaultdict[web.WebSocketResponse, list[bytes]] = defaultdict(list)
        for (ws, conversation_id, agent, data), (_c, seq, text, client_id, at) in zip(batch, rows):
            message = {"seq": seq, "sender": "customer", "text": text,
                       "client_message_id": client_id, "created_at": at}
            out[ws].append(text_frame(orjson.dumps(
                {"type": "ack", "client_message_id": client_id, "seq": seq,
                 "status": "human", "message": message})))
            console = self.consoles.get(agent)
            if console is not None:
                self.event_id += 1
                out[console].append(text_frame(orjson.dumps(
                    {"type": "message", "conversation_id": conversation_id,
                     "message": message, "id": self.event_id})))
        for ws, frames in out.items():
            transport = self.transports.get(ws)
            if transport is not None and not transport.is_closing():
                transport.write(b"".join(frames))


def create_app(path: str, gateway_conversations: int | None = None) -> web.Application:
    relay = Relay(path, gateway_conversations)
    routes = web.RouteTableDef()

    @routes.get("/w/{conversation_id}")
    async def widget(request: web.Request) -> web.WebSocketResponse:
        conversation_id = request.match_info["conversation_id"]
        agent = request.query["agent"]
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024, compress=False)
        await ws.prepare(request)
        relay.transports[ws] = request.transport
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                data = json.loads(frame.data)
                if data.get("type") == "message":
                    relay.take(ws, conversation_id, agent, data)
        finally:
            relay.transports.pop(ws, None)
        return ws

    @routes.get("/a/{agent}")
    async def console(request: web.Request) -> web.WebSocketResponse:
        agent = request.match_info["agent"]
        ws = web.WebSocketResponse(heartbeat=30, compress=False)
        await ws.prepare(request)
        relay.consoles[agent] = ws
        relay.transports[ws] = request.transport
        try:
            async for _frame in ws:
                pass
        finally:
            relay.consoles.pop(agent, None)
            relay.transports.pop(ws, None)
        return ws

    @routes.get("/ready")
    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ready")

    app = web.Application()
    app.router.add_routes(routes)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway-sql", type=int, metavar="CONVERSATIONS")
    parser.add_argument("database")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    web.run_app(create_app(args.database, args.gateway_sql), host="127.0.0.1", port=args.port,
                print=None, access_log=None, loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
