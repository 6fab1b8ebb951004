"""What the bot could not answer: recorded once, grouped by meaning, on both databases."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt

import numpy as np
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from handoff import keys
from handoff.assistant.misses import SAME_TOPIC, Misses, unpack
from handoff.storage.models import UnansweredMessage, UnansweredTopic

from .conftest import Customer
from .fake_rasa import FakeRasa
from .test_resolutions import add_agent

NOW = dt.datetime(2026, 12, 7, 10, tzinfo=dt.timezone.utc)


def pack(vector: np.ndarray) -> str:
    """As bot/nlu/misses.py packs a vector."""
    scaled = vector / np.abs(vector).max() * 127
    return base64.b64encode(np.round(scaled).astype(np.int8).tobytes()).decode()


def direction(*weights: tuple[int, float]) -> np.ndarray:
    """A 384-d vector with the given (axis, weight) components, plus a little of every axis."""
    vector = np.full(384, 0.001, dtype=np.float32)
    for axis, weight in weights:
        vector[axis] = weight
    return vector / np.linalg.norm(vector)


async def new_customer(client: TestClient) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    return Customer(client, body["id"], body["token"])


async def topics(client: TestClient) -> list[tuple[int, int]]:
    async with client.app[keys.DB].read() as db:
        rows = await db.execute(select(UnansweredTopic.id, UnansweredTopic.size).order_by(UnansweredTopic.id))
        return [(topic, size) for topic, size in rows]


def test_a_packed_vector_comes_back_as_its_unit_direction_and_junk_as_none() -> None:
    vector = np.random.default_rng(1).normal(size=384).astype(np.float32)  # as dense as MiniLM's
    vector /= np.linalg.norm(vector)
    back = unpack(pack(vector))
    assert back is not None and abs(float(np.linalg.norm(back)) - 1) < 1e-6
    assert float(back @ vector) >= 0.9999
    assert unpack("not base64!") is None
    assert unpack(base64.b64encode(b"\x01" * 10).decode()) is None
    assert unpack(base64.b64encode(b"\x00" * 384).decode()) is None
    assert unpack(None) is None


async def test_near_messages_join_one_topic_and_a_far_one_starts_another(client: TestClient) -> None:
    misses: Misses = client.app[keys.MISSES]
    ids = [(await new_customer(client)).id for _ in range(4)]
    spa = direction((0, 0.9), (1, 0.3))
    spa_again = direction((0, 0.8), (1, 0.5))
    weather = direction((5, 0.9), (6, 0.3))
    assert float(spa @ spa_again) >= SAME_TOPIC > float(spa @ weather)

    first = await misses.record(ids[0], 1, "out_of_scope", pack(spa), NOW)
    second = await misses.record(ids[1], 1, "nlu_fallback", pack(spa_again), NOW)
    third = await misses.record(ids[2], 1, "out_of_scope", pack(weather), NOW)
    again = await misses.record(ids[0], 1, "out_of_scope", pack(spa), NOW)
    broken = await misses.record(ids[3], 1, "out_of_scope", "junk", NOW)

    assert (first, second, third, again, broken) == (first, first, third, None, None)
    assert third != first
    assert await topics(client) == [(first, 2), (third, 1)]


async def test_a_second_gateway_joins_the_topics_the_first_made(client: TestClient) -> None:
    """Two Misses on one database, as two gateways are: the second reads the first's topic
    (and its sum with both messages) before it chooses."""
    ids = [(await new_customer(client)).id for _ in range(3)]
    one, two = client.app[keys.MISSES], Misses(client.app[keys.DB])
    spa = direction((0, 0.9), (1, 0.3))

    made = await one.record(ids[0], 1, "out_of_scope", pack(spa), NOW)
    assert await two.record(ids[1], 1, "out_of_scope", pack(direction((0, 0.8), (1, 0.5))), NOW) == made
    assert await one.record(ids[2], 1, "out_of_scope", pack(direction((0, 0.85), (1, 0.4))), NOW) == made
    assert await topics(client) == [(made, 3)]
    async with client.app[keys.DB].read() as db:
        stored = await db.scalar(select(UnansweredTopic.vector_sum))
    expected = sum(unpack(pack(v)) for v in (spa, direction((0, 0.8), (1, 0.5)),
                                              direction((0, 0.85), (1, 0.4))))
    assert np.allclose(np.frombuffer(stored, dtype=np.float32), expected, atol=1e-5)


async def test_what_the_bot_could_not_answer_shows_in_insights_by_topic(
    client: TestClient, rasa: FakeRasa
) -> None:
    spa, weather = direction((0, 0.9), (1, 0.3)), direction((5, 0.9), (6, 0.3))
    rasa.misses = {
        "can I bring my surfboard to the spa": pack(spa),
        "is there a spa for surfers": pack(direction((0, 0.8), (1, 0.5))),
        "will it rain in Lisbon": pack(weather),
    }
    for text in [*rasa.misses, "how do I check in"]:
        await (await new_customer(client)).say(text)
    # Recorded off the answer's path: wait until all three are.
    for _ in range(100):
        async with client.app[keys.DB].read() as db:
            if len((await db.scalars(select(UnansweredMessage.id))).all()) == 3:
                break
        await asyncio.sleep(0.05)
    supervisor = await add_agent(client, "Ines", "supervisor")

    report = await (await client.get("/api/agent/insights?days=1", headers=supervisor)).json()

    unanswered = report["unanswered"]
    assert unanswered["messages"] == 3
    assert [(t["count"], t["examples"], t["total"]) for t in unanswered["topics"]] == [
        (2, ["is there a spa for surfers", "can I bring my surfboard to the spa"], 2),
        (1, ["will it rain in Lisbon"], 1),
    ]
