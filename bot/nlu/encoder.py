"""Dense sentence features from all-MiniLM-L6-v2 (run in numpy, see bot/nlu/minilm.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.minilm import shared_encoder

# The alias under which the features are stored; the other components ask for it by name.
ENCODER_ALIAS = "minilm"


def sentence_embedding(message: Message) -> np.ndarray:
    """The message's MiniLM sentence vector, computed on the spot if no featurizer ran."""
    _, sentence = message.get_dense_features(TEXT, featurizers=[ENCODER_ALIAS])
    if sentence is not None:
        return np.asarray(sentence.features[0], dtype=np.float32)
    return shared_encoder().encode([message.get(TEXT) or ""])[0]


def sentence_embeddings(messages: List[Message]) -> np.ndarray:
    if not messages:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([sentence_embedding(m) for m in messages])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-d sentence feature to every message that has text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: ENCODER_ALIAS}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to validate: the model ships with its package."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        return cls(execution_context.node_name, config)

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return
        vectors = shared_encoder().encode([m.get(TEXT) for m in with_text])
        for message, vector in zip(with_text, vectors):
            self.add_features_to_message(
                sequence=None, sentence=vector[None, :], attribute=TEXT, message=message
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
