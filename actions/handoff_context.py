"""The handoff payload of docs/contract.md, built from the tracker's events."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Mapping, Optional, Sequence

from bot.assessment import (
    BOT_FAILURE,
    DISRUPTION,
    FRUSTRATION,
    REQUESTED,
    Assessment,
)
from bot.conversation import UserTurn
from actions.topics import DISRUPTION_PHRASES, join_words, topics_asked

MAX_QUOTE_CHARS = 120


def _compact_code(value: Any) -> str:
    return "".join(str(value).split()).upper()


def _unique(values: List[str]) -> List[str]:
    seen: List[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def collect_entities(turns: Sequence[UserTurn]) -> Dict[str, Any]:
    """Booking reference, flight number, the customer's name (latest mentioned), dates and
    places (all), and the day each date means (``resolved_dates``: said -> ISO date)."""
    found: Dict[str, Any] = {
        "booking_reference": None,
        "flight_number": None,
        "customer_name": None,
        "dates": [],
        "resolved_dates": {},
        "places": [],
    }
    for turn in turns:
        for entity in turn.entities:
            name, value = entity.get("entity"), entity.get("value")
            if value in (None, ""):
                continue
            if name in ("booking_reference", "flight_number"):
                found[name] = _compact_code(value)
            elif name == "customer_name":
                found[name] = str(value)
            elif name == "date":
                found["dates"].append(str(value))
                if entity.get("resolved"):
                    found["resolved_dates"][str(value)] = str(entity["resolved"])
            elif name == "place":
                found["places"].append(str(value))
    found["dates"] = _unique(found["dates"])
    found["places"] = _unique(found["places"])
    return found


def intents_seen(turns: Sequence[UserTurn]) -> List[str]:
    """The intents the classifier was sure of (bot.conversation.CONFIDENT_INTENT), once each."""
    return _unique([turn.intent for turn in turns if turn.intent and turn.confident])


def _signals_text(signals: List[str]) -> str:
    return join_words([signal.replace("_", " ") for signal in signals])


def _quote(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_QUOTE_CHARS:
        text = text[: MAX_QUOTE_CHARS - 3].rstrip() + "..."
    return f'"{text}"'


def _need_sentence(
    reason: str, assessment: Assessment, turns: Sequence[UserTurn], entities: Mapping[str, Any]
) -> str:
    if reason == FRUSTRATION:
        detail = f"score {assessment.frustration_score:.2f}"
        if assessment.frustration_signals:
            detail += f": {_signals_text(assessment.frustration_signals)}"
        return f"The customer is frustrated ({detail}) and needs a person to take over."
    if reason == BOT_FAILURE:
        return "The assistant did not understand the customer's last two messages."
    if reason == DISRUPTION:
        what = DISRUPTION_PHRASES.get(assessment.disruption or "", "a disrupted trip")
        flight = entities.get("flight_number")
        sentence = f"The customer reports {what}" + (f" on flight {flight}" if flight else "")
    elif turns and turns[-1].intent == "affirm":
        sentence = "The customer accepted the offer to talk to a person"
    else:
        sentence = "The customer asked to talk to a person"
    if assessment.frustrated:
        sentence += f" and is frustrated (score {assessment.frustration_score:.2f})"
    return sentence + "."


def _date_words(said: str, resolved: Optional[str]) -> str:
    """'tomorrow (Fri 4 Dec)': what the customer said and the day it means."""
    if not resolved:
        return said
    day = dt.date.fromisoformat(resolved)
    return f"{said} ({day:%a} {day.day} {day:%b})"


def _details_sentence(entities: Mapping[str, Any]) -> Optional[str]:
    parts = []
    if entities.get("booking_reference"):
        parts.append(f"booking {entities['booking_reference']}")
    if entities.get("flight_number"):
        parts.append(f"flight {entities['flight_number']}")
    resolved = entities.get("resolved_dates") or {}
    parts += [_date_words(said, resolved.get(said)) for said in entities.get("dates") or []]
    parts += list(entities.get("places") or [])
    if not parts:
        return None
    return f"They mentioned {join_words(parts)}."


def summarise(
    reason: str, assessment: Assessment, turns: Sequence[UserTurn], entities: Mapping[str, Any]
) -> str:
    """Two or three sentences on what the customer needs, for the agent who takes over."""
    # A guess is no topic: "cancelling a booking" from a 35 % guess misleads the agent.
    topics = topics_asked(turn.intent for turn in turns if turn.intent and turn.confident)
    sentences = [_need_sentence(reason, assessment, turns, entities)]
    if reason == BOT_FAILURE:
        quotes = [_quote(turn.text) for turn in turns[-2:] if turn.typed]
        if quotes:
            sentences.append(f"Their messages: {join_words(quotes)}.")
    if topics:
        sentences.append(f"They asked about {join_words(topics)}.")
    elif reason == BOT_FAILURE:
        sentences.append("No topic was identified.")
    details = _details_sentence(entities)
    if details:
        sentences.append(details)
    # A button's payload ("/human_handoff") says nothing the first sentence does not.
    written = [turn for turn in turns if turn.typed]
    if len(sentences) < 3 and written:
        sentences.append(f"Their last message: {_quote(written[-1].text)}")
    return " ".join(sentences[:3])


def build_handoff(
    assessment: Assessment,
    all_turns: Sequence[UserTurn],
) -> Dict[str, Any]:
    """The ``handoff`` object of the contract. Without another reason it is a request."""
    reason = assessment.reason or REQUESTED
    entities = collect_entities(all_turns)
    return {
        "reason": reason,
        "disruption": assessment.disruption,
        "context": {
            "summary": summarise(reason, assessment, all_turns, entities),
            **entities,
            "frustration": assessment.frustration,
            "intents_seen": intents_seen(all_turns),
        },
    }
