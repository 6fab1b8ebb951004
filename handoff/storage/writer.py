"""The group-commit writer: messages of many conversations stored in one transaction.

Whoever stores a message waits here until the transaction holding it has committed; only
then is the message acknowledged or pushed. While one transaction is being written, the
messages that arrive queue up and go together in the next one, so under load a commit
carries hundreds of messages, and an idle gateway still writes each one at once (what
the bot understood of a message, which nobody waits for, rides in the next transaction).

A transaction is a handful of statements whatever its size (handoff.storage.write_statements):
it adds n to last_seq of each conversation that adds n messages (the seqs come from the
database, so gateway processes sharing one PostgreSQL never hand out a seq twice),
inserts the messages, and sets what the bot understood of earlier messages. On
PostgreSQL these are SQLAlchemy Core statements, ``UPDATE ... RETURNING`` first; on
SQLite, the rows are made on the loop with seqs counted from 1, and three statements take
all rows as one JSON argument each (on the loop while the gateway is quiet, on the
writer's thread when it is busy). A client_message_id
stored before is caught by handoff.storage.client_ids first and by the unique constraint last: a
transaction that breaks it is written again one job at a time, and the job with the old
id learns the seq it was stored under.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from handoff import keys
from handoff.storage.client_ids import ClientIds
from handoff.storage.db import Database
from handoff.routing.holders import Holders
from handoff.storage.models import Message, utcnow
from handoff.storage.write_connection import WriteConnection
from handoff.storage.write_statements import CoreStatements

log = logging.getLogger(__name__)

# The longest an annotation from annotate_soon waits for a transaction to ride in.
ANNOTATION_DELAY = 0.5
# On SQLite a transaction runs on the loop itself while the gateway is quiet: one of a
# message or two takes about 0.2 ms, and handing it to the writer's thread and back cost
# more than that on a bot turn's path (measured: the turn's overhead went from 3.3-3.9 %
# to 5.4 % of Rasa's own time), as the thread waits for the interpreter's lock after each
# statement. Above BUSY_WRITE_RATE messages a second, or for a transaction of more than
# INLINE_MESSAGES, the thread takes it, and the loop goes on reading the next messages
# while SQLite and the file system work (handoff.storage.write_connection).
INLINE_MESSAGES = 64
BUSY_WRITE_RATE = 2500.0
RATE_WINDOW_SECONDS = 0.5


@dataclass(frozen=True)
class Draft:
    """A message to store."""

    sender: str
    text: str
    client_message_id: str | None = None
    agent_id: int | None = None
    author: str | None = None
    buttons: list[dict[str, str]] | None = None


@dataclass
class Stored:
    """A stored message, as handoff.live.serializers.message_dict reads it."""

    conversation_id: str
    seq: int
    sender: str
    text: str
    created_at: dt.datetime
    buttons: list[dict[str, str]] | None
    author: str | None
    nlu: dict[str, Any] | None = None


def message_row(
    conversation_id: str, seq: int, draft: Draft, now: dt.datetime
) -> dict[str, Any]:
    """The messages table's row for a draft."""
    return {
        "conversation_id": conversation_id,
        "seq": seq,
        "sender": draft.sender,
        "text": draft.text,
        "created_at": now,
        "client_message_id": draft.client_message_id,
        "agent_id": draft.agent_id,
        "buttons": draft.buttons or None,
        "nlu": None,
    }


def stored_message(conversation_id: str, seq: int, draft: Draft, now: dt.datetime) -> Stored:
    return Stored(conversation_id, seq, draft.sender, draft.text, now, draft.buttons or None,
                  draft.author)


class DuplicateMessage(Exception):
    """This client_message_id is stored already, under `seq`."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"stored already as seq {seq}")
        self.seq = seq


class ConversationMissing(Exception):
    pass


@dataclass
class Pending:
    """Drafts handed to the writer, until their transaction commits."""

    conversation_id: str
    drafts: list[Draft]
    # (seq, annotation): what the bot understood of an earlier message of this conversation.
    nlu: tuple[int, dict[str, Any]] | None
    # The stored messages, once committed.
    stored: asyncio.Future[list[Stored]]
    # Set once the database has taken the drafts (see MessageWriter.submit).
    begun: asyncio.Future[None]

    @classmethod
    def new(
        cls,
        conversation_id: str,
        drafts: list[Draft],
        nlu: tuple[int, dict[str, Any]] | None,
        begun: asyncio.Future[None] | None = None,
    ) -> "Pending":
        """`begun`: one that is set already, shared (see MessageWriter.submit)."""
        loop = asyncio.get_running_loop()
        return cls(conversation_id, drafts, nlu, loop.create_future(),
                   begun if begun is not None else loop.create_future())


# A transaction's results (a job's stored messages, or why it has none), or why it failed.
Outcome = list[list[Stored] | Exception] | Exception


class MessageWriter:
    def __init__(self, database: Database, client_ids: ClientIds, max_batch: int = 2000) -> None:
        self._database = database
        self._client_ids = client_ids
        self._max_batch = max_batch
        self._pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())
        self.transactions = 0
        # Messages committed so far: how busy the relay is (handoff.assistant.annotations reads it).
        self.messages = 0
        self._closing = False
        self._connections = WriteConnection(database)
        self._last_committed = True
        self._flush_later: asyncio.TimerHandle | None = None
        # The rate of messages stored over the last window, whether above BUSY_WRITE_RATE.
        self._window = (0.0, 0)
        self._busy = False
        # Whether the last transaction ran on the writer's thread (SQLite, busy).
        self._threaded = False
        # `begun` of every job SQLite takes at once: set already, and one for all of them
        # (a future of its own per message showed in the relay's profile).
        self._begun_now: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._begun_now.set_result(None)

    def submit(
        self,
        conversation_id: str,
        drafts: list[Draft],
        *,
        nlu: tuple[int, dict[str, Any]] | None = None,
    ) -> Pending:
        """Queues drafts (stored in order) and an annotation for one transaction.

        `stored` gives the messages once committed, or raises DuplicateMessage,
        ConversationMissing or the database's error. `begun` is set once the database
        has taken the drafts: on PostgreSQL when their transaction has given them their
        seqs; on SQLite, which this process writes itself, at once, unless its last
        transaction failed (then as on PostgreSQL). It fails as `stored` does.
        """
        taken = self._connections.rows is not None and self._last_committed  # SQLite
        pending = Pending.new(conversation_id, drafts, nlu, self._begun_now if taken else None)
        self._pending.append(pending)
        self._wake.set()
        return pending

    async def store(
        self,
        conversation_id: str,
        drafts: list[Draft],
        *,
        nlu: tuple[int, dict[str, Any]] | None = None,
    ) -> list[Stored]:
        """Stores the drafts in order (and the annotation); returns them once committed."""
        return await self.submit(conversation_id, drafts, nlu=nlu).stored

    async def annotate(self, conversation_id: str, seq: int, nlu: dict[str, Any]) -> None:
        await self.store(conversation_id, [], nlu=(seq, nlu))

    def annotate_soon(self, conversation_id: str, seq: int, nlu: dict[str, Any]) -> None:
        """The same, without waiting for it: it rides in the next transaction written
        anyway (the conversation's next message, at the latest), or in one of its own
        after ANNOTATION_DELAY seconds.

        A bot turn annotates its customer message after storing the replies; a
        transaction of its own then held the loop just as the customer's next message
        arrived (measured: a third SQLite commit per bot turn, 0.6 ms on a busy machine).
        """
        pending = Pending.new(conversation_id, [], (seq, nlu))
        pending.stored.add_done_callback(_log_failure)
        self._pending.append(pending)
        if self._flush_later is None:
            self._flush_later = asyncio.get_running_loop().call_later(
                ANNOTATION_DELAY, self._flush
            )

    def _flush(self) -> None:
        self._flush_later = None
        self._wake.set()

    async def _run(self) -> None:
        # The transaction under way and its jobs; the jobs of the one being answered.
        writing: asyncio.Task[Outcome] | None = None
        jobs: list[Pending] = []
        done: list[Pending] = []
        try:
            while True:
                if writing is None:
                    if not self._pending:
                        if self._closing:
                            return
                        await self._wake.wait()
                        self._wake.clear()
                        continue
                    # One more turn of the loop first: what the callers woken last do
                    # next (answer, send a bot turn to Rasa, queue more) goes before this
                    # transaction, which on SQLite holds the loop (a quiet gateway's) or
                    # the interpreter's lock between its statements (the writer's
                    # thread). One is enough: the bot turn's request to Rasa is still
                    # written first (tests/gateway/test_writer.py checks the order).
                    await asyncio.sleep(0)
                    jobs = self._take()
                    writing = asyncio.create_task(self._commit_outcome(jobs))
                outcome = await writing
                done, jobs, writing = jobs, [], None
                if isinstance(outcome, list) and self._threaded and self._pending:
                    # Busy: the next transaction goes to the writer's thread before this
                    # one's callers are woken (a task's first step runs before them), so
                    # the thread works while they answer and publish.
                    jobs = self._take()
                    writing = asyncio.create_task(self._commit_outcome(jobs))
                try:
                    await self._finish(done, outcome)
                except Exception as exc:  # a bug, not the database: fail these, go on
                    log.exception("the writer failed")
                    for job in done:
                        _settle(job, exc)
        finally:
            # Cancelled (close): so are the jobs not answered yet.
            if writing is not None:
                writing.cancel()
            for job in (*done, *jobs):
                job.stored.cancel()
                job.begun.cancel()

    def _take(self) -> list[Pending]:
        jobs = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        return jobs

    async def _commit_outcome(self, jobs: list[Pending]) -> Outcome:
        """The transaction's results, or why it failed; its callers are not told yet."""
        try:
            results = await self._commit(jobs)
        except Exception as exc:
            if not isinstance(exc, IntegrityError):
                self._last_committed = False
            return exc
        self._last_committed = True
        return results

    async def _finish(self, jobs: list[Pending], outcome: Outcome) -> None:
        """Tells the transaction's callers how it went."""
        if isinstance(outcome, IntegrityError):
            # Rare (a retry from before a restart, another process): find the culprit.
            for job in jobs:
                await self._write_alone(job)
        elif isinstance(outcome, Exception):
            log.warning("storing %d jobs failed: %s", len(jobs), outcome)
            for job in jobs:
                _settle(job, outcome)
        else:
            for job, result in zip(jobs, outcome):
                _settle(job, result)

    async def _write_alone(self, job: Pending) -> None:
        try:
            result: list[Stored] | Exception = (await self._commit([job]))[0]
        except IntegrityError as exc:
            try:
                result = await self._explain(job, exc)
            except Exception as failed:
                result = failed
        except Exception as exc:
            result = exc
        _settle(job, result)

    async def _explain(self, job: Pending, exc: IntegrityError) -> Exception:
        client_ids = [d.client_message_id for d in job.drafts if d.client_message_id]
        if client_ids:
            async with self._database.engine.connect() as connection:
                seq = await connection.scalar(
                    select(Message.seq).where(
                        Message.conversation_id == job.conversation_id,
                        Message.client_message_id.in_(client_ids),
                    )
                )
            if seq is not None:
                self._client_ids.record(job.conversation_id, client_ids[0], seq)
                return DuplicateMessage(seq)
        return exc

    async def _commit(self, jobs: list[Pending]) -> list[list[Stored] | Exception]:
        now = utcnow()
        if self._connections.rows is not None:
            results = await self._commit_sqlite(jobs, now)
        else:
            results = await self._connections.run_core(
                lambda statements: _statements(statements, jobs, now, lambda: _begun(jobs))
            )
        self.transactions += 1
        for job, result in zip(jobs, results):
            if isinstance(result, list):
                self.messages += len(result)
                for draft, message in zip(job.drafts, result):
                    if draft.client_message_id is not None:
                        self._client_ids.record(
                            job.conversation_id, draft.client_message_id, message.seq
                        )
        return results

    async def _commit_sqlite(
        self, jobs: list[Pending], now: dt.datetime
    ) -> list[list[Stored] | Exception]:
        """Everything but the SQL on the loop: the rows are made with seqs counted from 1
        in each conversation, SQLite adds the conversation's last_seq (handoff.
        write_statements.SqliteStatements), and the stored messages learn theirs after."""
        assert self._connections.rows is not None
        adding = _adding(jobs)
        results, rows = _outcomes(jobs, dict.fromkeys(adding, 1), now)
        batch = self._connections.rows.batch(rows, adding, _annotations(jobs), now)
        inline = not self._busy_now() and len(rows) <= INLINE_MESSAGES
        self._threaded = not inline
        last_seqs = await self._connections.write_sqlite(batch, inline)
        for i, (job, result) in enumerate(zip(jobs, results)):
            if not isinstance(result, list) or not result:
                continue
            last = last_seqs.get(job.conversation_id)
            if last is None:
                results[i] = ConversationMissing(job.conversation_id)
                continue
            before = last - adding[job.conversation_id]
            for message in result:
                message.seq += before
        return results

    def _busy_now(self) -> bool:
        now = asyncio.get_running_loop().time()
        started, stored = self._window
        if now - started >= RATE_WINDOW_SECONDS:
            self._busy = (self.messages - stored) / (now - started) > BUSY_WRITE_RATE
            self._window = (now, self.messages)
        return self._busy

    async def close(self) -> None:
        """Writes what is queued, then stops."""
        self._closing = True
        if self._flush_later is not None:
            self._flush_later.cancel()
            self._flush_later = None
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
        except asyncio.TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for job in self._pending:
            job.stored.cancel()
            job.begun.cancel()
        await self._connections.close()


def _statements(
    statements: CoreStatements, jobs: list[Pending], now: dt.datetime, begun: Callable[[], None]
) -> list[list[Stored] | Exception]:
    """One transaction's statements on PostgreSQL, seqs first (in a worker of the driver)."""
    by_count: dict[int, list[str]] = defaultdict(list)
    for conversation_id, count in _adding(jobs).items():
        by_count[count].append(conversation_id)
    first_seqs: dict[str, int] = {}
    for count, ids in by_count.items():
        # In order of id, so that two gateways' transactions never wait for each other.
        for conversation_id, last in statements.take_seqs(sorted(ids), count, now):
            first_seqs[conversation_id] = last - count + 1
    begun()
    results, rows = _outcomes(jobs, first_seqs, now)
    if rows:
        statements.insert_messages(rows)
    annotations = _annotations(jobs)
    if annotations:
        statements.set_nlu(annotations)
    return results


def _adding(jobs: list[Pending]) -> dict[str, int]:
    """How many messages each conversation adds."""
    adding: dict[str, int] = defaultdict(int)
    for job in jobs:
        if job.drafts:
            adding[job.conversation_id] += len(job.drafts)
    return adding


def _annotations(jobs: list[Pending]) -> list[tuple[str, int, dict[str, Any]]]:
    return [(job.conversation_id, *job.nlu) for job in jobs if job.nlu is not None]


def _outcomes(
    jobs: list[Pending], first_seqs: dict[str, int], now: dt.datetime
) -> tuple[list[list[Stored] | Exception], list[dict[str, Any]]]:
    """Each job's stored messages (ConversationMissing without a first seq), and the
    messages table's rows that store them."""
    next_seq = dict(first_seqs)
    results: list[list[Stored] | Exception] = []
    rows: list[dict[str, Any]] = []
    for job in jobs:
        if not job.drafts:
            results.append([])
            continue
        first = next_seq.get(job.conversation_id)
        if first is None:
            results.append(ConversationMissing(job.conversation_id))
            continue
        stored = []
        for seq, draft in enumerate(job.drafts, start=first):
            rows.append(message_row(job.conversation_id, seq, draft, now))
            stored.append(stored_message(job.conversation_id, seq, draft, now))
        next_seq[job.conversation_id] = first + len(job.drafts)
        results.append(stored)
    return results, rows


def _log_failure(stored: asyncio.Future[list[Stored]]) -> None:
    if not stored.cancelled() and stored.exception() is not None:
        log.warning("storing an annotation failed: %s", stored.exception())


def _begun(jobs: list[Pending]) -> None:
    for job in jobs:
        if not job.begun.done():
            job.begun.set_result(None)


def _settle(job: Pending, result: list[Stored] | BaseException) -> None:
    if not job.begun.done():
        if isinstance(result, BaseException):
            job.begun.set_exception(result)
            job.begun.exception()  # read: whoever waits on it reads `stored` next
        else:
            job.begun.set_result(None)
    if job.stored.done():  # its caller went away; the message is stored all the same
        return
    if isinstance(result, BaseException):
        job.stored.set_exception(result)
    else:
        job.stored.set_result(result)


async def setup_writer(app: web.Application) -> AsyncIterator[None]:
    """The writer, and the caches that spare each message a read (after the database)."""
    database = app[keys.DB]
    app[keys.HOLDERS] = Holders(database)
    app[keys.CLIENT_IDS] = ClientIds(database)
    writer = MessageWriter(database, app[keys.CLIENT_IDS])
    app[keys.WRITER] = writer
    yield
    await writer.close()
