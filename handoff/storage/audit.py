"""The append-only audit log: who changed what, when.

State changes (claim, transfer, resolve, requeue, notes, resolutions, canned responses)
add an entry inside their own transaction, so the log and the change commit together.
Nothing in the gateway updates or deletes an entry.

Actions recorded: ``claim``, ``transfer``, ``requeue``, ``resolve``, ``note_added``,
``resolution_requested``, ``resolution_approved``, ``resolution_rejected``,
``resolution_carried_out``, ``resolution_failed``, ``canned_created``,
``canned_updated``, ``canned_deleted``, ``canned_seeded`` (the demo company's responses,
handoff.agent_tools.canned_seed; no agent).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.storage.models import Agent, AuditEntry, utcnow


async def record_audit(
    db: AsyncSession,
    action: str,
    *,
    agent: Agent | None,
    conversation_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=utcnow(),
        agent_id=agent.id if agent is not None else None,
        conversation_id=conversation_id,
        action=action,
        details=details or {},
    )
    entry.agent = await db.get(Agent, agent.id) if agent is not None else None
    db.add(entry)
    await db.flush()
    return entry


async def audit_entries(
    db: AsyncSession, *, conversation_id: str | None = None, limit: int = 500
) -> list[AuditEntry]:
    """The latest entries (of one conversation, or all), oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if conversation_id is not None:
        query = query.where(AuditEntry.conversation_id == conversation_id)
    return list(reversed((await db.scalars(query)).unique().all()))
