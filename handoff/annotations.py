"""What the bot understood of messages a human is handling, read along in the background.

While an agent has a conversation, each customer message still goes to Rasa so the agent
sees its intent, entities and scores and the assistant's memory stays whole. That is
never worth delaying the relay: a few workers do it, each conversation always on the same
worker (so Rasa reads its messages in order), and under overload new work is dropped and
counted rather than queued without bound.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import update

from . import keys
from .models import Message
from .rasa_client import BotUnavailable
from .serializers import nlu_annotation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    message_id: int
    conversation_id: str
    text: str


class Annotator:
    def __init__(self, app: web.Application, workers: int = 2, backlog: int = 500) -> None:
        self._app = app
        self._queues: list[asyncio.Queue[Reading]] = [
            asyncio.Queue(maxsize=backlog) for _ in range(workers)
        ]
        self._tasks = [asyncio.create_task(self._work(q)) for q in self._queues]
        self.dropped = 0

    def submit(self, reading: Reading) -> None:
        queue = self._queues[zlib.crc32(reading.conversation_id.encode()) % len(self._queues)]
        try:
            queue.put_nowait(reading)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("annotation backlog full: message %s not read by the bot", reading.message_id)

    async def _work(self, queue: asyncio.Queue[Reading]) -> None:
        while True:
            reading = await queue.get()
            try:
                await self._annotate(reading)
            except Exception:
                log.exception("annotating message %s failed", reading.message_id)

    async def _annotate(self, reading: Reading) -> None:
        try:
            turn = await self._app[keys.RASA].send(
                reading.conversation_id, reading.text, str(reading.message_id), "human"
            )
        except BotUnavailable as exc:
            log.info("no annotation for message %s: %s", reading.message_id, exc)
            return
        async with self._app[keys.DB].write() as db:
            await db.execute(
                update(Message)
                .where(Message.id == reading.message_id)
                .values(nlu=nlu_annotation(turn.nlu))
            )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def setup_annotations(app: web.Application) -> AsyncIterator[None]:
    annotator = Annotator(app)
    app[keys.ANNOTATOR] = annotator
    yield
    await annotator.close()
