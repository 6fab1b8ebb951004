"""One empowered action for every customer of one disruption (issue 19, point 4): rebook
every BA117 passenger onto BA119 in one go.

Which conversations: those whose customer was told of the disruption (known_disruptions)
and that wait in the queue or are this agent's; the agent claims the waiting ones. Each
gets its own resolution, audited and told to its customer as a single one is
(handoff.agent_tools.resolutions). The authority is checked for the whole first: the
amounts' sum against the agent's limit at once, and each conversation's own cap. Above
it the whole is refused and nothing changes, rather than asking for one approval per
customer: a supervisor, whose authority covers more, applies it, or the agent acts
conversation by conversation, where approvals work as always.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import or_, select

from handoff import keys
from handoff.agent_tools.resolution_actions import ResolutionAction, format_amount
from handoff.agent_tools.resolutions import do_request_resolution, given_minor
from handoff.conversations.agent_side import do_claim
from handoff.http_errors import json_error
from handoff.live.serializers import amount_number
from handoff.storage.audit import record_audit
from handoff.storage.models import (
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


async def do_resolve_disruption(
    app: web.Application,
    disruption_id: str,
    agent: Agent,
    action: ResolutionAction,
    amount_minor: int | None,
    note: str | None,
    fields: dict[str, str] | None = None,
) -> list[Resolution]:
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
    _check_authority(action, agent.role, amount_minor, given, len(targets))
    async with app[keys.DB].write() as db:
        await record_audit(
            db, "disruption_resolution", agent=await db.get(Agent, agent.id),
            details={"disruption_id": disruption_id, "action": action.id,
                     "conversations": targets,
                     "total": amount_number(amount_minor * len(targets))
                     if amount_minor is not None else None},
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
            app, conversation_id, agent, action, amount_minor, note, fields
        ))
    return done


def _check_authority(
    action: ResolutionAction, role: str, amount_minor: int | None, given: dict[str, int],
    count: int,
) -> None:
    """403 unless the agent may do all of it at once, the amounts summed."""
    if not action.takes_amount:
        if not action.within_limit(role, None):
            raise json_error(
                web.HTTPForbidden, f"'{action.id}' is above your authority: it needs approval, "
                "so apply it conversation by conversation"
            )
        return
    assert amount_minor is not None
    total = amount_minor * count
    limit = action.limit_for(role)
    currency = action.currency
    if total > limit:
        raise json_error(
            web.HTTPForbidden,
            f"{count} × {format_amount(amount_minor)} {currency} is "
            f"{format_amount(total)} {currency}, above your authority of "
            f"{format_amount(limit)} {currency} at once",
            total=amount_number(total), limit=amount_number(limit),
        )
    over = [cid for cid, had in given.items() if not action.within_limit(role, amount_minor, had)]
    if over:
        raise json_error(
            web.HTTPForbidden,
            f"{len(over)} of these conversations would pass your authority of "
            f"{format_amount(action.cap_for(role))} {currency} in one conversation",
            conversations=over,
        )
