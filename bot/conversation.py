"""The customer's side of a conversation, read from tracker events.

Pure Python, no Rasa import: the handoff policy (inside Rasa) and action_handoff (inside
the action server) both read the same events, as JSON-like dicts (``event.as_dict()`` in
Rasa, ``tracker.events`` in rasa_sdk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

NO_FRUSTRATION: Dict[str, Any] = {"score": 0.0, "signals": [], "drivers": []}
NO_DISRUPTION: Dict[str, Any] = {"type": None}
# An intent counts as what the customer asked about (the handoff's summary, its intents
# seen) only when the classifier is at least this sure. The FallbackClassifier's 0.3
# (config.yml) only decides whether the bot tries to answer; a 35 % guess is no topic.
CONFIDENT_INTENT = 0.5
# The FallbackClassifier's verdict (confidence: its threshold) is no guess: the bot did not
# understand, and the agent should see that.
FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class UserTurn:
    """One customer message and what the NLU pipeline understood of it."""

    text: str
    intent: Optional[str]
    entities: List[Dict[str, Any]] = field(default_factory=list)
    frustration_score: float = 0.0
    frustration_signals: List[str] = field(default_factory=list)
    disruption: Optional[str] = None
    # The intent's confidence; 1.0 for a button's "/intent" payload, which is no guess.
    confidence: float = 1.0
    frustration_drivers: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def typed(self) -> bool:
        """Words the customer wrote, not a button's "/intent" payload."""
        return bool(self.text.strip()) and not self.text.startswith("/")

    @property
    def confident(self) -> bool:
        return self.intent == FALLBACK_INTENT or (
            self.intent is not None and self.confidence >= CONFIDENT_INTENT
        )


def frustration_of(parse_data: Mapping[str, Any]) -> Dict[str, Any]:
    """The parse data's ``frustration`` in its contract shape, or no frustration."""
    value = parse_data.get("frustration")
    if not isinstance(value, Mapping):
        return dict(NO_FRUSTRATION, signals=[], drivers=[])
    return {
        "score": float(value.get("score") or 0.0),
        "signals": [str(signal) for signal in value.get("signals") or []],
        "drivers": [
            {"name": str(driver["name"]), "contribution": float(driver.get("contribution") or 0.0)}
            for driver in value.get("drivers") or []
            if isinstance(driver, Mapping) and driver.get("name")
        ],
    }


def disruption_of(parse_data: Mapping[str, Any]) -> Dict[str, Any]:
    """The parse data's ``disruption`` in its contract shape, or no disruption."""
    value = parse_data.get("disruption")
    if not isinstance(value, Mapping):
        return dict(NO_DISRUPTION)
    return {"type": value.get("type") or None}


def user_turn(event: Mapping[str, Any]) -> UserTurn:
    parse_data: Mapping[str, Any] = event.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    confidence = intent.get("confidence")
    frustration = frustration_of(parse_data)
    return UserTurn(
        text=event.get("text") or "",
        intent=intent.get("name"),
        entities=list(parse_data.get("entities") or []),
        frustration_score=frustration["score"],
        frustration_signals=frustration["signals"],
        disruption=disruption_of(parse_data)["type"],
        confidence=1.0 if confidence is None else float(confidence),
        frustration_drivers=frustration["drivers"],
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
