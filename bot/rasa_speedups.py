"""Two of Rasa 3.6's steps, redone once instead of at every turn; the same results.

Each showed in py-spy's samples of a Rasa process (``bench/profile_rasa.py``, the numbers
in bench/README.md, "Rasa's turn, profiled again"), and each is put in by ``install``,
which the channel (bot/channel.py), loaded by every Rasa process of Baton, calls:

- The check of each action server answer: ``jsonschema.validate`` checks the schema
  against the JSON Schema metaschema and builds a validator at every call, a third of a
  handoff turn. Here the validator is made once; same schema, errors and message.
- ``Event.resolve_by_type``, which walks every subclass of ``Event`` (with
  ``inspect.isabstract`` on each) for each event of a tracker read from the store, an
  eighth of a bot turn. Here the classes are found once by type name, in Rasa's order.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional, Text, Type

from jsonschema import exceptions, validators
from rasa.core.actions import action as rasa_action
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

RASAS_OWN = rasa_action.RemoteAction._validate_action_result
RASAS_RESOLVE = Event.resolve_by_type


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


_by_type: Dict[Text, Any] = {}


def _find_event_classes() -> None:
    _by_type.clear()
    for cls in all_subclasses(Event):  # the first of a name wins, as in Rasa's loop
        _by_type.setdefault(cls.type_name, cls)


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """What ``Event.resolve_by_type`` returns, looked up instead of searched."""
    cls = _by_type.get(type_name)
    if cls is None:
        _find_event_classes()  # the first call, or a class imported since
        cls = _by_type.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's answer for the old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    rasa_action.RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
