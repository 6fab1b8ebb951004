"""action_out_of_scope: an honest answer to the first miss, a person after the second."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from bot.assessment import failed_twice
from bot.conversation import turns_since_resume


class ActionOutOfScope(Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        if failed_twice(turns_since_resume(tracker.events)):
            # The handoff policy normally gets here first; this keeps the promise when
            # it is not configured.
            return [FollowupAction("action_handoff")]
        dispatcher.utter_message(response="utter_out_of_scope")
        return []
