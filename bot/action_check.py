"""Rasa's check of each action server answer, with its validator built once.

Rasa 3.6 checks every answer with ``jsonschema.validate``, which first checks the schema
itself against the JSON Schema metaschema and builds a validator, at every call: about a
third of a Rasa process's time in a handoff turn (``bench/profile_rasa.py --handoff``,
bench/README.md). The same schema, the same errors and the same message, but the schema
is checked and the validator made once. Installed by the channel (bot/channel.py), which
every Rasa process of Baton loads.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Text

from jsonschema import exceptions, validators
from rasa.core.actions import action as rasa_action
from rasa.shared.constants import DOCS_BASE_URL

RASAS_OWN = rasa_action.RemoteAction._validate_action_result


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    schema = rasa_action.RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: rasa_action.RemoteAction, result: Dict[Text, Any]) -> bool:
    """What ``RemoteAction._validate_action_result`` does, without rebuilding the check."""
    error = exceptions.best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    rasa_action.RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
