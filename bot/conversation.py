"""The customer's side of a conversation, read from tracker events.

Pure Python, no Rasa import: the handoff policy (inside Rasa) and action_handoff (inside
the action server) both read the same events, as JSON-like dicts (``event.as_dict()`` in
Rasa, ``tracker.events`` in rasa_sdk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

NO_FRUSTRATION: Dict[str, Any] = {"score": 0.0, "signals": []}
NO_DISRUPTION: Dict[str, Any] = {"type": None}


@dataclass(frozen=True)
class UserTurn:
    """One customer message and what the NLU pipeline understood of it."""

    text: str
    intent: Optional[str]
    entities: List[Dict[str, Any]] = field(default_factory=list)
    frustration_score: float = 0.0
    frustration_signals: List[str] = field(default_factory=list)
    disruption: Optional[str] = None


def frustration_of(parse_data: Mapping[str, Any]) -> Dict[str, Any]:
    """The parse data's ``frustration`` in its contract shape, or no frustration."""
    value = parse_data.get("frustration")
    if not isinstance(value, Mapping):
        return dict(NO_FRUSTRATION, signals=[])
    return {
        "score": float(value.get("score") or 0.0),
        "signals": [str(signal) for signal in value.get("signals") or []],
    }


def disruption_of(parse_data: Mapping[str, Any]) -> Dict[str, Any]:
    """The parse data's ``disruption`` in its contract shape, or no disruption."""
    value = parse_data.get("disruption")
    if not isinstance(value, Mapping):
        return dict(NO_DISRUPTION)
    return {"type": value.get("type") or None}


def user_turn(event: Mapping[str, Any]) -> UserTurn:
    parse_data: Mapping[str, Any] = event.get("parse_data") or {}
    intent = (parse_data.get("intent") or {}).get("name")
    frustration = frustration_of(parse_data)
    return UserTurn(
        text=event.get("text") or "",
        intent=intent,
        entities=list(parse_data.get("entities") or []),
        frustration_score=frustration["score"],
        frustration_signals=frustration["signals"],
        disruption=disruption_of(parse_data)["type"],
    )


def all_user_turns(events: Iterable[Mapping[str, Any]]) -> List[UserTurn]:
    """Every customer message of the conversation, oldest first."""
    return [user_turn(event) for event in events if event.get("event") == "user"]


def turns_since_resume(events: Sequence[Mapping[str, Any]]) -> List[UserTurn]:
    """Customer messages since an agent last handed the conversation back to the bot.

    What happened before a resume has been dealt with by a person, so it no longer
    counts towards repeated questions or misses in a row.
    """
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "resume":
            start = index + 1
    return all_user_turns(events[start:])


def awaits_bot_reply(events: Sequence[Mapping[str, Any]]) -> bool:
    """True when the latest thing that happened is a customer message."""
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") != "action_listen":
            return False
    return False
