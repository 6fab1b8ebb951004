"""What the bot understood of messages a human is handling, read along in the background.

While an agent has a conversation, each customer message still goes to Rasa so the agent
sees its intent, entities and scores and the assistant's memory stays whole. That must
never cost the relay: a customer message is handed over here with a dictionary
operation, and one worker reads to Rasa, oldest conversation first, at most `rate` times
a second, and resting at least three times as long as each reading took: Rasa shares
the machine, and when it is busy readings slow down rather than crowd out the relay.
When the relay itself is busy (more than BUSY_RELAY_RATE messages a second), the rests
grow in proportion to its rate. While a conversation's message waits, the ones
after it join it: Rasa reads them as one message, in order, and the annotation goes on
the last one. A burst then costs Rasa one turn instead of many, and nothing the customer
wrote is left out. Past `backlog` waiting conversations (or `max_chars` of waiting text
in one), new text is dropped and counted. A conversation back with the bot is not read
in human mode any more. Annotations are stored by the group-commit writer; one that
finds a booking reference, flight number, date, place or name updates the handoff's
context too (handoff.conversations.customer_side.do_update_context).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from handoff import keys
from handoff.conversations.customer_side import do_update_context
from handoff.conversations.context import finds_context
from handoff.storage.models import STATUS_BOT, utcnow
from handoff.assistant.rasa_client import BotUnavailable
from handoff.assistant.frustration import frustrated_signals, record_frustration
from handoff.live.serializers import nlu_annotation

log = logging.getLogger(__name__)

# After each reading the worker rests at least this many times as long as it took.
REST_PER_READING = 3.0
# Messages a second through the writer above which readings slow down in proportion:
# at twice this rate the worker rests twice as long. A relay that busy wants the CPU
# Rasa's readings would take (bench/README.md, "The numbers behind the gateway's own
# code"); what waits is read when it calms down, in fewer, fuller readings.
BUSY_RELAY_RATE = 1000.0


@dataclass
class Reading:
    conversation_id: str
    # The seq of its last message: the annotation goes there.
    seq: int
    texts: list[str] = field(default_factory=list)
    chars: int = 0
    # When its last message came: the bot counts "tomorrow" from there.
    sent_at: dt.datetime = field(default_factory=utcnow)


class Annotator:
    def __init__(
        self, app: web.Application, rate: float, backlog: int = 1000, max_chars: int = 2000
    ) -> None:
        self._app = app
        self._interval = 1 / rate if rate > 0 else 0.0
        self._backlog = backlog
        self._max_chars = max_chars
        # Waiting readings by conversation, oldest first.
        self._waiting: dict[str, Reading] = {}
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._work()) if rate > 0 else None
        self.dropped = 0
        self.sent = 0
        self._rasa_down = False

    def submit(self, conversation_id: str, seq: int, text: str) -> None:
        if self._task is None:
            return
        reading = self._waiting.get(conversation_id)
        if reading is None:
            if len(self._waiting) >= self._backlog:
                self._drop(conversation_id, seq)
                return
            reading = self._waiting[conversation_id] = Reading(conversation_id, seq)
            self._wake.set()
        elif reading.chars + len(text) > self._max_chars:
            self._drop(conversation_id, seq)
            return
        reading.texts.append(text)
        reading.chars += len(text) + 1
        reading.seq = seq
        reading.sent_at = utcnow()

    def _drop(self, conversation_id: str, seq: int) -> None:
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 1000 == 0:
            log.warning(
                "annotation backlog full: message %s of %s not read by the bot (%d so far)",
                seq, conversation_id, self.dropped,
            )

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        writer = self._app[keys.WRITER]
        while True:
            if not self._waiting:
                self._wake.clear()
                await self._wake.wait()
                continue
            conversation_id = next(iter(self._waiting))
            reading = self._waiting.pop(conversation_id)
            started, stored = loop.time(), writer.messages
            try:
                await self._annotate(reading)
            except Exception:
                log.exception("annotating message %s of %s failed", reading.seq, conversation_id)
            took = loop.time() - started
            rest = max(self._interval - took, REST_PER_READING * took)
            await asyncio.sleep(rest)
            # The relay's rate over this reading and its rest: when busy, rest longer.
            relayed = (writer.messages - stored) / (loop.time() - started)
            if relayed > BUSY_RELAY_RATE:
                await asyncio.sleep(rest * (relayed / BUSY_RELAY_RATE - 1))

    async def _annotate(self, reading: Reading) -> None:
        holder = await self._app[keys.HOLDERS].get(reading.conversation_id)
        if holder is None or holder.status == STATUS_BOT:
            # Resolved meanwhile: reading it as paused would pause the bot again.
            return
        try:
            turn = await self._app[keys.RASA].send(
                reading.conversation_id,
                "\n".join(reading.texts),
                f"{reading.conversation_id}-{reading.seq}",
                "human",
                sent_at=reading.sent_at,
                reading_along=True,
            )
        except BotUnavailable as exc:
            if not self._rasa_down:
                log.info("no annotations while the bot is unavailable: %s", exc)
            self._rasa_down = True
            return
        if self._rasa_down:
            log.info("annotations resumed")
            self._rasa_down = False
        self.sent += 1
        annotation = nlu_annotation(turn.nlu)
        await self._app[keys.WRITER].annotate(reading.conversation_id, reading.seq, annotation)
        signals = frustrated_signals(annotation["frustration"])
        if signals is not None:
            await record_frustration(self._app[keys.DB], reading.conversation_id, signals, utcnow())
        if finds_context(annotation):
            await do_update_context(self._app, reading.conversation_id, annotation)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def setup_annotations(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    annotator = Annotator(app, settings.annotation_rate)
    app[keys.ANNOTATOR] = annotator
    yield
    await annotator.close()
