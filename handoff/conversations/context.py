"""The handoff's context kept up to date while a person has the conversation.

action_handoff writes the context once, from what the customer said to the bot
(actions/handoff_context.py). What they say afterwards is read along by the bot
(handoff.conversations.annotations), and what it finds there joins the context the agent sees, in
the same way: a booking reference, flight number or name replaces the earlier one;
dates (with the day each means) and places are added once each.
"""

from __future__ import annotations

from typing import Any

CODES = ("booking_reference", "flight_number")
CUSTOMER_NAME = "customer_name"
CONTEXT_ENTITIES = frozenset({*CODES, CUSTOMER_NAME, "date", "place"})


def _compact_code(value: Any) -> str:
    return "".join(str(value).split()).upper()


def _added(values: Any, value: str) -> list[str]:
    values = [str(v) for v in values or []]
    return values if value in values else [*values, value]


def finds_context(annotation: dict[str, Any]) -> bool:
    """Whether the bot found anything in the message that the context holds."""
    return any(
        entity.get("entity") in CONTEXT_ENTITIES for entity in annotation.get("entities") or []
    )


def merged_context(context: dict[str, Any], annotation: dict[str, Any]) -> dict[str, Any] | None:
    """The context with what the annotation (serializers.nlu_annotation) found in a later
    message; None when that changes nothing."""
    updated = dict(context)
    for entity in annotation.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        if value in (None, ""):
            continue
        if name in CODES:
            updated[name] = _compact_code(value)
        elif name == CUSTOMER_NAME:
            updated[name] = str(value)
        elif name == "date":
            updated["dates"] = _added(updated.get("dates"), str(value))
            if entity.get("resolved"):
                updated["resolved_dates"] = {
                    **(updated.get("resolved_dates") or {}), str(value): str(entity["resolved"])
                }
        elif name == "place":
            updated["places"] = _added(updated.get("places"), str(value))
    return updated if updated != context else None
