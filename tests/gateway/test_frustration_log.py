"""Frustrated conversations are marked as their turns are read, for the insights: a bot
turn, a frustration handoff (with the conversation's own signals) and a message read
along while a person has the conversation; and the migration fills it (and each
handoff's first reply) from what is stored."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from pathlib import Path

from aiohttp.test_utils import TestClient
from alembic import command
from sqlalchemy import column, insert, select, table

from handoff import keys
from handoff.assistant.frustration import frustrated_signals
from handoff.storage.db import _alembic_config, make_engine
from handoff.storage.models import FrustrationSignal, Handoff, Message, UTCDateTime

from .conftest import Customer
from .fake_rasa import FakeRasa

ANGRY = {"score": 0.91, "signals": ["angry_wording", "profanity"], "drivers": []}
CALM = {"score": 0.2, "signals": ["sarcasm"], "drivers": []}


async def marks(client: TestClient) -> set[tuple[str, str]]:
    async with client.app[keys.DB].read() as db:
        return {(c, s) for c, s in await db.execute(
            select(FrustrationSignal.conversation_id, FrustrationSignal.signal))}


async def until_marked(client: TestClient, expected: set[tuple[str, str]]) -> None:
    deadline = time.monotonic() + 5
    while (found := await marks(client)) != expected:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.02)


async def new_customer(client: TestClient) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    return Customer(client, body["id"], body["token"])


def test_only_a_score_at_the_threshold_or_a_frustration_handoff_counts() -> None:
    assert frustrated_signals(ANGRY) == ["angry_wording", "profanity"]
    assert frustrated_signals({"score": 0.6, "signals": []}) == []
    assert frustrated_signals(CALM) is None
    assert frustrated_signals(None) is None
    assert frustrated_signals({"score": 0.1, "signals": ["repeated_question"]}, handed_off=True) == [
        "repeated_question"
    ]
    assert frustrated_signals(None, handed_off=True) == []


async def test_bot_turns_handoffs_and_reading_along_mark_their_conversations(
    client: TestClient, rasa: FakeRasa, agent_headers: dict[str, str]
) -> None:
    rasa.frustration = {"this is useless": ANGRY, "hm ok": CALM, "where is my agent": ANGRY}
    angry, calm, furious, waiting = [await new_customer(client) for _ in range(4)]
    await angry.say("this is useless")
    await calm.say("hm ok")
    # FakeRasa hands "furious" off for frustration, with a context score of 0.9, no signals.
    assert (await furious.say("I am furious"))["status"] == "waiting"
    # While a person has it, what the bot reads along counts too.
    assert (await waiting.say("a person please"))["status"] == "waiting"
    await waiting.say("where is my agent")

    await until_marked(client, {
        (angry.id, ""), (angry.id, "angry_wording"), (angry.id, "profanity"),
        (furious.id, ""),
        (waiting.id, ""), (waiting.id, "angry_wording"), (waiting.id, "profanity"),
    })
    # Marked once however often.
    await angry.say("this is useless")
    await asyncio.sleep(0.2)
    assert len([m for m in await marks(client) if m[0] == angry.id]) == 3


async def test_the_migration_marks_what_was_stored_before(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    config = _alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "0007")
    now = dt.datetime(2026, 11, 1, 9, tzinfo=dt.timezone.utc)
    ids = [uuid.uuid4().hex for _ in range(3)]
    engine = make_engine(url)
    async with engine.begin() as db:
        # Revision 0007's conversations: the model has columns added since.
        conversations = table(
            "conversations", column("id"), column("token_hash"), column("status"),
            column("last_seq"), column("created_at", UTCDateTime()),
            column("updated_at", UTCDateTime()),
        )
        await db.execute(insert(conversations), [
            {"id": cid, "token_hash": "x", "status": "bot", "last_seq": 1, "created_at": now,
             "updated_at": now} for cid in ids
        ])
        await db.execute(insert(Message), [
            {"conversation_id": ids[0], "seq": 1, "sender": "customer", "text": "grr",
             "created_at": now, "nlu": {"frustration": ANGRY}},
            {"conversation_id": ids[1], "seq": 1, "sender": "customer", "text": "ok",
             "created_at": now, "nlu": {"frustration": CALM}},
            {"conversation_id": ids[2], "seq": 1, "sender": "customer", "text": "again?",
             "created_at": now, "nlu": None},
            {"conversation_id": ids[2], "seq": 2, "sender": "agent", "text": "I'm here",
             "created_at": now + dt.timedelta(seconds=42), "nlu": None},
            {"conversation_id": ids[2], "seq": 3, "sender": "agent", "text": "Done",
             "created_at": now + dt.timedelta(seconds=99), "nlu": None},
        ])
        await db.execute(insert(Handoff), [
            {"conversation_id": ids[2], "reason": "frustration", "priority": 0, "requested_at": now,
             "trigger_seq": 1,
             "context": {"frustration": {"score": 0.4, "signals": ["repeated_question"]}}},
        ])
    await engine.dispose()

    await asyncio.to_thread(command.upgrade, config, "head")

    engine = make_engine(url)
    async with engine.connect() as db:
        rows = set(await db.execute(select(FrustrationSignal.conversation_id,
                                           FrustrationSignal.signal, FrustrationSignal.at)))
        first_reply = await db.scalar(select(Handoff.first_reply_at))
    await engine.dispose()
    # The first agent message after the trigger: the insights' wait.
    assert first_reply == now + dt.timedelta(seconds=42)
    assert rows == {
        (ids[0], "", now), (ids[0], "angry_wording", now), (ids[0], "profanity", now),
        (ids[2], "", now), (ids[2], "repeated_question", now),
    }
