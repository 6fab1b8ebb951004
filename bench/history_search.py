"""History's queries (handoff.conversations.history) on a filled database, SQLite and PostgreSQL.

Fills a fresh database with 20,000 conversations of 10 messages each (one in five with a
resolved handoff and a booking reference), then times each kind of History page (best
of three) and, on PostgreSQL, 20,000 message inserts in transactions of 100, with and
without a pg_trgm GIN index on messages.text (the index the search does not have).

    .venv/gateway/bin/python bench/history_search.py [--conversations 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handoff.storage.db import make_engine, make_sessionmaker, upgrade_async  # noqa: E402
from handoff.conversations.history import HistoryQuery, history_page  # noqa: E402
from handoff.storage.models import Conversation, Handoff, Message  # noqa: E402
from tests.pg_server import PostgresServer, start_postgres  # noqa: E402

WORDS = (
    "flight booking cancelled delayed baggage seat refund voucher hotel check in online "
    "gate window aisle meal transfer tomorrow morning evening please thanks"
).split()
PER_CONVERSATION = 10
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
QUERIES = [
    ("first page, no filter", HistoryQuery()),
    ("status=resolved", HistoryQuery(state="resolved")),
    ("one day", HistoryQuery(since=START + dt.timedelta(days=60),
                             until=START + dt.timedelta(days=61))),
    ("q=a booking reference", HistoryQuery(text="B01230")),
    ("q=a word said once", HistoryQuery(text="needle-xyz")),
    ("q=a common word", HistoryQuery(text="refund")),
]


def _sentence(rnd: random.Random) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(12))


async def fill(url: str, conversations: int) -> AsyncEngine:
    await upgrade_async(url)
    engine = make_engine(url)
    rnd = random.Random(1)
    rows: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    handoffs: list[dict[str, Any]] = []
    for i in range(conversations):
        cid = uuid.uuid4().hex
        created = START + dt.timedelta(minutes=20 * i)
        rows.append({"id": cid, "token_hash": cid, "status": "bot", "last_seq": PER_CONVERSATION,
                     "created_at": created, "updated_at": created + dt.timedelta(minutes=15)})
        messages += [
            {"conversation_id": cid, "seq": seq, "sender": "customer" if seq % 2 else "bot",
             "text": _sentence(rnd), "created_at": created}
            for seq in range(1, PER_CONVERSATION + 1)
        ]
        if i % 5 == 0:
            handoffs.append({"conversation_id": cid, "reason": "requested", "priority": 0,
                             "context": {"booking_reference": f"B{i:05d}"},
                             "requested_at": created, "resolved_at": created})
    messages[len(messages) // 2]["text"] += " needle-xyz"
    async with engine.begin() as db:
        for table, values in ((Conversation, rows), (Message, messages), (Handoff, handoffs)):
            for at in range(0, len(values), 5000):
                await db.execute(insert(table), values[at:at + 5000])
    return engine


async def analyze(engine: AsyncEngine) -> None:
    async with engine.connect() as db:
        await db.execution_options(isolation_level="AUTOCOMMIT")
        await db.execute(text("ANALYZE"))


async def time_queries(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    for label, query in QUERIES:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            async with sessions() as db:
                page = await history_page(db, query)
            best = min(best, time.perf_counter() - started)
        print(f"  {label:24s} {best * 1000:8.1f} ms  ({len(page.conversations)} rows)")


async def time_inserts(engine: AsyncEngine) -> None:
    rnd = random.Random(2)
    now = dt.datetime.now(dt.timezone.utc)
    async with engine.begin() as db:
        await db.execute(insert(Conversation), [
            {"id": f"x{i}", "token_hash": "x", "status": "bot", "last_seq": 10,
             "created_at": now, "updated_at": now} for i in range(2000)
        ])
    values = [{"conversation_id": f"x{i // 10}", "seq": i % 10 + 1, "sender": "customer",
               "text": _sentence(rnd), "created_at": now} for i in range(20000)]
    started = time.perf_counter()
    for at in range(0, len(values), 100):
        async with engine.begin() as db:
            await db.execute(insert(Message), values[at:at + 100])
    print(f"  20,000 message inserts   {time.perf_counter() - started:8.2f} s")


async def postgres_database(server: PostgresServer, name: str) -> str:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=server.port, user=server.user, database="postgres"
    )
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.url(name)


async def main(conversations: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        print(f"SQLite, {conversations:,} conversations")
        engine = await fill(f"sqlite+aiosqlite:///{directory}/history.db", conversations)
        await time_queries(engine)
        await engine.dispose()
    server = start_postgres()
    try:
        for trigram in (False, True):
            url = await postgres_database(server, f"history_{int(trigram)}")
            engine = await fill(url, conversations)
            print(f"PostgreSQL{' with a pg_trgm index' if trigram else ''}")
            if trigram:
                async with engine.begin() as db:
                    await db.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                    await db.execute(text(
                        "CREATE INDEX ix_messages_text_trgm ON messages USING gin (text gin_trgm_ops)"
                    ))
            await analyze(engine)
            await time_queries(engine)
            await time_inserts(engine)
            await engine.dispose()
    finally:
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20000)
    asyncio.run(main(parser.parse_args().conversations))
