"""Intent classifier: logistic regression on MiniLM sentence vectors and character n-grams.

The sentence vector carries meaning (it recognises paraphrases); the character n-grams carry
the exact words and typos that the vector smooths over. CLINC's `out_of_scope` examples are
one more class; Rasa's FallbackClassifier after this component turns low confidence into
`nlu_fallback`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.encoder import SentenceEncoderFeaturizer, sentence_embeddings
from bot.nlu.linear import LinearModel

logger = logging.getLogger(__name__)


def _vectorizer(ngram_range: List[int], vocabulary: Optional[Dict[str, int]] = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(ngram_range[0], ngram_range[1]),
        lowercase=True,
        sublinear_tf=True,
        min_df=2 if vocabulary is None else 1,
        vocabulary=vocabulary,
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceIntentClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 20.0,  # inverse regularisation of the logistic regression
            "char_ngrams": True,
            "char_ngram_range": [2, 5],
            "char_weight": 1.0,  # scales the tf-idf block against the unit sentence vector
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearModel] = None,
        vectorizer: Optional[TfidfVectorizer] = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.vectorizer = vectorizer

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceIntentClassifier":
        return cls(config, model_storage, resource)

    def _features(self, messages: List[Message]) -> csr_matrix:
        dense = csr_matrix(sentence_embeddings(messages))
        if self.vectorizer is None:
            return dense
        chars = self.vectorizer.transform([m.get(TEXT) or "" for m in messages])
        return hstack([dense, chars * self.config["char_weight"]]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning("SentenceIntentClassifier needs at least two intents; not trained.")
            return self._resource
        if self.config["char_ngrams"]:
            self.vectorizer = _vectorizer(self.config["char_ngram_range"])
            self.vectorizer.fit([m.get(TEXT) for m in examples])
        X = self._features(examples)
        self.model = LinearModel.fit(X, [m.get(INTENT) for m in examples], C=self.config["C"])
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        probabilities = self.model.predict_proba(self._features(with_text))
        for message, row in zip(with_text, probabilities):
            order = np.argsort(-row)[: self.config["ranking_length"] or len(row)]
            ranking = [{"name": self.model.classes[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        if self.model is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory, "intent")
            if self.vectorizer is not None:
                vocabulary = {k: int(v) for k, v in self.vectorizer.vocabulary_.items()}
                (directory / "char_vocabulary.json").write_text(json.dumps(vocabulary))
                np.save(directory / "char_idf.npy", self.vectorizer.idf_)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SentenceIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                model = LinearModel.load(directory, "intent")
                vectorizer = None
                if (directory / "char_vocabulary.json").exists():
                    vocabulary = json.loads((directory / "char_vocabulary.json").read_text())
                    vectorizer = _vectorizer(config["char_ngram_range"], vocabulary)
                    vectorizer.idf_ = np.load(directory / "char_idf.npy")
        except ValueError:
            logger.warning("No trained SentenceIntentClassifier found; it will predict nothing.")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, model, vectorizer)
