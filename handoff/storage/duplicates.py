"""Why a job broke the unique constraint: a client_message_id stored before, and its seq.

handoff.storage.client_ids catches nearly every retry before it is stored; what it
cannot know (a retry from before a restart, a message stored by another process) breaks
the constraint on (conversation_id, client_message_id), and its transaction is written
again one job at a time (handoff.storage.group_commit). The job that breaks it alone is
explained here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from handoff.storage.batch import Job
from handoff.storage.client_ids import ClientIds
from handoff.storage.db import Database
from handoff.storage.drafts import DuplicateMessage
from handoff.storage.models import Message


async def explain(
    database: Database, client_ids: ClientIds, job: Job, exc: IntegrityError
) -> Exception:
    """DuplicateMessage with the stored seq, or the database's own error."""
    given = [d.client_message_id for d in job.drafts if d.client_message_id]
    if given:
        async with database.engine.connect() as connection:
            seq = await connection.scalar(
                select(Message.seq).where(
                    Message.conversation_id == job.conversation_id,
                    Message.client_message_id.in_(given),
                )
            )
        if seq is not None:
            client_ids.record(job.conversation_id, given[0], seq)
            return DuplicateMessage(seq)
    return exc
