"""DisruptionDetector: the Rasa component that runs the rules (rules.py) and a classifier trained
on the written prototypes (the sentence vector and hashed n-grams), and lets a handled
disruption go. The classifier names a disruption the rules missed, and names the type of one
they found when it is sure of another."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
import yaml
from scipy import sparse
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
from bot.nlu.ngrams import NgramFeatures

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
            # the regularisation, chosen over 3-100 by 5-fold CV and the own set: with a few hundred
            # prototypes, less of it lets each type's rarer wording count
            "C": 30.0,
            # the n-grams' weight beside the sentence vector: both are L2-normalised blocks
            "ngram_weight": 1.0,
            # the classifier alone names a disruption only above this probability (chosen by
            # 5-fold cross-validation on the development tweets, scripts/crossval.py)
            "embedding_threshold": 0.35,
            # and overrules the rules' type when it gives another type at least this: more
            # likely than all the other classes together
            "type_override": 0.5,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearModel] = None,
        ngrams: Optional[NgramFeatures] = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.ngrams = ngrams

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
        self.ngrams = NgramFeatures().fit(texts)
        self.model = LinearModel.fit(self.features(texts, shared_encoder().encode(texts)), labels, C=self.config["C"])
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory, "disruption")
            self.ngrams.save(directory, "disruption")
        return self._resource

    def features(self, texts: List[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        assert self.ngrams is not None
        ngrams = self.ngrams.transform(texts) * float(self.config["ngram_weight"])
        return sparse.hstack([sparse.csr_matrix(embeddings), ngrams], format="csr")

    def probabilities(self, texts: List[str], embeddings: np.ndarray) -> Optional[np.ndarray]:
        """The classifier's probability of each class (``self.model.classes``) for each text."""
        if self.model is None or self.ngrams is None or not texts:
            return None
        return self.model.predict_proba(self.features(texts, embeddings))

    def detect(self, text: str, probabilities: Optional[np.ndarray]) -> Dict[str, Any]:
        matches = rule_matches(text)
        kind = choose_type(matches)
        result: Dict[str, Any] = {"type": kind, "source": "rules" if kind else None, "evidence": [m for _, m in matches]}
        if self.model is not None and probabilities is not None:
            best = int(np.argmax(probabilities))
            learned, confidence = self.model.classes[best], round(float(probabilities[best]), 4)
            if kind is None and learned != "none" and not only_hypothetical(text):
                if confidence >= self.config["embedding_threshold"]:
                    result.update(type=learned, source="embedding", confidence=confidence)
            elif kind is not None and learned not in ("none", kind) and confidence >= self.config["type_override"]:
                # the rules saw a disruption, the classifier knows its kind better: "landed after
                # my connection left" fires the delay words, but it is a missed connection
                result.update(type=learned, source="embedding", confidence=confidence, rule_type=kind)
        reason = handled_reason(text) if result["type"] is not None else None
        if reason is not None:
            handled = {"type": result["type"], "source": result["source"], "reason": reason}
            result.update(type=None, source=None, handled=handled)
        return result

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        texts = [m.get(TEXT) for m in with_text]
        probabilities = self.probabilities(texts, sentence_embeddings(with_text)) if with_text else None
        for index, message in enumerate(with_text):
            row = probabilities[index] if probabilities is not None else None
            message.set(DISRUPTION, self.detect(texts[index], row), add_to_output=True)
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
                return cls(
                    config, model_storage, resource, LinearModel.load(directory, "disruption"),
                    NgramFeatures.load(directory, "disruption"),
                )
        except (ValueError, FileNotFoundError):
            logger.warning("No trained DisruptionDetector found; using the rules only.")
            return cls(config, model_storage, resource)
