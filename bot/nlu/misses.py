"""MissVector: the sentence vector of a message the bot could not answer, for the gateway.

A message whose intent is out_of_scope or nlu_fallback gets ``miss_vector`` in its parse
data: its MiniLM sentence vector (bot/nlu/encoder.py), scaled so its largest component is
127, as 384 signed bytes in base64 (512 characters; cosine to the float vector >= 0.9999).
The gateway groups what the bot could not answer by it (handoff/assistant/misses.py)
without an encoder of its own. Other messages get nothing, so trackers stay small.
"""

from __future__ import annotations

import base64
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.assessment import MISS_INTENTS
from bot.nlu.encoder import SentenceEncoderFeaturizer, sentence_embeddings

MISS_VECTOR = "miss_vector"


def pack(vector: np.ndarray) -> str:
    """A vector as the gateway reads it: int8, largest component 127, base64."""
    largest = float(np.abs(vector).max())
    scaled = vector / largest * 127 if largest > 0 else vector
    return base64.b64encode(np.round(scaled).astype(np.int8).tobytes()).decode("ascii")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MissVector(GraphComponent):
    """Runs after the intent classifier and FallbackClassifier (last in the pipeline)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MissVector":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        missed = [m for m in messages if m.get(TEXT) and _intent(m) in MISS_INTENTS]
        for message, vector in zip(missed, sentence_embeddings(missed)):
            message.set(MISS_VECTOR, pack(vector), add_to_output=True)
        return messages


def _intent(message: Message) -> Optional[str]:
    intent = message.get(INTENT) or {}
    return intent.get(INTENT_NAME_KEY) if isinstance(intent, dict) else None
