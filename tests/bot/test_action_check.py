"""Rasa's check of action server answers, built once (bot/action_check.py): the same
verdicts and messages as Rasa's own."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import bot.channel  # noqa: F401  (installs the check, as in every Rasa process)
from bot import action_check

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


def test_the_channel_installs_the_check() -> None:
    assert RemoteAction._validate_action_result is action_check.validate_action_result


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_same_verdict_and_message_as_rasas_own(answer: Dict[str, Any]) -> None:
    ours = _verdict(action_check.validate_action_result, answer)
    assert ours == _verdict(action_check.RASAS_OWN, answer)


def test_a_refusal_says_what_to_fix() -> None:
    refused = _verdict(action_check.validate_action_result, {"events": "not a list"})
    assert refused[0] == "refused"
    assert refused[1] == (
        "'not a list' is not of type 'array'. Failed to validate Action server response "
        "from API, make sure your response from the Action endpoint is valid. For more "
        "information about the format visit https://rasa.com/docs/rasa/custom-actions"
    )
