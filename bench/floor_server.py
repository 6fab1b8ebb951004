"""The relay's floor: store each message, then ack it and forward it, and nothing else.

A separate process, like the bare echo, started by bench/relay.py. It speaks the part of
the gateway's protocol the relay's client uses (a widget's `message` frame, its `ack`, the
holder's `message` event) on the gateway's stack: aiohttp with uvloop, sockets without
compression, SQLite in WAL with synchronous=NORMAL. Each message is committed before its
ack and its forward, with the messages that arrive meanwhile batched into one transaction
on a thread and the next transaction started before the last one's answers go out, as
handoff.writer does; a socket's frames of one batch leave in one write, as in
handoff.sockets. Left out is everything the gateway does besides: tokens, validation,
turns, the holder's lookup, client-id memory, the queue, annotation, the console's event
ids and replay. So its saturation is what any gateway on this stack and machine could
reach while keeping "stored before acknowledged".

    python bench/floor_server.py PORT DB_PATH [--gateway-sql CONVERSATIONS]

Widgets connect to /w/{conversation_id}?agent=K, the holder's console to /a/K.
`--gateway-sql N` stores with the gateway's own schema and statements instead
(handoff.models, handoff.write_statements: the conversation's last_seq taken in SQL,
foreign keys on, the writer's pragmas) for conversations floor-00000 ... floor-{N-1},
so that the difference between the two floors is what the gateway's SQL costs.
"""

from __future__ import annotations

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
# One statement per transaction, its rows as one JSON array, as handoff.write_statements.
INSERT = (
    "INSERT INTO messages (conversation_id, seq, sender, text, client_message_id, created_at) "
    "SELECT j.value ->> 0, j.value ->> 1, 'customer', j.value ->> 2, j.value ->> 3, "
    "j.value ->> 4 FROM json_each(?) AS j"
)


def text_frame(payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", 0x81, length) + payload
    if length < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, length) + payload
    return struct.pack("!BBQ", 0x81, 127, length) + payload


class GatewaySql:
    """The gateway's statements on its schema (see --gateway-sql)."""

    def __init__(self, path: str, db: sqlite3.Connection, conversations: int) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from sqlalchemy import create_engine, insert

        from handoff.models import Base, Conversation
        from handoff.write_connection import WRITER_CACHE_KIB
        from handoff.write_statements import MESSAGE_COLUMNS, SqliteRows, SqliteStatements

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
        # commit, runs there too; about as often as the gateway's writer checkpoints.
        db.execute("PRAGMA wal_autocheckpoint=4000")
        db.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        self.statements = SqliteStatements(db)
        self.columns = MESSAGE_COLUMNS

    def prepare(self, batch: list, now: dt.datetime) -> tuple[Any, list]:
        """The batch as the writer hands it to its thread, and each message's offset."""
        adding: dict[str, int] = defaultdict(int)
        rows, offsets = [], []
        for _ws, conversation_id, _agent, data in batch:
            adding[conversation_id] += 1
            offsets.append(adding[conversation_id])
            rows.append({"conversation_id": conversation_id, "seq": adding[conversation_id],
                         "sender": "customer", "text": data["text"], "created_at": now,
                         "client_message_id": data["client_message_id"], "agent_id": None,
                         "buttons": None, "nlu": None})
        return self.rows.batch(rows, dict(adding), [], now), offsets

    def commit(self, prepared: Any) -> dict[str, int]:
        with self.statements.transaction():
            return self.statements.write(prepared)


class Relay:
    def __init__(self, path: str, gateway_conversations: int | None = None) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.gateway_sql = None
        if gateway_conversations is None:
            self.db.executescript(SCHEMA)
        else:
            self.gateway_sql = GatewaySql(path, self.db, gateway_conversations)
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
        if self.gateway_sql is not None:
            return self.write_next_gateway_sql()
        batch, self.waiting = self.waiting, []
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        rows = []
        for _ws, conversation_id, _agent, data in batch:
            self.seqs[conversation_id] += 1
            rows.append((conversation_id, self.seqs[conversation_id], data["text"],
                         data["client_message_id"], now))
        done = asyncio.get_running_loop().run_in_executor(
            None, self.commit, orjson.dumps(rows).decode())
        done.add_done_callback(lambda future: self.written(future, batch, rows))

    def write_next_gateway_sql(self) -> None:
        assert self.gateway_sql is not None
        batch, self.waiting = self.waiting, []
        now = dt.datetime.now(dt.timezone.utc)
        prepared, offsets = self.gateway_sql.prepare(batch, now)
        done = asyncio.get_running_loop().run_in_executor(
            None, self.gateway_sql.commit, prepared)

        def seqs_known(future: asyncio.Future[dict[str, int]]) -> None:
            if future.exception() is None:
                # The seqs the database gave: each conversation's last one, counted back.
                last = future.result()
                counts: dict[str, int] = defaultdict(int)
                for _ws, conversation_id, _agent, _data in batch:
                    counts[conversation_id] += 1
                base = {c: last[c] - n for c, n in counts.items()}
                rows = [(c, base[c] + offset, d["text"], d["client_message_id"], now.isoformat())
                        for (_ws, c, _agent, d), offset in zip(batch, offsets)]
            self.written(future, batch, rows if future.exception() is None else [])

        done.add_done_callback(seqs_known)

    def commit(self, rows: str) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(INSERT, (rows,))

    def written(self, future: asyncio.Future[None], batch: list, rows: list) -> None:
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


if __name__ == "__main__":
    gateway_sql = int(sys.argv[4]) if sys.argv[3:4] == ["--gateway-sql"] else None
    web.run_app(create_app(sys.argv[2], gateway_sql), host="127.0.0.1", port=int(sys.argv[1]), print=None,
                access_log=None, loop=uvloop.new_event_loop())
