"""The group-commit writer, and the caches that spare each message a read."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from handoff import keys
from handoff.live.serializers import nlu_annotation
from handoff.storage.holders import Holder
from handoff.storage.models import STATUS_AGENT, STATUS_BOT
from handoff.storage.writer import ConversationMissing, Draft, DuplicateMessage

from .conftest import Customer, MakeClient
from .fake_rasa import FakeRasa

# What the gateway keeps of Rasa's parse of a message: the shape the console reads.
GREET = nlu_annotation({"intent": {"name": "greet", "confidence": 0.98}})
CHITCHAT = nlu_annotation({"intent": {"name": "chitchat", "confidence": 0.7}})

# For what only SQLite has: there the writer has its own thread and binds the values itself
# (PostgreSQL takes its seqs first and goes through SQLAlchemy Core).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _conversations(client: TestClient, count: int) -> list[str]:
    return [(await (await client.post("/api/conversations")).json())["id"] for _ in range(count)]


async def test_messages_of_many_conversations_go_in_one_transaction_each_in_order(
    make_client: MakeClient,
) -> None:
    client = await make_client(annotation_rate=0)
    ids = await _conversations(client, 10)
    writer = client.app[keys.WRITER]
    before = writer.transactions

    stored = await asyncio.gather(*(
        writer.store(cid, [Draft("customer", f"{cid}-{n}") for n in range(3)]) for cid in ids
    ))

    assert writer.transactions - before == 1
    assert [[(m.seq, m.text) for m in batch] for batch in stored] == [
        [(1, f"{cid}-0"), (2, f"{cid}-1"), (3, f"{cid}-2")] for cid in ids
    ]
    more = await writer.store(ids[0], [Draft("agent", "later", author="Maya")])
    assert [(m.seq, m.sender, m.author) for m in more] == [(4, "agent", "Maya")]


@SQLITE_ONLY
async def test_on_sqlite_a_large_transaction_goes_to_the_writers_thread(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small transactions run on the loop; more than INLINE_MESSAGES on the writer's
    thread, with the same outcome (seqs, order, a missing conversation refused)."""
    import threading

    from handoff.storage.write_statements import SqliteStatements
    from handoff.storage.busy import INLINE_MESSAGES

    client = await make_client(annotation_rate=0)
    ids = await _conversations(client, 30)
    writer = client.app[keys.WRITER]
    threads: list[str] = []
    write = SqliteStatements.write

    def recording(statements: SqliteStatements, batch: object) -> dict[str, int]:
        threads.append(threading.current_thread().name)
        return write(statements, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteStatements, "write", recording)
    small = await writer.store(ids[0], [Draft("customer", "one")])
    many = await asyncio.gather(
        *(writer.store(cid, [Draft("customer", f"{cid}-{n}") for n in range(3)]) for cid in ids),
        writer.store("no-such-conversation", [Draft("customer", "lost")]),
        return_exceptions=True,
    )

    assert 3 * len(ids) > INLINE_MESSAGES
    assert threads[0] == threading.main_thread().name
    assert threads[1].startswith("baton-writer")
    assert [(m.seq, m.text) for m in small] == [(1, "one")]
    assert [(m.seq, m.text) for m in many[0]] == [(2, f"{ids[0]}-0"), (3, f"{ids[0]}-1"),
                                                   (4, f"{ids[0]}-2")]
    assert [[m.seq for m in batch] for batch in many[1:-1]] == [[1, 2, 3]] * (len(ids) - 1)
    assert isinstance(many[-1], ConversationMissing)


@SQLITE_ONLY
async def test_on_sqlite_a_busy_writer_starts_the_next_transaction_before_answering(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages that arrived while a transaction was on the writer's thread go to the
    thread as soon as it has committed, before that transaction's callers are woken: the
    thread writes them while the callers answer and publish."""
    import threading

    from handoff.storage.write_statements import SqliteStatements
    from handoff.storage.busy import INLINE_MESSAGES

    client = await make_client(annotation_rate=0)
    ids = await _conversations(client, 2 * (INLINE_MESSAGES + 1))
    first_ids, next_ids = ids[: INLINE_MESSAGES + 1], ids[INLINE_MESSAGES + 1 :]
    writer = client.app[keys.WRITER]
    first_entered, first_released, next_entered = (threading.Event() for _ in range(3))
    threads: list[str] = []
    write = SqliteStatements.write

    def recording(statements: SqliteStatements, batch: object) -> dict[str, int]:
        threads.append(threading.current_thread().name)
        if len(threads) == 1:
            first_entered.set()
            first_released.wait(5)
        else:
            next_entered.set()
        return write(statements, batch)  # type: ignore[arg-type]

    async def first_caller() -> tuple[list[int], bool]:
        stored = await writer.store(first_ids[0], [Draft("customer", "first")])
        # Blocks the loop: only the writer's thread, with the next transaction, can set it.
        return [m.seq for m in stored], next_entered.wait(2)

    monkeypatch.setattr(SqliteStatements, "write", recording)
    first = asyncio.gather(
        first_caller(), *(writer.store(cid, [Draft("customer", "first")]) for cid in first_ids[1:])
    )
    await asyncio.to_thread(first_entered.wait, 5)
    following = asyncio.gather(*(writer.store(cid, [Draft("customer", "next")]) for cid in next_ids))
    for _ in range(3):
        await asyncio.sleep(0)  # the next messages are handed to the writer meanwhile
    first_released.set()
    (seqs, next_started), *others = await first
    stored_next = await following

    assert seqs == [1] and next_started
    assert [[m.seq for m in batch] for batch in others] == [[1]] * INLINE_MESSAGES
    assert [[(m.seq, m.text) for m in batch] for batch in stored_next] == [[(1, "next")]] * len(next_ids)
    assert len(threads) == 2 and all(name.startswith("baton-writer") for name in threads)


async def test_a_stored_client_id_fails_alone_with_its_seq(make_client: MakeClient) -> None:
    client = await make_client(annotation_rate=0)
    first, second = await _conversations(client, 2)
    writer = client.app[keys.WRITER]
    await writer.store(first, [Draft("customer", "hello", client_message_id="c-1")])

    results = await asyncio.gather(
        writer.store(second, [Draft("customer", "fine")]),
        writer.store(first, [Draft("customer", "hello", client_message_id="c-1")]),
        writer.store(first, [Draft("customer", "new", client_message_id="c-2")]),
        return_exceptions=True,
    )

    assert [m.seq for m in results[0]] == [1]  # type: ignore[union-attr]
    assert isinstance(results[1], DuplicateMessage) and results[1].seq == 1
    assert [m.seq for m in results[2]] == [2]  # type: ignore[union-attr]
    assert await client.app[keys.CLIENT_IDS].seq_of(first, "c-2") == 2


async def test_an_unknown_conversation_is_refused_and_others_are_stored(
    make_client: MakeClient,
) -> None:
    client = await make_client(annotation_rate=0)
    (known,) = await _conversations(client, 1)
    writer = client.app[keys.WRITER]

    results = await asyncio.gather(
        writer.store("nope", [Draft("customer", "lost")]),
        writer.store(known, [Draft("customer", "kept")]),
        return_exceptions=True,
    )

    assert isinstance(results[0], ConversationMissing)
    assert [m.seq for m in results[1]] == [1]  # type: ignore[union-attr]


async def test_an_annotation_is_written_onto_its_message(
    make_client: MakeClient, agent_headers: dict[str, str]
) -> None:
    client = await make_client(annotation_rate=0)
    (cid,) = await _conversations(client, 1)
    writer = client.app[keys.WRITER]
    await writer.store(cid, [Draft("customer", "hi"), Draft("customer", "there")])

    await writer.annotate(cid, 2, GREET)

    detail = await (await client.get(f"/api/agent/conversations/{cid}", headers=agent_headers)).json()
    assert [(m["seq"], m["nlu"]) for m in detail["messages"]] == [(1, None), (2, GREET)]


async def test_a_later_annotation_rides_in_the_next_transaction_or_its_own_soon(
    make_client: MakeClient, agent_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handoff.storage.group_commit.ANNOTATION_DELAY", 0.05)
    client = await make_client(annotation_rate=0)
    (cid,) = await _conversations(client, 1)
    writer = client.app[keys.WRITER]
    await writer.store(cid, [Draft("customer", "hi"), Draft("bot", "hello")])
    before = writer.transactions

    writer.annotate_soon(cid, 1, GREET)
    await asyncio.sleep(0.01)
    assert writer.transactions == before  # no transaction of its own at once
    await writer.store(cid, [Draft("customer", "there")])
    assert writer.transactions == before + 1  # it went with the message
    writer.annotate_soon(cid, 3, CHITCHAT)
    await asyncio.sleep(0.2)
    assert writer.transactions == before + 2  # alone, once the delay was over

    detail = await (await client.get(f"/api/agent/conversations/{cid}", headers=agent_headers)).json()
    customer = [(m["seq"], m["nlu"]) for m in detail["messages"] if m["sender"] == "customer"]
    assert customer == [(1, GREET), (3, CHITCHAT)]


async def test_two_processes_never_hand_out_a_seq_twice(make_client: MakeClient) -> None:
    """Seqs come from the database, so gateways sharing it interleave without conflict."""
    one = await make_client(annotation_rate=0)
    other = await make_client(annotation_rate=0)
    (cid,) = await _conversations(one, 1)

    async def send(client: TestClient, name: str) -> list[int]:
        seqs = []
        for n in range(10):
            stored = await client.app[keys.WRITER].store(cid, [Draft("customer", f"{name}{n}")])
            seqs.append(stored[0].seq)
        return seqs

    a, b = await asyncio.gather(send(one, "a"), send(other, "b"))

    assert sorted(a + b) == list(range(1, 21))


async def test_a_holder_read_overtaken_by_a_change_is_not_kept(client: TestClient) -> None:
    (cid,) = await _conversations(client, 1)
    holders = client.app[keys.HOLDERS]
    holders.forget(cid)

    reading = asyncio.ensure_future(holders.get(cid))
    await asyncio.sleep(0)  # the read has started
    holders.set(cid, Holder(STATUS_AGENT, 1, "Maya"))
    assert await reading == Holder(STATUS_BOT)

    assert await holders.get(cid) == Holder(STATUS_AGENT, 1, "Maya")
    assert await holders.get("nope") is None


async def test_every_change_of_holder_updates_the_cache(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    from handoff.conversations.agent_side import do_requeue_agent_conversations
    from handoff.storage.models import STATUS_WAITING

    body = await (await client.post("/api/conversations")).json()
    customer = Customer(client, body["id"], body["token"])
    holders = client.app[keys.HOLDERS]
    base = f"/api/agent/conversations/{customer.id}"

    async def cached() -> Holder | None:
        return holders._known.get(customer.id)

    await customer.say("can I talk to a real person")
    assert await cached() == Holder(STATUS_WAITING)
    await client.post(f"{base}/claim", headers=agent_headers)
    assert await cached() == Holder(STATUS_AGENT, 1, "Maya")
    await client.post(f"{base}/transfer", json={"to": "queue"}, headers=agent_headers)
    assert await cached() == Holder(STATUS_WAITING)
    await client.post(f"{base}/claim", headers=agent_headers)
    assert await do_requeue_agent_conversations(client.app, 1) == [customer.id]
    assert await cached() == Holder(STATUS_WAITING)
    await client.post(f"{base}/resolve", headers=agent_headers)
    assert await cached() == Holder(STATUS_BOT)
    # And the customer's next message goes to the bot again.
    assert (await customer.say("hello"))["status"] == STATUS_BOT


async def test_while_the_database_fails_retries_do_not_reach_the_bot(
    client: TestClient, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    body = await (await client.post("/api/conversations")).json()
    customer = Customer(client, body["id"], body["token"])
    writer = client.app[keys.WRITER]

    async def database_down(jobs: object) -> object:
        raise OperationalError("INSERT", {}, Exception("the database is down"))

    async def attempt() -> int:
        response = await client.post(
            f"/api/conversations/{customer.id}/messages", headers=customer.headers,
            json={"text": "hello", "client_message_id": "c-1"},
        )
        await asyncio.sleep(0.1)  # room for a call to Rasa that must not come
        return response.status

    monkeypatch.setattr(writer._queue, "_commit", database_down)
    first = await attempt()
    reached = len(rasa.calls)
    retries = [await attempt() for _ in range(3)]
    monkeypatch.undo()
    answered = await customer.say("hello", client_message_id="c-1")

    assert [first, *retries] == [503] * 4
    # PostgreSQL refuses the message before the bot is asked; SQLite, written by this
    # process, is trusted while its last transaction committed, so the first attempt may
    # have reached the bot, but none of the retries while it kept failing did.
    if client.app[keys.SETTINGS].database_url.startswith("postgresql"):
        assert reached == 0
    else:
        assert reached <= 1
    assert len(rasa.calls) == reached + 1
    assert [(m["seq"], m["sender"]) for m in answered["messages"]] == [(1, "customer"), (2, "bot")]


@SQLITE_ONLY
async def test_on_sqlite_the_bot_is_asked_once_the_message_is_committed(
    client: TestClient, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit is short and on this process's loop: overlapping it with Rasa's turn
    cost Rasa more than it saved (bench/README.md, "The bot asked after SQLite's
    commit"), so the request leaves after it."""
    from handoff.assistant import rasa_http

    await customer.say("hello")  # the connection to Rasa is open from now on
    order: list[str] = []
    # The bot turn's client writes the whole request to the connection here.
    send = rasa_http._Exchange.send
    writer = client.app[keys.WRITER]
    commit = writer._queue._commit

    def sending(exchange: rasa_http._Exchange, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        order.append("request written")
        return send(exchange, request)

    async def committing(jobs: list[object]) -> object:
        order.append("commit " + ",".join(d.sender for job in jobs for d in job.drafts))
        return await commit(jobs)

    monkeypatch.setattr(rasa_http._Exchange, "send", sending)
    monkeypatch.setattr(writer._queue, "_commit", committing)
    answered = await customer.say("how do i check in")

    assert order == ["commit customer", "request written", "commit bot"]
    assert [(m["seq"], m["sender"]) for m in answered["messages"]] == [(3, "customer"), (4, "bot")]


@SQLITE_ONLY
async def test_the_writers_rows_are_stored_as_sqlalchemys_would_be(
    make_client: MakeClient, agent_headers: dict[str, str]
) -> None:
    """On SQLite the writer binds the values itself: the rows must not differ in form."""
    from sqlalchemy import insert, select

    from handoff.storage.models import Agent, Message, utcnow
    from handoff.storage.drafts import message_row

    client = await make_client(annotation_rate=0)
    by_writer, by_core = await _conversations(client, 2)
    async with client.app[keys.DB].read() as db:
        agent_id = (await db.scalars(select(Agent.id))).first()
    now = utcnow()
    drafts = [
        Draft("customer", "héllo \"quoted\"", client_message_id="c-1"),
        Draft("bot", "pick one", buttons=[{"title": "Bags", "payload": "/ask_baggage"}]),
        Draft("agent", "hi", agent_id=agent_id, author="Maya"),
        Draft("system", "note", buttons=[]),
    ]
    stored = await client.app[keys.WRITER].store(by_writer, drafts)
    async with client.app[keys.DB].write() as db:
        await db.execute(
            insert(Message),
            [message_row(by_core, seq, d, stored[0].created_at) for seq, d in enumerate(drafts, 1)],
        )

    raw = (
        "SELECT seq, sender, text, created_at, typeof(created_at), client_message_id, agent_id,"
        " buttons, typeof(buttons), nlu, typeof(nlu) FROM messages WHERE conversation_id = ?"
        " ORDER BY seq"
    )
    async with client.app[keys.DB].engine.connect() as connection:
        written = (await connection.exec_driver_sql(raw, (by_writer,))).all()
        core = (await connection.exec_driver_sql(raw, (by_core,))).all()
    assert written == core
    assert [tuple(row)[7:] for row in written] == [
        ("null", "text", "null", "text"),
        ('[{"title": "Bags", "payload": "/ask_baggage"}]', "text", "null", "text"),
        ("null", "text", "null", "text"),
        ("null", "text", "null", "text"),
    ]
    # And they read back the same through the API.
    detail = await (await client.get(f"/api/agent/conversations/{by_writer}",
                                     headers=agent_headers)).json()
    assert [(m["seq"], m["created_at"]) for m in detail["messages"]] == [
        (m.seq, m.created_at.isoformat()) for m in stored
    ]
    assert now <= stored[0].created_at


@SQLITE_ONLY
async def test_on_sqlite_the_log_restarts_under_a_steady_stream_of_writes(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint thread never catches up with a log that is written all the time; the
    writer's own checkpoint does, so SQLite starts the log afresh and it stays small."""
    import os

    from handoff.storage import write_connection

    monkeypatch.setattr(write_connection, "CHECKPOINT_SECONDS", 0.1)
    client = await make_client(annotation_rate=0)
    ids = await _conversations(client, 50)
    writer = client.app[keys.WRITER]
    log_file = client.app[keys.SETTINGS].database_url.split("///", 1)[1] + "-wal"

    def restarts() -> int:
        # SQLite counts the times it started the log afresh in the log's header (bytes 12-15,
        # the checkpoint sequence): without the writer's own checkpoint it stays at 0 here.
        with open(log_file, "rb") as log:
            return int.from_bytes(log.read(16)[12:16], "big")

    # Write without pause until the log has restarted 10 times (about 2.5 s on a quiet
    # machine, longer on a busy one), at most 30 s.
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 30
    written = 0
    while (written < 2000 or restarts() < 10) and loop.time() < give_up:
        await asyncio.gather(*(writer.store(cid, [Draft("customer", "x" * 300)]) for cid in ids))
        written += len(ids)

    assert written >= 2000
    assert restarts() >= 10
    # The file keeps the largest size the log ever had: 289 MB here without the
    # writer's own checkpoint (about 20,000 messages).
    assert os.path.getsize(log_file) < 64 * 1024 * 1024


@SQLITE_ONLY
async def test_on_sqlite_a_quiet_writer_commits_on_the_loop_and_checkpoints_on_its_thread(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint syncs the log and the database file (10-25 ms of fsyncs here). SQLite's
    own ran inside the commit that crossed its threshold, which on a quiet gateway is on
    the loop; it is off, and the writer's connection checkpoints on the writer's thread."""
    import sqlite3
    import threading

    from handoff.storage import write_connection
    from handoff.storage.write_statements import SqliteStatements

    monkeypatch.setattr(write_connection, "CHECKPOINT_SECONDS", 0.05)
    client = await make_client(annotation_rate=0)
    ids = await _conversations(client, 3)
    writer = client.app[keys.WRITER]
    commits: list[tuple[str, int]] = []
    checkpoints: list[str] = []
    write, checkpoint = SqliteStatements.write, SqliteStatements.checkpoint

    def recording_write(statements: SqliteStatements, batch: object) -> dict[str, int]:
        connection: sqlite3.Connection = statements._connection
        (automatic,) = connection.execute("PRAGMA wal_autocheckpoint").fetchone()
        commits.append((threading.current_thread().name, automatic))
        return write(statements, batch)  # type: ignore[arg-type]

    def recording_checkpoint(statements: SqliteStatements) -> None:
        checkpoints.append(threading.current_thread().name)
        checkpoint(statements)

    monkeypatch.setattr(SqliteStatements, "write", recording_write)
    monkeypatch.setattr(SqliteStatements, "checkpoint", recording_checkpoint)
    loop = asyncio.get_running_loop()
    # One message at a time, each a transaction of its own, over several rounds.
    for n in range(12):
        await writer.store(ids[n % 3], [Draft("customer", f"m{n}")])
        await asyncio.sleep(0.02)
    until = loop.time() + 5
    while not checkpoints and loop.time() < until:
        await asyncio.sleep(0.01)

    assert commits == [(threading.main_thread().name, 0)] * 12
    assert checkpoints
    assert all(name.startswith("baton-writer") for name in checkpoints)
    stored = await writer.store(ids[0], [Draft("customer", "after")])
    assert [(m.seq, m.text) for m in stored] == [(5, "after")]
