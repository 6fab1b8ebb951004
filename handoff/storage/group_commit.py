"""The job queue: messages of many conversations stored in one transaction.

Whoever stores a message waits until the transaction holding it has committed. While one
transaction is being written, the jobs that arrive queue up and go together in the next
one, so under load a commit carries hundreds of messages, and an idle gateway still
writes each one at once. What the bot understood of a message, which nobody waits for,
rides in the next transaction (annotate_soon). How a transaction is written is the
committer's (handoff.storage.dialects); a transaction that breaks the unique constraint
is written again one job at a time (handoff.storage.duplicates).

Only handoff.storage.writer uses this: callers outside storage never see jobs or `begun`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from handoff.storage.batch import Pending, Result
from handoff.storage.busy import BusyMeter
from handoff.storage.client_ids import ClientIds
from handoff.storage.db import Database
from handoff.storage.dialects import Committer, committer_for
from handoff.storage.drafts import Draft, Stored
from handoff.storage.duplicates import explain
from handoff.storage.models import utcnow
from handoff.storage.write_connection import WriteConnection

log = logging.getLogger(__name__)

# The longest an annotation from annotate_soon waits for a transaction to ride in.
ANNOTATION_DELAY = 0.5

# A transaction's results (a job's stored messages, or why it has none), or why it failed.
Outcome = list[Result] | Exception


class GroupCommit:
    def __init__(
        self,
        database: Database,
        client_ids: ClientIds,
        max_batch: int = 2000,
        committer: Callable[[WriteConnection, BusyMeter], Committer] = committer_for,
    ) -> None:
        """`committer`: how a transaction is written (tests choose one for parity)."""
        self._database = database
        self._client_ids = client_ids
        self._max_batch = max_batch
        self._pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())
        self.transactions = 0
        self.busy = BusyMeter()
        self._closing = False
        self._connections = WriteConnection(database)
        self._committer = committer(self._connections, self.busy)
        self._flush_later: asyncio.TimerHandle | None = None
        # `begun` of every job SQLite takes at once: set already, and one for all of them
        # (a future of its own per message showed in the relay's profile).
        self._begun_now: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._begun_now.set_result(None)

    def submit(
        self,
        conversation_id: str,
        drafts: list[Draft],
        *,
        nlu: tuple[int, dict[str, object]] | None = None,
    ) -> Pending:
        """Queues drafts (stored in order) and an annotation for one transaction.

        `stored` gives the messages once committed, or raises DuplicateMessage,
        ConversationMissing or the database's error. `begun` is set once the database
        has taken the drafts: on PostgreSQL when their transaction has given them their
        seqs (it fails as `stored` does); on SQLite, which this process writes itself, it
        is set already and means nothing (see `takes_at_once`).
        """
        taken = self._committer.takes_at_once
        pending = Pending.new(conversation_id, drafts, nlu, self._begun_now if taken else None)
        self._pending.append(pending)
        self._wake.set()
        return pending

    @property
    def takes_at_once(self) -> bool:
        """Whether the database takes drafts as they are queued, so that `begun` tells
        nothing (a SQLite file written by this process alone)."""
        return self._committer.takes_at_once

    def annotate_soon(self, conversation_id: str, seq: int, nlu: dict[str, object]) -> None:
        """An annotation that rides in the next transaction written anyway (the
        conversation's next message, at the latest), or in one of its own after
        ANNOTATION_DELAY seconds.

        A bot turn annotates its customer message after storing the replies; a
        transaction of its own then held the loop just as the customer's next message
        arrived: a third commit per bot turn.
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
                    # thread), and what they queue rides in it.
                    await asyncio.sleep(0)
                    jobs = self._take()
                    writing = asyncio.create_task(self._commit_outcome(jobs))
                outcome = await writing
                done, jobs, writing = jobs, [], None
                if isinstance(outcome, list) and self._committer.threaded and self._pending:
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
            return await self._commit(jobs)
        except Exception as exc:
            return exc

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
            result: Result = (await self._commit([job]))[0]
        except IntegrityError as exc:
            try:
                result = await explain(self._database, self._client_ids, job, exc)
            except Exception as failed:
                result = failed
        except Exception as exc:
            result = exc
        _settle(job, result)

    async def _commit(self, jobs: list[Pending]) -> list[Result]:
        results = await self._committer.commit(jobs, utcnow(), lambda: _begun(jobs))
        self.transactions += 1
        for job, result in zip(jobs, results):
            if isinstance(result, list):
                self.busy.messages += len(result)
                for draft, message in zip(job.drafts, result):
                    if draft.client_message_id is not None:
                        self._client_ids.record(
                            job.conversation_id, draft.client_message_id, message.seq
                        )
        return results

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
