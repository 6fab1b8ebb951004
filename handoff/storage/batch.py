"""One transaction's jobs, and the seqs and rows their drafts get.

Seqs come from the conversation's last_seq in the database, added to in the same
transaction (handoff.storage.write_statements), so gateway processes sharing one
PostgreSQL never hand out a seq twice. Here they are only counted on: given each
conversation's first seq in the transaction, its jobs' drafts take the next ones in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handoff.storage.drafts import ConversationMissing, Draft, Stored, message_row, stored_message

# A job's stored messages, or why it has none.
Result = list[Stored] | Exception


@dataclass
class Job:
    """Drafts of one conversation, stored in order, and an annotation."""

    conversation_id: str
    drafts: list[Draft]
    # (seq, annotation): what the bot understood of an earlier message of this conversation.
    nlu: tuple[int, dict[str, Any]] | None


@dataclass
class Pending(Job):
    """A job queued for a transaction, until it commits."""

    # The stored messages, once committed.
    stored: asyncio.Future[list[Stored]]
    # Set once the database has taken the drafts (see GroupCommit.submit).
    begun: asyncio.Future[None]

    @classmethod
    def new(
        cls,
        conversation_id: str,
        drafts: list[Draft],
        nlu: tuple[int, dict[str, Any]] | None,
        begun: asyncio.Future[None] | None = None,
    ) -> "Pending":
        """`begun`: one that is set already, shared (see GroupCommit.submit)."""
        loop = asyncio.get_running_loop()
        return cls(conversation_id, drafts, nlu, loop.create_future(),
                   begun if begun is not None else loop.create_future())


def adding(jobs: Sequence[Job]) -> dict[str, int]:
    """How many messages each conversation adds."""
    counts: dict[str, int] = defaultdict(int)
    for job in jobs:
        if job.drafts:
            counts[job.conversation_id] += len(job.drafts)
    return counts


def annotations(jobs: Sequence[Job]) -> list[tuple[str, int, dict[str, Any]]]:
    return [(job.conversation_id, *job.nlu) for job in jobs if job.nlu is not None]


def outcomes(
    jobs: Sequence[Job], first_seqs: dict[str, int], now: dt.datetime
) -> tuple[list[Result], list[dict[str, Any]]]:
    """Each job's stored messages (ConversationMissing without a first seq), and the
    messages table's rows that store them."""
    next_seq = dict(first_seqs)
    results: list[Result] = []
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
