"""Several Rasa processes: each conversation on one of them, another when it is down.

Every process has its own client and Admission (a few turns in flight, the rest waiting).
A conversation's process is chosen by rendezvous hashing: of the processes not taken for
down, the one whose hash with the conversation's id is highest. So a conversation stays
on one process while it is healthy, only the conversations of a process that dies move,
and they come back when it does; every gateway computes the same choice with no shared
state. The processes share their trackers (Redis, endpoints.yml), so a conversation
keeps its state on whichever process answers.

A turn goes to the next process at once when its own is down or it never reached it
(refused, or failed while waiting for its place: TurnNotSent). A turn that may have been
answered (written, then a timeout or a reset) is never sent again: BotUnavailable, as
is a turn that waited past its bound, and one no process could take.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlsplit

from aiohttp import web

from handoff import keys
from handoff.assistant.admission import Admission
from handoff.assistant.rasa_client import (
    BotTurn, BotUnavailable, RasaClient, TurnNotSent, rasa_session,
)

log = logging.getLogger(__name__)


def _weight(process: str, conversation_id: str) -> int:
    # Not hash(): it differs between processes, and every gateway must choose alike.
    digest = hashlib.blake2b(f"{process}\0{conversation_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def rendezvous(processes: Sequence[str], conversation_id: str) -> list[str]:
    """The processes in the order a conversation tries them, its own first."""
    return sorted(processes, key=lambda process: _weight(process, conversation_id),
                  reverse=True)


def process_name(url: str) -> str:
    return urlsplit(url).netloc


class RasaPool:
    def __init__(self, processes: dict[str, Admission]) -> None:
        """`processes`: each process's admission by the process's name (host:port)."""
        if not processes:
            raise ValueError("at least one Rasa process")
        self.processes = processes

    def ranked(self, conversation_id: str) -> list[Admission]:
        return [self.processes[name] for name in rendezvous(list(self.processes), conversation_id)]

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
        """Admission.send on the conversation's process, or the next that can take it."""
        why = ""
        for process in self.ranked(conversation_id):
            if process.down is not None:
                why = f"{process.name} is down: {process.down}"
                continue
            try:
                return await process.send(conversation_id, text, message_id, mode, sent_at,
                                          reading_along=reading_along)
            except TurnNotSent as exc:
                why = str(exc)
                log.info("turn of %s goes past %s: %s", conversation_id, process.name, exc)
        raise BotUnavailable(why if len(self.processes) == 1
                             else f"no Rasa process can take the turn: {why}")

    async def set_mode(self, conversation_id: str, mode: str) -> None:
        """Tells the conversation's process; setting a mode twice is harmless, so any
        failure tries the next."""
        failure = BotUnavailable("every Rasa process is down")
        for process in self.ranked(conversation_id):
            if process.down is not None:
                continue
            try:
                return await process.rasa.set_mode(conversation_id, mode)
            except BotUnavailable as exc:
                failure = exc
        raise failure

    async def forget(self, conversation_ids: list[str]) -> None:
        """Every process deletes its trackers of these conversations: processes that share
        a tracker store find nothing left after the first, but one with a store of its own
        (in memory) holds its own copy. BotUnavailable unless every process did."""
        results = await asyncio.gather(
            *(process.rasa.forget(conversation_ids) for process in self.processes.values()),
            return_exceptions=True,
        )
        failures = [f"{name}: {result}" for name, result in zip(self.processes, results)
                    if isinstance(result, BaseException)]
        if failures:
            raise BotUnavailable("; ".join(failures))

    async def ready(self) -> dict[str, bool]:
        """Rasa is ready while any process is; with several, each says if it is."""
        first = next(iter(self.processes.values()))
        *up, actions = await asyncio.gather(
            *(process.rasa_ready() for process in self.processes.values()),
            first.rasa.actions_ready(),
        )
        checks = {"rasa": any(up), "actions": actions}
        if len(self.processes) > 1:
            checks |= {f"rasa {name}": ok for name, ok in zip(self.processes, up)}
        return checks

    # Over all processes, for /metrics and the tests.
    @property
    def in_flight(self) -> int:
        return sum(process.in_flight for process in self.processes.values())

    @property
    def waiting(self) -> int:
        return sum(process.waiting for process in self.processes.values())

    @property
    def down(self) -> str | None:
        """Why no process can take a turn; None while one can."""
        reasons = [process.down for process in self.processes.values()]
        if any(reason is None for reason in reasons):
            return None
        return "; ".join(f"{name}: {reason}" for name, reason in zip(self.processes, reasons))

    async def close(self) -> None:
        for process in self.processes.values():
            await process.close()
            process.rasa.close()


async def setup_rasa(app: web.Application) -> AsyncIterator[None]:
    """One kept-alive session for every process's state and health calls; each process's
    bot turns have their own connections (RasaClient)."""
    settings = app[keys.SETTINGS]
    metrics = app[keys.METRICS]
    async with rasa_session(settings.rasa_timeout) as session:
        processes = {}
        for url in settings.rasa_processes:
            client = RasaClient(session, url, settings.actions_url, settings.internal_secret,
                                settings.rasa_timeout, settings.tzinfo)
            name = process_name(url)
            processes[name] = Admission(
                client, settings.rasa_concurrency, settings.rasa_wait,
                on_admitted=metrics.rasa_wait_seconds.observe, name=f"Rasa at {name}",
            )
        pool = RasaPool(processes)
        metrics.watch_rasa(pool)
        app[keys.RASA] = pool
        try:
            yield
        finally:
            await pool.close()
