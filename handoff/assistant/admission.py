"""Admission of turns to one Rasa process: a few at a time, the rest in order. Busy is
not down. handoff.assistant.pool holds one per process.

Rasa is one CPU-bound process: a hundred turns sent at once are all answered slowly, and
each one's timeout then counts its wait behind the others. Here at most `concurrency`
turns are in flight and the rest wait, customers first come first served, each for at
most `wait` seconds from when it was asked; once admitted, a turn has the client's own
timeout (BATON_RASA_TIMEOUT). Rasa is down when it refuses, resets, answers a non-200,
leaves an admitted turn unanswered, or a customer turn waits past its bound: then every
waiting turn fails at once, and new ones fail without being sent (TurnNotSent: another
process may take them), until the next answer or a health probe (once a second, or
/readyz) says Rasa is back.

Readings along (handoff.conversations.annotations) share the admission but are admitted
only when no customer turn waits: a reading is an extra for the agent, and the Annotator
merges what waits, so a surge only makes its readings fewer and fuller. A reading that
waits past its bound fails alone: being starved by customers is not Rasa being down.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Callable
from contextlib import suppress

from handoff.assistant.rasa_client import (
    BotTurn, BotUnavailable, RasaClient, RasaDown, TurnNotSent,
)

log = logging.getLogger(__name__)

# While Rasa is down, its health is asked at most this often.
PROBE_SECONDS = 1.0


class Admission:
    def __init__(
        self,
        rasa: RasaClient,
        concurrency: int,
        wait: float,
        on_admitted: Callable[[float], None] = lambda seconds: None,
        name: str = "Rasa",
    ) -> None:
        self.rasa = rasa
        self.name = name
        self._concurrency = max(1, concurrency)
        self._wait = wait
        self._on_admitted = on_admitted
        self._customers: deque[asyncio.Future[None]] = deque()
        self._readings: deque[asyncio.Future[None]] = deque()
        self.in_flight = 0
        # Why Rasa is down; None while it answers.
        self.down: str | None = None
        self._probe: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return len(self._customers) + len(self._readings)

    async def send(
        self,
        conversation_id: str,
        text: str,
        message_id: str,
        mode: str,
        sent_at: dt.datetime | None = None,
        *,
        reading_along: bool = False,
    ) -> BotTurn:
        """RasaClient.send, once admitted; TurnNotSent at once while Rasa is down.

        A turn that queued tells Rasa when it was sent: its day may have changed."""
        queued_at = await self._admit(reading_along)
        if sent_at is None:
            sent_at = queued_at
        try:
            turn = await self.rasa.send(conversation_id, text, message_id, mode, sent_at)
        except RasaDown as exc:
            self._seen_down(str(exc))
            raise
        finally:
            self._release()
        self._seen_up()
        return turn

    async def _admit(self, reading_along: bool) -> dt.datetime | None:
        """None when admitted at once; else when the turn began to wait."""
        if self.down is not None:
            raise TurnNotSent(f"{self.name} is down: {self.down}")
        if self.in_flight < self._concurrency and not self.waiting:
            self.in_flight += 1
            self._on_admitted(0.0)
            return None
        loop = asyncio.get_running_loop()
        asked = loop.time()
        queued_at = dt.datetime.now(dt.timezone.utc)
        admitted: asyncio.Future[None] = loop.create_future()
        queue = self._readings if reading_along else self._customers
        queue.append(admitted)
        try:
            async with asyncio.timeout(self._wait):
                await admitted
        except BaseException as exc:
            if admitted.done() and not admitted.cancelled() and admitted.exception() is None:
                # Admitted just as the bound passed or the turn was cancelled: give it back.
                self._release()
            else:
                admitted.cancel()
                with suppress(ValueError):
                    queue.remove(admitted)
            if isinstance(exc, TimeoutError):
                why = f"no answer within {self._wait:g} s of waiting"
                if not reading_along:
                    self._seen_down(why)
                raise BotUnavailable(why) from None
            raise
        self._on_admitted(loop.time() - asked)
        return queued_at

    def _release(self) -> None:
        self.in_flight -= 1
        while self.in_flight < self._concurrency and (self._customers or self._readings):
            admitted = (self._customers or self._readings).popleft()
            if not admitted.done():
                admitted.set_result(None)
                self.in_flight += 1

    def _seen_down(self, why: str) -> None:
        if self.down is None:
            log.warning("%s is down (%s): %d waiting turns fail", self.name, why, self.waiting)
        self.down = why
        for queue in (self._customers, self._readings):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_exception(TurnNotSent(f"{self.name} is down: {why}"))
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_until_up())

    def _seen_up(self) -> None:
        if self.down is not None:
            log.info("%s answers again", self.name)
            self.down = None

    async def rasa_ready(self) -> bool:
        """RasaClient.rasa_ready; Rasa's health answering also ends its being taken for
        down, so a restart is seen as soon as anyone (the supervisor, /readyz) asks."""
        ready = await self.rasa.rasa_ready()
        if ready:
            self._seen_up()
        return ready

    async def _probe_until_up(self) -> None:
        while self.down is not None:
            await asyncio.sleep(PROBE_SECONDS)
            if self.down is not None and await self.rasa.rasa_ready():
                self._seen_up()

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)

