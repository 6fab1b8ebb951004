"""Dense sentence features from all-MiniLM-L6-v2 (run in numpy, see bot/nlu/minilm.py).

Every message gets its sentence vector (alias `minilm`, read by every NLU component) and,
from the same forward pass, the mean of its token states after a lower layer (alias
`minilm_lower_layer`, read by the frustration scorer only).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.minilm import EMBEDDING_DIM, shared_encoder

# The aliases under which the features are stored; the other components ask for them by name.
ENCODER_ALIAS = "minilm"
# The mean-pooled token states after a lower layer (bot/nlu/minilm.py LOWER_LAYER), for the
# frustration scorer; the other components read only the sentence vector.
LOWER_LAYER_ALIAS = "minilm_lower_layer"


def _stored(message: Message, alias: str) -> Optional[np.ndarray]:
    _, sentence = message.get_dense_features(TEXT, featurizers=[alias])
    return None if sentence is None else np.asarray(sentence.features[0], dtype=np.float32)


def sentence_embeddings(messages: List[Message], *aliases: str) -> np.ndarray:
    """Each message's vectors under `aliases` (default: the sentence vector), side by side:
    (n, 384 per alias). What no featurizer stored is computed, in one encoder pass for all."""
    aliases = aliases or (ENCODER_ALIAS,)
    rows = [[_stored(m, alias) for alias in aliases] for m in messages]
    missing = [i for i, row in enumerate(rows) if any(v is None for v in row)]
    if missing:
        final, lower = shared_encoder().encode_with_lower_layer([messages[i].get(TEXT) or "" for i in missing])
        computed = {ENCODER_ALIAS: final, LOWER_LAYER_ALIAS: lower}
        for n, i in enumerate(missing):
            rows[i] = [computed[alias][n] for alias in aliases]
    if not rows:
        return np.zeros((0, EMBEDDING_DIM * len(aliases)), dtype=np.float32)
    return np.array([np.concatenate(row) for row in rows], dtype=np.float32)


def sentence_embedding(message: Message, alias: str = ENCODER_ALIAS) -> np.ndarray:
    """The message's MiniLM sentence vector (or, with LOWER_LAYER_ALIAS, its lower-layer
    vector), computed on the spot if no featurizer ran."""
    return sentence_embeddings([message], alias)[0]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds two 384-d sentence features to every message that has text."""

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
        vectors, lower = shared_encoder().encode_with_lower_layer([m.get(TEXT) for m in with_text])
        for message, vector, lower_vector in zip(with_text, vectors, lower):
            self.add_features_to_message(
                sequence=None, sentence=vector[None, :], attribute=TEXT, message=message
            )
            message.add_features(
                Features(lower_vector[None, :], FEATURE_TYPE_SENTENCE, TEXT, LOWER_LAYER_ALIAS)
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
