"""FrustrationScorer: the Rasa component that trains the classifiers on the written examples,
stores them with the model, and scores each message (features.py, then scorer.py)."""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder import SentenceEncoderFeaturizer
from bot.nlu.frustration.features import (
    NearestExamples,
    classifier_features,
    message_vectors,
    text_vectors,
    wording,
)
from bot.nlu.frustration.scorer import contributions, drivers
from bot.nlu.lexicon.common import vader
from bot.nlu.lexicon.frustration import POSITIVE, QUESTION, REASSURED
from bot.nlu.linear import LinearModel
from bot.nlu.minilm import EMBEDDING_DIM
from bot.nlu.ngrams import NgramFeatures

logger = logging.getLogger(__name__)

EXAMPLES_FILE = Path(__file__).parent.parent / "data" / "frustration_examples.yml"
FRUSTRATION = "frustration"


def load_examples(path: Path = EXAMPLES_FILE) -> Dict[str, List[str]]:
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    examples = {"frustrated": list(data["frustrated"]), "calm": list(data["calm"])}
    for texts in examples.values():
        bad = [t for t in texts if not isinstance(t, str)]
        if bad:  # YAML reads "yes", "a: b" or "#tag" as something else: quote those lines
            raise ValueError(f"{path}: examples must be strings, found {bad!r}")
    return examples


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class FrustrationScorer(GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "examples_file": None,  # None: the hand-written examples in bot/nlu/data
            # NLU intents whose examples are frustrated too (not used as calm examples)
            "frustrated_intents": [],
            # how many NLU training examples (outside frustrated_intents) join the calm side:
            # a sample keeps the bot's own questions calm without drowning the written ones
            "nlu_calm_sample": 1000,
            "C": 3.0,
            # The combination below was fitted by a logistic regression on the development
            # tweets (tuning only: 18 numbers; the classifiers never see a tweet), with
            # scripts/fit_frustration.py at a specificity of 0.855.
            "bias": 2.55,
            "slope": 0.58,
            # times the logit of the n-gram-only classifier
            "ngram_slope": 0.14,
            # times the nearest-examples margin (mean cosine to the nearest_k frustrated examples
            # minus that to the nearest_k calm ones)
            "margin_weight": 3.24,
            "nearest_k": 5,
            # added to the logit whatever the length; puts the operating point at the policy's
            # threshold of 0.6
            "offset": -1.56,
            # times VADER's compound polarity (-1 .. +1), added to the logit
            "polarity_weight": -1.25,
            # messages shorter than this many words get a proportionally smaller classifier part
            "full_length": 12,
            # below this many words and without a lexical signal the score stays at most 0.5
            "min_words_without_signal": 5,
            # a signal's weight adds to the logit; negative_sentiment fires at p >= sentiment_threshold
            # (shouting and repeated punctuation are reported but add nothing: on their own they
            # were no evidence of frustration in the development tweets)
            "weights": {
                "angry_wording": 1.13,
                "sarcasm": 1.13,
                "shouting": 0.0,
                "repeated_punctuation": 0.0,
                "long_wait": 2.02,
                "threat_to_leave": 0.46,
                "unresolved_problem": 1.6,
                "disappointment": 1.02,
                "cannot_proceed": 1.48,
                "repeated_attempts": 0.65,
                "profanity": 0.95,
                POSITIVE: -0.78,
                QUESTION: -0.16,
                REASSURED: -1.61,
            },
            "sentiment_threshold": 0.5,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearModel] = None,
        ngrams: Optional[NgramFeatures] = None,
        ngram_model: Optional[LinearModel] = None,
        nearest: Optional[NearestExamples] = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.ngrams = ngrams
        # the same examples on the n-grams alone: a second opinion that weighs wording more
        self.ngram_model = ngram_model
        self.nearest = nearest

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FrustrationScorer":
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """The written examples are not a Rasa training input: their content joins the
        fingerprint so that Rasa's cache retrains the scorer when they change."""
        path = Path(config["examples_file"]) if config.get("examples_file") else EXAMPLES_FILE
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

    def train(self, training_data: TrainingData) -> Resource:
        path = Path(self.config["examples_file"]) if self.config["examples_file"] else EXAMPLES_FILE
        examples = load_examples(path)
        frustrated_intents = set(self.config["frustrated_intents"])
        nlu_calm = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT) not in frustrated_intents]
        sample = int(self.config["nlu_calm_sample"])
        if 0 <= sample < len(nlu_calm):
            chosen = np.random.RandomState(0).choice(len(nlu_calm), sample, replace=False)
            nlu_calm = [nlu_calm[i] for i in sorted(chosen)]
        nlu_frustrated = [m for m in training_data.intent_examples if m.get(INTENT) in frustrated_intents]
        vectors = np.vstack(
            [
                text_vectors(examples["frustrated"]),
                message_vectors(nlu_frustrated),
                text_vectors(examples["calm"]),
                message_vectors(nlu_calm),
            ]
        )
        texts = (
            examples["frustrated"]
            + [m.get(TEXT) for m in nlu_frustrated]
            + examples["calm"]
            + [m.get(TEXT) for m in nlu_calm]
        )
        self.ngrams = NgramFeatures().fit(texts)
        ngrams = self.ngrams.transform(texts)
        X = classifier_features(vectors, ngrams)
        n_frustrated = len(examples["frustrated"]) + len(nlu_frustrated)
        y = ["frustrated"] * n_frustrated + ["calm"] * (len(texts) - n_frustrated)
        self.model = LinearModel.fit(X, y, C=self.config["C"], class_weight="balanced")
        self.ngram_model = LinearModel.fit(ngrams, y, C=self.config["C"], class_weight="balanced")
        embeddings = vectors[:, :EMBEDDING_DIM]
        self.nearest = NearestExamples(
            embeddings[:n_frustrated], embeddings[n_frustrated:], int(self.config["nearest_k"])
        )
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory, "frustration")
            self.ngram_model.save(directory, "frustration_ngrams")
            self.nearest.save(directory, "frustration")
            self.ngrams.save(directory, "frustration")
        return self._resource

    @property
    def trained(self) -> bool:
        return None not in (self.model, self.ngrams, self.ngram_model, self.nearest)

    def evidence(self, texts: List[str], vectors: np.ndarray) -> np.ndarray:
        """Per text: the two classifiers' probabilities that it is frustrated (vectors and
        n-grams; n-grams alone) and its nearest-examples margin (all 0 untrained)."""
        if not self.trained or not texts:
            return np.zeros((len(texts), 3))
        assert self.model and self.ngrams and self.ngram_model and self.nearest
        ngrams = self.ngrams.transform(texts)
        joint = self.model.predict_proba(classifier_features(vectors, ngrams))
        alone = self.ngram_model.predict_proba(ngrams)
        return np.column_stack(
            [
                joint[:, self.model.classes.index("frustrated")],
                alone[:, self.ngram_model.classes.index("frustrated")],
                self.nearest.margin(vectors[:, :EMBEDDING_DIM]),
            ]
        )

    def score(self, text: str, vector: np.ndarray, evidence: Optional[np.ndarray] = None) -> Dict[str, Any]:
        said = wording(text)
        if evidence is None:
            evidence = self.evidence([text], vector[None, :])[0]
        probability, ngram_probability, margin = (float(e) for e in evidence)
        trained = self.trained
        parts = contributions(
            probability, said.cues, self.config["weights"], self.config["bias"], self.config["slope"],
            # untrained (lexicon only): no classifier part at all, as for an empty message
            words=said.words if trained else 0,
            full_length=int(self.config["full_length"]) if trained else 1,
            offset=self.config["offset"],
            polarity=said.polarity, polarity_weight=self.config["polarity_weight"],
            ngram_probability=ngram_probability, ngram_slope=self.config["ngram_slope"],
            margin=margin, margin_weight=self.config["margin_weight"],
        )
        score = 1.0 / (1.0 + math.exp(-sum(parts.values())))
        if not said.signals and said.words < int(self.config["min_words_without_signal"]):
            # "nope", "cancel my booking": too little to hand off on the classifier alone.
            score = min(score, 0.5)
        signals = list(said.signals)
        if probability >= self.config["sentiment_threshold"]:
            signals.append("negative_sentiment")
        # What drove the score, so an agent reads more than a number beside "no signals".
        return {"score": round(score, 4), "signals": signals, "drivers": drivers(parts)}

    def _annotate(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        texts = [m.get(TEXT) for m in with_text]
        vectors = message_vectors(with_text)
        for message, text, vector, evidence in zip(with_text, texts, vectors, self.evidence(texts, vectors)):
            score = self.score(text, vector, evidence)
            message.set(FRUSTRATION, score, add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # training examples need no score

    def process(self, messages: List[Message]) -> List[Message]:
        self._annotate(messages)
        return messages

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "FrustrationScorer":
        vader()  # load the lexicon now rather than on the first customer message
        try:
            with model_storage.read_from(resource) as directory:
                return cls(
                    config,
                    model_storage,
                    resource,
                    LinearModel.load(directory, "frustration"),
                    NgramFeatures.load(directory, "frustration"),
                    LinearModel.load(directory, "frustration_ngrams"),
                    NearestExamples.load(directory, "frustration"),
                )
        except (ValueError, FileNotFoundError):
            logger.warning("No trained FrustrationScorer found; scoring with the lexicon only.")
            return cls(config, model_storage, resource)
