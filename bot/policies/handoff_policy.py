"""A dialogue policy that hands the conversation to a person as soon as it should."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.assessment import FRUSTRATION_THRESHOLD, assess
from bot.conversation import awaits_bot_reply, turns_since_resume

HANDOFF_ACTION = "action_handoff"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class HandoffPolicy(Policy):
    """Predicts ``action_handoff`` right after a customer message that calls for a person.

    That is: an explicit request, a disrupted trip, frustration (the message's score, the
    same question again, a worsening trend) or the bot failing twice in a row; see
    ``bot.assessment``. Otherwise it abstains and the other policies decide. Its priority
    sits above RulePolicy's so that it wins a tie at confidence 1.0.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "priority": 7,
            "frustration_threshold": FRUSTRATION_THRESHOLD,
            "handoff_action": HANDOFF_ACTION,
        }

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        # Nothing to learn: the decision is made from the parse data and the history.
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        handoff_action: Text = self.config["handoff_action"]
        events = [event.as_dict() for event in tracker.events]
        if handoff_action in domain.action_names_or_texts and awaits_bot_reply(events):
            assessment = assess(
                turns_since_resume(events), float(self.config["frustration_threshold"])
            )
            if assessment.reason is not None:
                probabilities[domain.index_for_action(handoff_action)] = 1.0
                return self._prediction(
                    probabilities, action_metadata={"handoff_reason": assessment.reason}
                )
        return self._prediction(probabilities)
