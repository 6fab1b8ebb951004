"""Retention (BATON_RETENTION_DAYS): old transcripts and customers' details deleted, every
count the insights report kept; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from alembic import command
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from handoff import keys
from handoff.conversations.retention import sweep
from handoff.insights.learning import learned_examples
from handoff.settings import Settings
from handoff.storage.db import _alembic_config
from handoff.storage.models import (
    AuditEntry,
    Conversation,
    Handoff,
    Message,
    Note,
    Resolution,
    UnansweredMessage,
    UnansweredTopic,
    utcnow,
)

from .conftest import Customer, MakeClient
from .fake_rasa import FakeRasa
from .test_insights import seed
from .test_resolutions import add_agent

PERIOD = "/api/agent/insights?from=2026-11-01&to=2026-11-03"
ROOT = Path(__file__).resolve().parents[2]


def seeded(n: int) -> str:
    """The id test_insights.seed gives its n-th conversation."""
    return f"c{n:031d}"


# seed's conversations: 2-10 in and after the period, 1 (its c0) on 2026-12-01; 6 and 7
# are waiting for the team, so retention leaves them.
REDACTED = [seeded(n) for n in (1, 2, 3, 4, 5, 8, 9, 10)]
KEPT = [seeded(6), seeded(7)]


async def _with_details(client: TestClient) -> None:
    """What names the customer of seed's conversation 5 (c4): context, contact, a note,
    a resolution's fields and note, their audit entry."""
    cid = seeded(5)
    async with client.app[keys.DB].write() as db:
        handoff = await db.scalar(select(Handoff).where(Handoff.conversation_id == cid))
        handoff.context = {
            "summary": "Ann Lee's flight BA117 was cancelled. Their last message: 'help'",
            "booking_reference": "QX7P2L", "flight_number": "BA117", "customer_name": "Ann Lee",
            "dates": ["tomorrow"], "places": ["Paris"], "intents_seen": ["flight_cancelled"],
            "frustration": {"score": 0.7, "signals": ["long_wait"]},
        }
        handoff.contact = {"name": "Ann Lee", "email": "ann@example.com", "left_at": "x"}
        db.add(Note(conversation_id=cid, agent_id=handoff.agent_id, text="Ann is a gold member"))
        resolution = await db.scalar(select(Resolution).where(
            Resolution.conversation_id == cid, Resolution.action == "voucher"))
        resolution.fields = {"flight": "BA119"}
        resolution.note = "for Ann's trouble"
        resolution.reference = "V-1234"
        db.add(AuditEntry(conversation_id=cid, agent_id=handoff.agent_id,
                          action="resolution_approved",
                          details={"resolution_id": resolution.id, "action": "voucher",
                                   "fields": {"flight": "BA119"}, "reason": "Ann asked twice"}))
        # seed's first topic (c0, c2, c8) is training data for an intent.
        topic = await db.scalar(select(UnansweredTopic).where(UnansweredTopic.size == 3))
        topic.decision, topic.intent = "assigned", "baggage_allowance"


async def test_retention_deletes_transcripts_and_details_and_keeps_every_count(
    make_client: MakeClient, rasa: FakeRasa
) -> None:
    # seed's conversations are from 2026-11-01 to 12-01 (its at(31)).
    client = await make_client(retention_days=5, retention_sweep_seconds=0)
    await seed(client)
    await _with_details(client)
    recent = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await recent.say("how do I check in?")
    supervisor = await add_agent(client, "Ines", "supervisor")
    before = await (await client.get(PERIOD, headers=supervisor)).json()
    async with client.app[keys.DB].read() as db:
        learned_before = await learned_examples(db)
        messages_before = await db.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id.in_(REDACTED)))

    done = await sweep(client.app, now=dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc))

    assert done.redacted.conversations == REDACTED, done
    assert (done.redacted.messages, done.redacted.notes) == (messages_before, 1)
    assert messages_before == 12
    assert done.forgotten == 8 and rasa.forgotten == REDACTED
    after = await (await client.get(PERIOD, headers=supervisor)).json()
    # Every figure is the same; what people wrote is gone.
    assert [c["comment"] for c in before["csat"]["comments"]] == ["Took ages", "Great help"]
    assert after["csat"]["comments"] == []
    assert [t["examples"] for t in after["unanswered"]["topics"]] == [[], ["customer 1 in 6"]]
    for report in (before, after):
        del report["csat"]["comments"]
        for topic in report["unanswered"]["topics"]:
            del topic["examples"]
    assert after == before
    async with client.app[keys.DB].read() as db:
        with_messages = set(await db.scalars(select(Message.conversation_id).distinct()))
        assert with_messages == {*KEPT, recent.id}
        rows = {c.id: c for c in (await db.scalars(select(Conversation))).unique()}
        assert {cid for cid, c in rows.items() if c.redacted_at} == set(REDACTED)
        assert {rows[cid].redaction for cid in REDACTED} == {"retention"}
        assert not any(c.assistant_forget_pending for c in rows.values())
        handoff = await db.scalar(select(Handoff).where(Handoff.conversation_id == seeded(5)))
        assert handoff.context == {"flight_number": "BA117", "intents_seen": ["flight_cancelled"],
                                   "frustration": {"score": 0.7, "signals": ["long_wait"]}}
        assert (handoff.contact, handoff.rating, handoff.rating_comment) == (
            {"left_at": "x"}, 2, None)
        assert (handoff.reason, handoff.disruption) == ("disruption", "cancelled")
        assert await db.scalar(select(func.count()).select_from(Note)) == 0
        voucher = await db.scalar(select(Resolution).where(
            Resolution.conversation_id == seeded(5), Resolution.action == "voucher"))
        assert (voucher.amount_minor, voucher.status, voucher.fields, voucher.note,
                voucher.reference) == (15000, "done", None, None, None)
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "resolution_approved"))
        assert audit.details == {"resolution_id": voucher.id, "action": "voucher"}
        # The waiting customer's contact details stay until the team has answered.
        waiting = await db.scalar(select(Handoff).where(Handoff.conversation_id == seeded(7)))
        assert waiting.contact == {"email": "a@example.com"}
        # A supervisor chose those questions as training data: it still has them.
        assert await learned_examples(db) == learned_before
        assert learned_before == {"baggage_allowance": [
            "customer 1 in 1", "customer 1 in 3", "customer 1 in 9"]}

    again = await sweep(client.app, now=dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc))
    assert (again.redacted.conversations, again.late_messages, again.forgotten) == ([], 0, 0)
    assert rasa.forgotten == REDACTED


async def test_a_topic_no_longer_assigned_lets_its_kept_texts_go(
    make_client: MakeClient,
) -> None:
    # seed's conversations are from 2026-11-01 to 12-01 (its at(31)).
    client = await make_client(retention_days=5, retention_sweep_seconds=0)
    await seed(client)
    await _with_details(client)
    await sweep(client.app, now=dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc))
    supervisor = await add_agent(client, "Ines", "supervisor")
    async with client.app[keys.DB].read() as db:
        topic_id = await db.scalar(select(UnansweredTopic.id).where(UnansweredTopic.size == 3))
    for decision in ({"decision": "reopen"},
                     {"decision": "assign", "intent": "baggage_allowance"}):
        response = await client.post(f"/api/agent/insights/topics/{topic_id}/decision",
                                     json=decision, headers=supervisor)
        assert response.status == 200
    assert (await response.json())["training_examples"] == 0
    async with client.app[keys.DB].read() as db:
        assert await db.scalar(select(func.count()).select_from(UnansweredMessage)
                               .where(UnansweredMessage.text.is_not(None))) == 0


def _ids(body: dict[str, Any]) -> dict[str, str]:
    return {"conversation_id": body["id"], "token": body["token"]}


async def _idle(client: TestClient, conversation_id: str, days: int) -> None:
    async with client.app[keys.DB].write() as db:
        await db.execute(update(Conversation).where(Conversation.id == conversation_id)
                         .values(updated_at=utcnow() - dt.timedelta(days=days)))


async def test_a_redacted_conversation_is_closed_to_its_customer_and_gone_from_history(
    make_client: MakeClient, agent_headers: dict[str, str],
) -> None:
    client = await make_client(retention_days=30, retention_sweep_seconds=0)
    old = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await old.say("how do I check in?")
    young = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await young.say("baggage allowance?")
    await _idle(client, old.id, 31)
    await _idle(client, young.id, 29)
    ws = await old.socket()
    # Its replay: the two messages and who has the conversation.
    assert [(await ws.receive_json())["type"] for _ in range(3)] == ["message", "message", "status"]

    done = await sweep(client.app)

    assert done.redacted.conversations == [old.id]
    closed = await ws.receive()
    assert (closed.type, closed.data, closed.extra) == (
        WSMsgType.CLOSE, 4404, "conversation not found")
    for response in (
        await client.get(f"/api/conversations/{old.id}/messages", headers=old.headers),
        await client.post(f"/api/conversations/{old.id}/messages", json={"text": "hello?"},
                          headers=old.headers),
    ):
        assert (response.status, await response.json()) == (
            404, {"error": {"status": 404, "message": "conversation not found"}})
    assert len(await young.messages()) == 2
    detail = await client.get(f"/api/agent/conversations/{old.id}", headers=agent_headers)
    today = utcnow().date().isoformat()
    assert (detail.status, await detail.json()) == (410, {"error": {
        "status": 410,
        "message": f"this conversation's transcript was deleted on {today} (retention)"}})
    page = await (await client.get("/api/agent/conversations", headers=agent_headers)).json()
    assert [c["id"] for c in page["conversations"]] == [young.id]


async def test_rasa_forgets_at_a_later_sweep_when_it_was_down(
    make_client: MakeClient, rasa: FakeRasa,
) -> None:
    client = await make_client(retention_days=1, retention_sweep_seconds=0)
    customer = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await customer.say("how do I check in?")
    await _idle(client, customer.id, 2)
    rasa.broken = True

    first = await sweep(client.app)

    assert (first.redacted.conversations, first.forgotten, rasa.forgotten) == (
        [customer.id], None, [])
    supervisor = await add_agent(client, "Ines", "supervisor")
    policy = await (await client.get("/api/agent/privacy", headers=supervisor)).json()
    assert policy == {"retention_days": 1, "redacted": 1, "pending_assistant": 1}
    rasa.broken = False
    second = await sweep(client.app)
    assert (second.redacted.conversations, second.forgotten, rasa.forgotten) == (
        [], 1, [customer.id])
    policy = await (await client.get("/api/agent/privacy", headers=supervisor)).json()
    assert policy == {"retention_days": 1, "redacted": 1, "pending_assistant": 0}


async def test_a_message_written_after_the_redaction_goes_at_the_next_sweep(
    make_client: MakeClient,
) -> None:
    client = await make_client(retention_days=1, retention_sweep_seconds=0)
    customer = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await customer.say("how do I check in?")
    await _idle(client, customer.id, 2)
    await sweep(client.app)
    async with client.app[keys.DB].write() as db:  # as a message in flight would land
        db.add(Message(conversation_id=customer.id, seq=3, sender="customer", text="late"))

    done = await sweep(client.app)

    assert (done.redacted.conversations, done.late_messages) == ([], 1)


async def test_without_a_period_nothing_is_redacted(make_client: MakeClient) -> None:
    client = await make_client(retention_sweep_seconds=0)
    customer = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await customer.say("how do I check in?")
    await _idle(client, customer.id, 3650)
    done = await sweep(client.app)
    assert done.redacted.conversations == []
    assert len(await customer.messages()) == 2


async def test_the_gateway_sweeps_by_itself(make_client: MakeClient) -> None:
    client = await make_client(retention_days=1, retention_sweep_seconds=0.05)
    customer = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await customer.say("how do I check in?")
    await _idle(client, customer.id, 2)
    for _ in range(100):
        async with client.app[keys.DB].read() as db:
            if await db.scalar(select(Conversation.redacted_at)
                               .where(Conversation.id == customer.id)):
                break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("no sweep redacted the conversation within 5 s")


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"BATON_RETENTION_DAYS": "-1"}, "BATON_RETENTION_DAYS must not be negative, got '-1'"),
        ({"BATON_RETENTION_DAYS": "a year"},
         "BATON_RETENTION_DAYS must be an integer, got 'a year'"),
        ({"BATON_RETENTION_SWEEP_SECONDS": "-5"},
         "BATON_RETENTION_SWEEP_SECONDS must not be negative, got '-5'"),
    ],
)
def test_a_bad_retention_setting_is_refused(env: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError) as refused:
        Settings.from_env(env)
    assert str(refused.value) == error


def test_retention_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"BATON_RETENTION_DAYS": "365",
                                  "BATON_RETENTION_SWEEP_SECONDS": "600"})
    assert (settings.retention_days, settings.retention_sweep_seconds) == (365, 600.0)
    assert (Settings.from_env({}).retention_days, Settings.from_env({}).retention_sweep_seconds) \
        == (0, 3600.0)


async def test_one_sweep_from_the_command_line(
    make_client: MakeClient, rasa: FakeRasa, fake_rasa: tuple[FakeRasa, str], database_url: str,
) -> None:
    client = await make_client(retention_sweep_seconds=0)
    customer = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await customer.say("how do I check in?")
    await _idle(client, customer.id, 8)
    env = {**os.environ, "DATABASE_URL": database_url, "RASA_URL": fake_rasa[1],
           "BATON_INTERNAL_SECRET": "x", "BATON_RETENTION_DAYS": "7", "PYTHONPATH": str(ROOT)}

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handoff", "retention", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, err.decode()
    assert out.decode() == ("Retention (7 days): 1 conversations redacted, 2 messages and 0 "
                            "notes deleted; 1 trackers deleted from Rasa\n")
    assert rasa.forgotten == [customer.id]


def test_the_migration_keeps_every_row(tmp_path: Path) -> None:
    """0009 adds and drops its columns in place: a rebuilt conversations table would
    cascade to its messages and handoffs on SQLite."""
    path = tmp_path / "old.db"
    config = _alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0008")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO conversations (id, token_hash, status, last_seq, created_at, "
                   "updated_at) VALUES ('c1', 'x', 'bot', 1, '2026-11-01 09:00:00', "
                   "'2026-11-01 09:00:00')")
        db.execute("INSERT INTO handoffs (conversation_id, reason, context, requested_at, "
                   "priority) VALUES ('c1', 'requested', '{}', '2026-11-01 09:00:00', 0)")
        db.execute("INSERT INTO messages (conversation_id, seq, sender, text, created_at) "
                   "VALUES ('c1', 1, 'customer', 'hi', '2026-11-01 09:00:00')")
    command.upgrade(config, "0009")
    with sqlite3.connect(path) as db:
        counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("conversations", "handoffs", "messages")]
        added = db.execute("SELECT redacted_at, redaction, assistant_forget_pending "
                           "FROM conversations").fetchall()
    assert (counts, added) == ([1, 1, 1], [(None, None, 0)])
    # And down again, with the rows.
    command.downgrade(config, "0008")
    with sqlite3.connect(path) as db:
        counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("conversations", "handoffs", "messages")]
        columns = [row[1] for row in db.execute("PRAGMA table_info(conversations)")]
    assert counts == [1, 1, 1]
    assert "redacted_at" not in columns


# PostgreSQL's dead rows go at its (auto)vacuum (docs/deployment.md).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_no_deleted_byte_stays_in_the_file(
    make_client: MakeClient, database_url: str,
) -> None:
    client = await make_client(retention_days=1, retention_sweep_seconds=0)
    secret = "zq-" + os.urandom(6).hex()  # in no other byte of the file
    customer = Customer(client, **_ids(await (await client.post("/api/conversations")).json()))
    await customer.say(f"my passport number is {secret}")
    async with client.app[keys.DB].write() as db:
        db.add(Handoff(conversation_id=customer.id, reason="requested",
                       context={"summary": f"passport {secret}"}, contact={"email": secret}))
    await _idle(client, customer.id, 2)
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))

    def in_file() -> bool:
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return secret.encode() in path.read_bytes()

    assert in_file()
    await sweep(client.app)
    assert not in_file()


async def test_rasa_forgets_many_in_calls_of_a_few_hundred(
    make_client: MakeClient, rasa: FakeRasa,
) -> None:
    client = await make_client(retention_days=1, retention_sweep_seconds=0)
    old = utcnow() - dt.timedelta(days=3)
    ids = [f"c{n:031d}" for n in range(450)]
    async with client.app[keys.DB].write() as db:
        db.add_all([Conversation(id=cid, token_hash="x" * 64, created_at=old, updated_at=old)
                    for cid in ids])

    done = await sweep(client.app)

    assert (len(done.redacted.conversations), done.forgotten) == (450, 450)
    assert rasa.forgotten == ids
    assert [len(call) for call in rasa.forget_calls] == [200, 200, 50]
