"""How one transaction of jobs is written, on each database (the dialect dispatch).

- CoreCommit: SQLAlchemy Core statements (handoff.storage.write_statements.CoreStatements),
  ``UPDATE ... RETURNING`` of the seqs first, then the rows with them. The writer's way on
  PostgreSQL, and the only way a state change's messages are stored (in its own
  transaction, store_in_transaction), on either database.
- SqliteCommit: the writer's way on a SQLite file, which this process alone writes. The
  rows are made on the loop with seqs counted from 1 in each conversation, and three
  statements through the standard library's driver take all rows as one JSON argument
  each and add the conversation's last_seq in SQL (SqliteStatements): on the loop while
  the gateway is quiet, on the writer's thread when it is busy (handoff.storage.busy).
  It exists for the relay's guard (bench/README.md, sessions 4-7);
  tests/gateway/test_write_parity.py checks that both ways store the same rows and fail
  alike.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Connection

from handoff.storage.batch import Job, Result, adding, annotations, outcomes
from handoff.storage.busy import BusyMeter
from handoff.storage.drafts import ConversationMissing, Draft, Stored
from handoff.storage.write_connection import WriteConnection
from handoff.storage.write_statements import CoreStatements, SqliteRows


class Committer(Protocol):
    # Whether the database has taken the drafts as soon as they are queued (see
    # GroupCommit.submit): true of a SQLite file written by this process alone.
    takes_at_once: bool
    # Whether the last transaction ran on the writer's thread (then the next one goes
    # there before this one's callers are woken, handoff.storage.group_commit).
    threaded: bool

    async def commit(
        self, jobs: Sequence[Job], now: dt.datetime, begun: Callable[[], None]
    ) -> list[Result]:
        """One transaction; calls `begun` once the database has given the seqs."""
        ...


class CoreCommit:
    takes_at_once = False
    threaded = False

    def __init__(self, connections: WriteConnection) -> None:
        self._connections = connections

    async def commit(
        self, jobs: Sequence[Job], now: dt.datetime, begun: Callable[[], None]
    ) -> list[Result]:
        return await self._connections.run_core(
            lambda statements: write_core(statements, jobs, now, begun)
        )


def write_core(
    statements: CoreStatements, jobs: Sequence[Job], now: dt.datetime, begun: Callable[[], None]
) -> list[Result]:
    """One transaction's statements, seqs first (in a worker of the driver)."""
    by_count: dict[int, list[str]] = defaultdict(list)
    for conversation_id, count in adding(jobs).items():
        by_count[count].append(conversation_id)
    first_seqs: dict[str, int] = {}
    for count, ids in by_count.items():
        # In order of id, so that two gateways' transactions never wait for each other.
        for conversation_id, last in statements.take_seqs(sorted(ids), count, now):
            first_seqs[conversation_id] = last - count + 1
    begun()
    results, rows = outcomes(jobs, first_seqs, now)
    if rows:
        statements.insert_messages(rows)
    annotated = annotations(jobs)
    if annotated:
        statements.set_nlu(annotated)
    return results


def write_in_transaction(
    connection: Connection, conversation_id: str, drafts: list[Draft], now: dt.datetime
) -> list[Stored]:
    """Drafts stored on a connection whose transaction another caller commits: the same
    statements as the writer's on PostgreSQL, one job's worth."""
    job = Job(conversation_id, drafts, None)
    (result,) = write_core(CoreStatements(connection), [job], now, lambda: None)
    if isinstance(result, Exception):
        raise result
    return result


class SqliteCommit:
    takes_at_once = True

    def __init__(self, connections: WriteConnection, rows: SqliteRows, busy: BusyMeter) -> None:
        self._connections = connections
        self._rows = rows
        self._busy = busy
        self.threaded = False

    async def commit(
        self, jobs: Sequence[Job], now: dt.datetime, begun: Callable[[], None]
    ) -> list[Result]:
        """Everything but the SQL on the loop: the rows are made with seqs counted from 1
        in each conversation, SQLite adds the conversation's last_seq, and the stored
        messages learn theirs after. (`begun` was set when the jobs were queued.)"""
        counts = adding(jobs)
        results, rows = outcomes(jobs, dict.fromkeys(counts, 1), now)
        batch = self._rows.batch(rows, counts, annotations(jobs), now)
        inline = self._busy.inline(len(rows))
        self.threaded = not inline
        last_seqs = await self._connections.write_sqlite(batch, inline)
        for i, (job, result) in enumerate(zip(jobs, results)):
            if not isinstance(result, list) or not result:
                continue
            last = last_seqs.get(job.conversation_id)
            if last is None:
                results[i] = ConversationMissing(job.conversation_id)
                continue
            before = last - counts[job.conversation_id]
            for message in result:
                message.seq += before
        return results


def committer_for(connections: WriteConnection, busy: BusyMeter) -> Committer:
    """The writer's way for the database it writes to."""
    if connections.rows is not None:
        return SqliteCommit(connections, connections.rows, busy)
    return CoreCommit(connections)
