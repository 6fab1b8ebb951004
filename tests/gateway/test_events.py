from __future__ import annotations

import json

import msgspec
import pytest

from handoff.live.events import (
    RESET_EVENT,
    canned_event,
    context_event,
    disruption_event,
    handoff_event,
    hello_event,
    message_event,
    note_event,
    presence_event,
    queue_event,
    rating_event,
    resolution_event,
    status_event,
    transfer_event,
    typing_event,
)
from handoff.routing.team import Team
from handoff.shapes import http
from handoff.shapes.events import ConsoleEvent, Event, WidgetEvent

MESSAGE = {"seq": 3, "sender": "agent", "text": "Hi", "created_at": "2026-11-22T10:00:00+00:00",
           "buttons": [], "author": "Maya"}
NOTE = {"id": 1, "conversation_id": "c1", "text": "Asked for a window seat.",
        "author": {"id": 1, "name": "Maya"}, "created_at": "2026-11-22T10:00:00+00:00"}
RESOLUTION = {"id": 2, "conversation_id": "c1", "action": "voucher", "label": "Issue a travel voucher",
              "amount": 150, "currency": "EUR", "fields": {}, "note": None, "status": "done",
              "requested_by": {"id": 1, "name": "Maya"}, "requested_at": "2026-11-22T10:00:00+00:00",
              "decided_by": None, "decided_at": None, "decision_reason": None,
              "reference": "BTN-000002", "carried_out_at": "2026-11-22T10:00:01+00:00",
              "failure": None}
CONTEXT = {"summary": "The customer asked for a person.", "booking_reference": "QX7K2P",
           "customer_name": "Anna Schmidt", "dates": ["tomorrow"],
           "resolved_dates": {"tomorrow": "2026-12-04"}}
RATING = {"handoff_id": 4, "score": 4, "comment": "Quick, thanks",
          "rated_at": "2026-11-22T10:05:00+00:00", "agent": {"id": 1, "name": "Maya"}}
CANNED = {"id": 3, "shortcut": "/bags", "title": "Baggage allowance", "text": "23 kg.",
          "updated_at": "2026-11-22T10:00:00+00:00"}
# The console's copy of a customer message: nlu as stored, its frustration's drivers kept.
CUSTOMER_MESSAGE = {
    **MESSAGE, "sender": "customer", "author": None,
    "nlu": {"intent": "human_handoff", "confidence": 0.91, "intent_ranking": [],
            "entities": [], "frustration": {"score": 0.7, "signals": ["caps"],
                                            "drivers": ["caps"]},
            "disruption": {"type": None}},
}
MAYA, SAM = http.AgentRef(id=1, name="Maya"), http.AgentRef(id=2, name="Sam")
QUEUE_ENTRY = {"id": "c1", "status": "waiting", "handoff": None, "agent": None,
               "customer_left_at": None}


def _with_agents(data: dict, *keys: str) -> dict:
    """The fixture's fields for its Struct: the agents in it as AgentRef."""
    return {**data, **{key: http.AgentRef(**data[key]) for key in keys}}


# The payloads as handoff.live.serializers builds them, each from its fixture above.
MESSAGE_SHAPE = http.Message(**MESSAGE)
NOTE_SHAPE = http.Note(**_with_agents(NOTE, "author"))
RESOLUTION_SHAPE = http.Resolution(**_with_agents(RESOLUTION, "requested_by"))
RATING_SHAPE = http.Rating(**_with_agents(RATING, "agent"))
CANNED_SHAPE = http.Canned(**CANNED)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (message_event("c1", MESSAGE_SHAPE),
         {"type": "message", "conversation_id": "c1", "message": MESSAGE}),
        (message_event("c1", http.AgentMessage(**CUSTOMER_MESSAGE)),
         {"type": "message", "conversation_id": "c1", "message": CUSTOMER_MESSAGE}),
        (status_event("c1", "agent", "Maya"),
         {"type": "status", "conversation_id": "c1", "status": "agent", "agent": {"name": "Maya"}}),
        (status_event("c1", "bot", None),
         {"type": "status", "conversation_id": "c1", "status": "bot", "agent": None}),
        (handoff_event(http.QueueEntry(**QUEUE_ENTRY)),
         {"type": "handoff", "conversation": QUEUE_ENTRY}),
        (typing_event("c1", "customer", True),
         {"type": "typing", "conversation_id": "c1", "sender": "customer", "typing": True}),
        (hello_event(1, "Maya", 7, "e1"),
         {"type": "hello", "agent": {"id": 1, "name": "Maya"}, "last_event_id": 7, "epoch": "e1"}),
        (queue_event("c1", 2, 240, 1, Team("online").as_fields()),
         {"type": "queue", "conversation_id": "c1", "position": 2,
          "estimated_wait_seconds": 240, "agents_online": 1, "team": "online",
          "reopens_at": None, "reopens": None}),
        (presence_event("c1", False),
         {"type": "presence", "conversation_id": "c1", "customer_online": False}),
        (RESET_EVENT, {"type": "reset"}),
        (note_event("c1", NOTE_SHAPE), {"type": "note", "conversation_id": "c1", "note": NOTE}),
        (resolution_event("c1", RESOLUTION_SHAPE),
         {"type": "resolution", "conversation_id": "c1", "resolution": RESOLUTION}),
        (transfer_event("c1", MAYA, SAM),
         {"type": "transfer", "conversation_id": "c1", "from": {"id": 1, "name": "Maya"},
          "to": {"id": 2, "name": "Sam"}}),
        (transfer_event("c1", MAYA, None),
         {"type": "transfer", "conversation_id": "c1", "from": {"id": 1, "name": "Maya"},
          "to": None}),
        (canned_event("deleted", CANNED_SHAPE),
         {"type": "canned", "change": "deleted", "canned": CANNED}),
        (context_event("c1", 4, CONTEXT),
         {"type": "context", "conversation_id": "c1", "handoff_id": 4, "context": CONTEXT}),
        (disruption_event("ops-4711", "updated"),
         {"type": "disruption", "disruption_id": "ops-4711", "change": "updated"}),
        (rating_event("c1", RATING_SHAPE),
         {"type": "rating", "conversation_id": "c1", "rating": RATING}),
    ],
)
def test_every_event_round_trips_through_json(event: Event, expected: dict) -> None:
    encoded = msgspec.json.encode(event)
    assert json.loads(encoded) == expected
    # Parsed back strictly as the socket it goes to would read it: no field unknown.
    union = WidgetEvent if expected["type"] in WIDGET_ONLY else ConsoleEvent
    decoded = msgspec.json.decode(encoded, type=union)
    assert decoded == msgspec.json.decode(json.dumps(expected), type=union)


WIDGET_ONLY = {"queue", "status"}  # the status builder here is the widget's (no agent id)
