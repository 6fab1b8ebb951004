"""One empowered action for every customer of one disruption (issue 19, point 4): rebook
every BA117 passenger onto BA119 in one go.

Which conversations: those whose customer was told of the disruption (known_disruptions)
and that wait in the queue or are this agent's; the agent claims the waiting ones. Each
gets its own resolution, audited and told to its customer as a single one is
(handoff.agent_tools.resolutions). The authority is weighed for the whole: the amounts'
sum against the agent's limit at once, and each conversation's own cap. Within it, each
is carried out at once. Above it, every request goes to a supervisor as one batch (each
customer is told it is being approved), and a supervisor whose authority covers the sum
approves the batch in one decision (do_decide_batch). Beyond what anyone may approve,
the whole is refused and nothing changes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select

from handoff import keys
from handoff.agent_tools.resolution_actions import ResolutionAction, format_amount
from handoff.agent_tools.resolutions import (
    Batch,
    beyond_anyone,
    do_decide_resolution,
    do_request_resolution,
    given_minor,
)
from handoff.conversations.agent_side import do_claim
from handoff.http_errors import json_error
from handoff.live.serializers import amount_number
from handoff.storage.audit import record_audit
from handoff.storage.models import (
    RESOLUTION_PENDING,
    STATUS_AGENT,
    STATUS_WAITING,
    Agent,
    Conversation,
    Disruption,
    Handoff,
    KnownDisruption,
    Resolution,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Applied:
    """What one action for a disruption's customers did: a resolution each, their batch,
    and, when they went to a supervisor, why (None: carried out at once)."""

    resolutions: list[Resolution]
    batch_id: str
    needs_approval: str | None


async def do_resolve_disruption(
    app: web.Application,
    disruption_id: str,
    agent: Agent,
    action: ResolutionAction,
    amount_minor: int | None,
    note: str | None,
    fields: dict[str, str] | None = None,
) -> Applied:
    """The action in each of the disruption's conversations, waiting or this agent's."""
    async with app[keys.DB].read() as db:
        if await db.get(Disruption, disruption_id) is None:
            raise json_error(web.HTTPNotFound, "disruption not found")
        targets = list((await db.scalars(
            select(Conversation.id)
            .join(KnownDisruption, KnownDisruption.conversation_id == Conversation.id)
            .join(Handoff, Conversation.handoff_id == Handoff.id)
            .where(
                KnownDisruption.disruption_id == disruption_id,
                or_(
                    Conversation.status == STATUS_WAITING,
                    (Conversation.status == STATUS_AGENT) & (Conversation.agent_id == agent.id),
                ),
            )
            .order_by(Handoff.priority.desc(), Handoff.requested_at, Handoff.id)
        )).all())
        if not targets:
            raise json_error(
                web.HTTPConflict,
                "no conversation of this disruption is waiting or yours",
            )
        given = {
            conversation_id: await given_minor(db, conversation_id, action.id)
            for conversation_id in targets
        } if action.takes_amount else {}
    _check_anyone_may(action, amount_minor, given, len(targets))
    above = authority_problem(action, agent.role, amount_minor, given, len(targets))
    batch = Batch(
        disruption_id=disruption_id, batch_id=uuid.uuid4().hex, for_approval=above is not None
    )
    async with app[keys.DB].write() as db:
        await record_audit(
            db, "disruption_resolution", agent=await db.get(Agent, agent.id),
            details={"disruption_id": disruption_id, "action": action.id,
                     "conversations": targets,
                     "total": amount_number(amount_minor * len(targets))
                     if amount_minor is not None else None,
                     "batch_id": batch.batch_id,
                     "needs_approval": above.text if above is not None else None},
        )
    done = []
    for conversation_id in targets:
        try:
            await do_claim(app, conversation_id, agent)
        except web.HTTPConflict:
            # Another agent claimed it meanwhile: theirs to act on.
            log.info("disruption %s: %s was claimed meanwhile", disruption_id, conversation_id)
            continue
        done.append(await do_request_resolution(
            app, conversation_id, agent, action, amount_minor, note, fields, batch
        ))
    return Applied(done, batch.batch_id, above.text if above is not None else None)


async def do_decide_batch(
    app: web.Application,
    batch_id: str,
    supervisor: Agent,
    *,
    approve: bool,
    reason: str | None,
) -> list[Resolution]:
    """A supervisor approves (each then carried out) or rejects a bulk action's pending
    requests together; approving weighs their sum against the supervisor's authority."""
    async with app[keys.DB].read() as db:
        pending = list((await db.scalars(
            select(Resolution)
            .where(Resolution.batch_id == batch_id, Resolution.status == RESOLUTION_PENDING)
            .order_by(Resolution.id)
        )).unique().all())
        if not pending:
            known = await db.scalar(
                select(Resolution.id).where(Resolution.batch_id == batch_id).limit(1)
            )
            if known is None:
                raise json_error(web.HTTPNotFound, "approval request not found")
            raise json_error(web.HTTPConflict, "this request has already been decided")
        first = pending[0]
        action = app[keys.RESOLUTIONS].actions.get(first.action)
        given = {
            r.conversation_id: await given_minor(db, r.conversation_id, first.action)
            for r in pending
        } if action is not None and action.takes_amount else {}
    if approve:
        if first.requested_by_id == supervisor.id:
            raise json_error(web.HTTPForbidden, "you cannot approve your own request")
        if action is None:
            raise json_error(
                web.HTTPConflict, f"the action '{first.action}' is no longer offered"
            )
        above = authority_problem(action, supervisor.role, first.amount_minor, given, len(pending))
        if above is not None:
            raise json_error(web.HTTPForbidden, above.text, **above.details)
    decided = []
    for request in pending:
        try:
            decided.append(await do_decide_resolution(
                app, request.id, supervisor, approve=approve, reason=reason, with_its_batch=True
            ))
        except web.HTTPConflict:
            # Decided meanwhile (another supervisor rejected that one alone).
            log.info("batch %s: request %s was decided meanwhile", batch_id, request.id)
    return decided


@dataclass(frozen=True)
class Above:
    """Why an action for several conversations is above a role's authority, and the
    figures the refusal carries."""

    text: str
    details: dict[str, Any] = field(default_factory=dict)


def authority_problem(
    action: ResolutionAction, role: str, amount_minor: int | None, given: dict[str, int],
    count: int,
) -> Above | None:
    """None when the role may do all of it at once, the amounts summed; else why not."""
    if not action.takes_amount:
        if action.within_limit(role, None):
            return None
        return Above(f"'{action.id}' is above your authority")
    assert amount_minor is not None
    total = amount_minor * count
    limit = action.limit_for(role)
    currency = action.currency
    if total > limit:
        return Above(
            f"{count} × {format_amount(amount_minor)} {currency} is "
            f"{format_amount(total)} {currency}, above your authority of "
            f"{format_amount(limit)} {currency} at once",
            {"total": amount_number(total), "limit": amount_number(limit)},
        )
    over = [cid for cid, had in given.items() if not action.within_limit(role, amount_minor, had)]
    if over:
        return Above(
            f"{len(over)} of these conversations would pass your authority of "
            f"{format_amount(action.cap_for(role))} {currency} in one conversation",
            {"conversations": over},
        )
    return None


def _check_anyone_may(
    action: ResolutionAction, amount_minor: int | None, given: dict[str, int], count: int
) -> None:
    """Refused whole, nothing changed, when no role could approve it: not one request
    that would stay pending for ever."""
    for had in given.values():
        if not action.can_be_approved(amount_minor, had):
            raise beyond_anyone(action, had)
    if amount_minor is not None and all(
        authority_problem(action, role, amount_minor, given, count) is not None
        for role in action.limits
    ):
        total = amount_minor * count
        raise json_error(
            web.HTTPForbidden,
            f"{count} × {format_amount(amount_minor)} {action.currency} is "
            f"{format_amount(total)} {action.currency}, more than anyone may approve at "
            f"once ({format_amount(action.max_minor)} {action.currency}): act on fewer "
            "conversations at a time",
            total=amount_number(total), limit=amount_number(action.max_minor),
        )
