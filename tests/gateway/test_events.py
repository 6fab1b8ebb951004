from __future__ import annotations

import json

import pytest

from handoff.events import (
    RESET_EVENT,
    handoff_event,
    hello_event,
    message_event,
    presence_event,
    queue_event,
    status_event,
    typing_event,
)

MESSAGE = {"seq": 3, "sender": "agent", "text": "Hi", "created_at": "2026-11-22T10:00:00+00:00",
           "buttons": [], "author": "Maya"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (message_event("c1", MESSAGE),
         {"type": "message", "conversation_id": "c1", "message": MESSAGE}),
        (status_event("c1", "agent", "Maya"),
         {"type": "status", "conversation_id": "c1", "status": "agent", "agent": {"name": "Maya"}}),
        (status_event("c1", "bot", None),
         {"type": "status", "conversation_id": "c1", "status": "bot", "agent": None}),
        (handoff_event({"id": "c1", "status": "waiting", "handoff": None, "agent": None}),
         {"type": "handoff", "conversation": {"id": "c1", "status": "waiting", "handoff": None,
                                              "agent": None}}),
        (typing_event("c1", "customer", True),
         {"type": "typing", "conversation_id": "c1", "sender": "customer", "typing": True}),
        (hello_event(1, "Maya", 7),
         {"type": "hello", "agent": {"id": 1, "name": "Maya"}, "last_event_id": 7}),
        (queue_event("c1", 2, 240, 1),
         {"type": "queue", "conversation_id": "c1", "position": 2,
          "estimated_wait_seconds": 240, "agents_online": 1}),
        (presence_event("c1", False),
         {"type": "presence", "conversation_id": "c1", "customer_online": False}),
        (RESET_EVENT, {"type": "reset"}),
    ],
)
def test_every_event_round_trips_through_json(event: dict, expected: dict) -> None:
    assert json.loads(json.dumps(event)) == expected == event
