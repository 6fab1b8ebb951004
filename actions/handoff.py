"""action_handoff: tell the customer a colleague is coming and hand over the context."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_context import build_handoff
from actions.settings import load_settings
from bot.assessment import assess
from bot.conversation import all_user_turns, turns_since_resume


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        settings = load_settings()
        assessment = assess(turns_since_resume(tracker.events), settings.frustration_threshold)
        handoff = build_handoff(assessment, all_user_turns(tracker.events))
        dispatcher.utter_message(response=f"utter_handoff_{handoff['reason']}")
        dispatcher.utter_message(json_message={"handoff": handoff})
        # From here the bot is silent until the baton channel resumes the conversation.
        return [ConversationPaused()]
