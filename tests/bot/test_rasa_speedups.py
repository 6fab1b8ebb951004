"""Two of Rasa's steps done once (bot/rasa_speedups.py): the check of action server
answers, and events found by type name; the same verdicts and classes as Rasa's own."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.utils.common import all_subclasses

import bot.channel  # noqa: F401  (installs the check, as in every Rasa process)
from bot import rasa_speedups

ANSWERS: list[Dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "disruption", "value": "cancelled"}],
     "responses": [{"text": "I'm sorry, a person will take it from here."}]},
    {"events": [{"event": "action", "name": "action_listen"},
                {"event": "pause"}, {"event": "followup", "name": "utter_greet"}]},
    {},
    # refused, as Rasa refuses them
    {"events": "not a list"},
    {"events": [{"name": "no event type"}]},
    {"events": [{"event": "no such event"}]},
    {"responses": ["not an object"]},
]


def _verdict(check: Any, answer: Dict[str, Any]) -> Any:
    try:
        return check(RemoteAction("action_handoff", None), answer)
    except ValidationError as error:
        return ("refused", error.message, list(error.path))


def test_the_channel_installs_both() -> None:
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert Event.resolve_by_type is rasa_speedups.resolve_by_type


def _resolved(resolve: Any, *args: Any) -> Any:
    try:
        return resolve(*args)
    except ValueError as error:
        return ("refused", str(error))


def test_every_event_type_resolves_to_rasas_class() -> None:
    names = sorted({cls.type_name for cls in all_subclasses(Event)})
    assert len(names) > 20  # user, bot, action, slot, pause, resume, active_loop, ...
    for name in [*names, "topic", "no such event"]:
        assert _resolved(rasa_speedups.resolve_by_type, name) == _resolved(
            rasa_speedups.RASAS_RESOLVE, name), name
    assert rasa_speedups.resolve_by_type("user") is UserUttered
    assert rasa_speedups.resolve_by_type("no such event", UserUttered) is UserUttered
    assert _resolved(rasa_speedups.resolve_by_type, "no such event") == (
        "refused", "Unknown event name 'no such event'.")


def test_a_tracker_read_back_has_the_same_events() -> None:
    dumped = [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
              {"event": "action", "name": "utter_greet"}, {"event": "bot", "text": "Hello"},
              {"event": "slot", "name": "disruption", "value": "cancelled"}, {"event": "pause"}]
    ours = [Event.from_parameters(dict(e)) for e in dumped]
    assert [type(e).__name__ for e in ours] == [
        "UserUttered", "ActionExecuted", "BotUttered", "SlotSet", "ConversationPaused"]


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_same_verdict_and_message_as_rasas_own(answer: Dict[str, Any]) -> None:
    ours = _verdict(rasa_speedups.validate_action_result, answer)
    assert ours == _verdict(rasa_speedups.RASAS_OWN, answer)


def test_a_refusal_says_what_to_fix() -> None:
    refused = _verdict(rasa_speedups.validate_action_result, {"events": "not a list"})
    assert refused[0] == "refused"
    assert refused[1] == (
        "'not a list' is not of type 'array'. Failed to validate Action server response "
        "from API, make sure your response from the Action endpoint is valid. For more "
        "information about the format visit https://rasa.com/docs/rasa/custom-actions"
    )
