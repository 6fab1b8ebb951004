"""DisruptionDetector: the Rasa component that runs the rules (rules.py), falls back on an
embedding classifier trained on the written prototypes, and lets a handled disruption go."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.disruption.rules import choose_type, handled_reason, only_hypothetical, rule_matches
from bot.nlu.encoder import SentenceEncoderFeaturizer, sentence_embeddings
from bot.nlu.linear import LinearModel
from bot.nlu.minilm import shared_encoder

logger = logging.getLogger(__name__)

EXAMPLES_FILE = Path(__file__).parent.parent / "data" / "disruption_examples.yml"
DISRUPTION = "disruption"


def load_examples(path: Path = EXAMPLES_FILE) -> Dict[str, List[str]]:
    with path.open(encoding="utf-8") as f:
        return {kind: list(texts) for kind, texts in yaml.safe_load(f).items()}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class DisruptionDetector(GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "examples_file": None,  # None: the prototypes in bot/nlu/data
            "C": 2.0,
            # the embedding classifier alone names a type only above this probability
            "embedding_threshold": 0.5,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearModel] = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DisruptionDetector":
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """The prototypes are not a Rasa training input: their content joins the fingerprint so
        that Rasa's cache retrains the detector when they change."""
        path = Path(config["examples_file"]) if config.get("examples_file") else EXAMPLES_FILE
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

    def train(self, training_data: TrainingData) -> Resource:
        path = Path(self.config["examples_file"]) if self.config["examples_file"] else EXAMPLES_FILE
        examples = load_examples(path)
        texts = [text for kind in examples for text in examples[kind]]
        labels = [kind for kind in examples for _ in examples[kind]]
        self.model = LinearModel.fit(shared_encoder().encode(texts), labels, C=self.config["C"])
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory, "disruption")
        return self._resource

    def detect(self, text: str, embedding: Optional[np.ndarray]) -> Dict[str, Any]:
        matches = rule_matches(text)
        kind = choose_type(matches)
        result: Dict[str, Any] = {"type": kind, "source": "rules" if kind else None, "evidence": [m for _, m in matches]}
        if kind is None and self.model is not None and embedding is not None and not only_hypothetical(text):
            row = self.model.predict_proba(embedding[None, :])[0]
            best = int(np.argmax(row))
            if self.model.classes[best] != "none" and row[best] >= self.config["embedding_threshold"]:
                result.update(type=self.model.classes[best], source="embedding", confidence=round(float(row[best]), 4))
        reason = handled_reason(text) if result["type"] is not None else None
        if reason is not None:
            handled = {"type": result["type"], "source": result["source"], "reason": reason}
            result.update(type=None, source=None, handled=handled)
        return result

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        for message, embedding in zip(with_text, sentence_embeddings(with_text)):
            message.set(DISRUPTION, self.detect(message.get(TEXT), embedding), add_to_output=True)
        return messages

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "DisruptionDetector":
        try:
            with model_storage.read_from(resource) as directory:
                return cls(config, model_storage, resource, LinearModel.load(directory, "disruption"))
        except ValueError:
            logger.warning("No trained DisruptionDetector found; using the rules only.")
            return cls(config, model_storage, resource)
