"""action_handoff and action_out_of_scope: exact events and messages per conversation."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionOutOfScope
from actions.handoff import ActionHandoff
from tests.bot.builders import conversation


def tracker_for(name: str) -> Tracker:
    events = conversation(name)
    latest = next(event for event in reversed(events) if event["event"] == "user")
    return Tracker.from_dict(
        {
            "sender_id": f"test-{name}",
            "slots": {"agent_helped": False},
            "latest_message": latest["parse_data"],
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def response(name: str) -> Dict[str, Any]:
    return {
        "text": None, "buttons": [], "elements": [], "custom": {}, "template": name,
        "response": name, "image": None, "attachment": None,
    }


def json_message(payload: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "text": None, "buttons": [], "elements": [], "custom": payload, "template": None,
        "response": None, "image": None, "attachment": None,
    }


def no_frustration() -> Dict[str, Any]:
    return {"score": 0.0, "signals": [], "drivers": []}


HANDOFFS: List[Any] = [
    pytest.param(
        "requested_after_questions",
        {
            "reason": "requested",
            "disruption": None,
            "context": {
                "summary": "The customer asked to talk to a person. They asked about baggage "
                "allowance and fees and changing a booking. They mentioned booking XK7P2Q, "
                "flight BA123, 12 may and paris.",
                "booking_reference": "XK7P2Q",
                "flight_number": "BA123",
                "customer_name": None,
                "dates": ["12 may"],
                "resolved_dates": {},
                "places": ["paris"],
                "frustration": no_frustration(),
                "intents_seen": ["baggage_allowance", "change_booking", "human_handoff"],
            },
        },
        id="requested",
    ),
    pytest.param(
        "accepted_offer",
        {
            "reason": "requested",
            "disruption": None,
            "context": {
                "summary": "The customer accepted the offer to talk to a person. They asked "
                "about cancelling a booking. Their last message: \"yes please\"",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": None,
                "dates": [],
                "resolved_dates": {},
                "places": [],
                "frustration": no_frustration(),
                "intents_seen": ["cancel_booking", "affirm"],
            },
        },
        id="requested-by-accepting-an-offer",
    ),
    pytest.param(
        "disruption_cancelled",
        {
            "reason": "disruption",
            "disruption": "cancelled",
            "context": {
                "summary": "The customer reports a cancelled flight on flight BT812. They "
                "asked about a flight's status. They mentioned flight BT812, tomorrow (Fri 4 Dec) "
                "and lisbon.",
                "booking_reference": None,
                "flight_number": "BT812",
                "customer_name": None,
                "dates": ["tomorrow"],
                "resolved_dates": {"tomorrow": "2026-12-04"},
                "places": ["lisbon"],
                "frustration": {"score": 0.35, "signals": ["negative_wording"], "drivers": []},
                "intents_seen": ["greet", "flight_status"],
            },
        },
        id="disruption",
    ),
    pytest.param(
        "disruption_with_frustration",
        {
            "reason": "disruption",
            "disruption": "damaged_luggage",
            "context": {
                "summary": "The customer reports damaged luggage and is frustrated (score "
                "0.80). They asked about lost luggage. Their last message: \"UNBELIEVABLE my "
                "bag arrived ripped apart\"",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": None,
                "dates": [],
                "resolved_dates": {},
                "places": [],
                "frustration": {"score": 0.8, "signals": ["shouting", "angry_wording"], "drivers": []},
                "intents_seen": ["lost_luggage"],
            },
        },
        id="disruption-before-frustration",
    ),
    pytest.param(
        "frustrated_request",
        {
            "reason": "requested",
            "disruption": None,
            "context": {
                "summary": "The customer asked to talk to a person and is frustrated (score "
                "0.90). Their last message: \"i have asked three times, get me a human NOW\"",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": None,
                "dates": [],
                "resolved_dates": {},
                "places": [],
                "frustration": {"score": 0.9, "signals": ["shouting"], "drivers": []},
                "intents_seen": ["human_handoff"],
            },
        },
        id="request-before-frustration",
    ),
    pytest.param(
        "frustrated_message",
        {
            "reason": "frustration",
            "disruption": None,
            "context": {
                "summary": "The customer is frustrated (score 0.85: shouting, repeated "
                "punctuation and long wait) and needs a person to take over. They asked "
                "about a refund. Their last message: \"THIS IS RIDICULOUS i have waited 3 weeks!!!\"",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": None,
                "dates": [],
                "resolved_dates": {},
                "places": [],
                "frustration": {
                    "score": 0.85,
                    "signals": ["shouting", "repeated_punctuation", "long_wait"],
                    # What raised the score, as the NLU gave it: carried to the agent.
                    "drivers": [
                        {"name": "long_wait", "contribution": 2.02},
                        {"name": "tone_classifier", "contribution": 1.31},
                    ],
                },
                "intents_seen": ["refund"],
            },
        },
        id="frustration-score",
    ),
    pytest.param(
        "repeated_question",
        {
            "reason": "frustration",
            "disruption": None,
            "context": {
                "summary": "The customer is frustrated (score 0.60: repeated question) and "
                "needs a person to take over. They asked about a refund. Their last message: "
                "\"how do i get a refund for my ticket??\"",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": None,
                "dates": [],
                "resolved_dates": {},
                "places": [],
                "frustration": {"score": 0.6, "signals": ["repeated_question"], "drivers": []},
                "intents_seen": ["refund"],
            },
        },
        id="frustration-repeated-question",
    ),
    pytest.param(
        "worsening_trend",
        {
            "reason": "frustration",
            "disruption": None,
            "context": {
                "summary": "The customer is frustrated (score 0.60: annoyed and worsening "
                "trend) and needs a person to take over. They asked about changing a booking. "
                "Their last message: \"this is getting annoying\"",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": None,
                "dates": [],
                "resolved_dates": {},
                "places": [],
                "frustration": {"score": 0.6, "signals": ["annoyed", "worsening_trend"], "drivers": []},
                "intents_seen": ["change_booking", "out_of_scope"],
            },
        },
        id="frustration-worsening-trend",
    ),
    pytest.param(
        "two_misses",
        {
            "reason": "bot_failure",
            "disruption": None,
            "context": {
                "summary": "The assistant did not understand the customer's last two messages. "
                "Their messages: \"whats the weather tomorrow\" and \"blah blah\". No topic "
                "was identified.",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": None,
                "dates": [],
                "resolved_dates": {},
                "places": [],
                "frustration": {"score": 0.0, "signals": ["bot_failed_twice"], "drivers": []},
                "intents_seen": ["out_of_scope", "nlu_fallback"],
            },
        },
        id="bot-failure",
    ),
    pytest.param(
        "guess_then_request",
        {
            "reason": "requested",
            "disruption": None,
            "context": {
                # cancel_booking was a 35 % guess: no topic, not an intent seen.
                "summary": "The customer asked to talk to a person. They mentioned rome. "
                "Their last message: \"my name is anna schmidt, can i talk to a person\"",
                "booking_reference": None,
                "flight_number": None,
                "customer_name": "Anna Schmidt",
                "dates": [],
                "resolved_dates": {},
                "places": ["rome"],
                "frustration": no_frustration(),
                "intents_seen": ["human_handoff"],
            },
        },
        id="low-confidence-guess-is-no-topic",
    ),
]


@pytest.mark.parametrize(("name", "handoff"), HANDOFFS)
async def test_action_handoff(name: str, handoff: Dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()

    events = await ActionHandoff().run(dispatcher, tracker_for(name), {})

    assert events == [{"event": "pause", "timestamp": None}]
    assert dispatcher.messages == [
        response(f"utter_handoff_{handoff['reason']}"),
        json_message({"handoff": handoff}),
    ]


@pytest.mark.parametrize(
    ("name", "messages", "events"),
    [
        pytest.param("one_miss", [response("utter_out_of_scope")], [], id="first-miss"),
        pytest.param(
            "two_misses",
            [],
            [{"event": "followup", "timestamp": None, "name": "action_handoff"}],
            id="second-miss-in-a-row",
        ),
        pytest.param(
            "miss_before_resume",
            [response("utter_out_of_scope")],
            [],
            id="a-miss-before-the-agent-helped-does-not-count",
        ),
    ],
)
async def test_action_out_of_scope(
    name: str, messages: List[Dict[str, Any]], events: List[Dict[str, Any]]
) -> None:
    dispatcher = CollectingDispatcher()

    result = await ActionOutOfScope().run(dispatcher, tracker_for(name), {})

    assert result == events
    assert dispatcher.messages == messages
