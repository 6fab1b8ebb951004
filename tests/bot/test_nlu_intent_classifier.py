"""The intent classifier trains, persists through model storage, loads and predicts."""

from __future__ import annotations

from typing import List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder import ENCODER_ALIAS, LOWER_LAYER_ALIAS, SentenceEncoderFeaturizer, sentence_embedding
from bot.nlu.intent_classifier import SentenceIntentClassifier

EXAMPLES = {
    "check_in": ["how do i check in online", "when does online check in open", "can i check in on the app", "check in for my flight"],
    "baggage_allowance": ["how many bags can i bring", "what is the baggage allowance", "how heavy can my suitcase be", "is a checked bag included"],
    "greet": ["hi", "hello there", "good morning", "hey"],
}


def messages() -> List[Message]:
    return [Message(data={"text": t, "intent": intent}) for intent, texts in EXAMPLES.items() for t in texts]


@pytest.fixture(scope="module")
def context() -> ExecutionContext:
    return ExecutionContext(graph_schema=None, node_name="node")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def featurizer(context: ExecutionContext) -> SentenceEncoderFeaturizer:
    return SentenceEncoderFeaturizer.create(SentenceEncoderFeaturizer.get_default_config(), None, None, context)  # type: ignore[arg-type]


def test_featurizer_adds_the_sentence_vector_and_the_lower_layer_vector(featurizer: SentenceEncoderFeaturizer) -> None:
    message = Message(data={"text": "hello"})
    featurizer.process([message])
    sequence, sentence = message.get_dense_features("text", featurizers=[ENCODER_ALIAS])
    assert sequence is None
    assert sentence is not None and sentence.features.shape == (1, 384)
    np.testing.assert_allclose(sentence_embedding(message), sentence.features[0])
    _, lower = message.get_dense_features("text", featurizers=[LOWER_LAYER_ALIAS])
    assert lower is not None and lower.features.shape == (1, 384)
    # computed on the spot, without the featurizer, the same vectors
    bare = Message(data={"text": "hello"})
    np.testing.assert_allclose(sentence_embedding(bare), sentence.features[0], atol=1e-6)
    np.testing.assert_allclose(sentence_embedding(bare, LOWER_LAYER_ALIAS), lower.features[0], atol=1e-6)


def test_featurizer_skips_messages_without_text(featurizer: SentenceEncoderFeaturizer) -> None:
    message = Message(data={"intent": "greet"})
    featurizer.process([message])
    assert message.features == []


@pytest.mark.parametrize("char_ngrams", [True, False])
@pytest.mark.parametrize(
    "text, intent",
    [("how do I do the online check-in", "check_in"), ("what's the bag allowance", "baggage_allowance"), ("hiya", "greet")],
)
def test_train_persist_load_predict(
    tmp_path_factory: pytest.TempPathFactory, context: ExecutionContext, featurizer: SentenceEncoderFeaturizer,
    char_ngrams: bool, text: str, intent: str,
) -> None:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("intent")
    config = {**SentenceIntentClassifier.get_default_config(), "char_ngrams": char_ngrams}
    training = TrainingData(training_examples=messages())
    featurizer.process_training_data(training)
    SentenceIntentClassifier.create(config, storage, resource, context).train(training)
    classifier = SentenceIntentClassifier.load(config, storage, resource, context)

    message = Message(data={"text": text})
    featurizer.process([message])
    classifier.process([message])
    assert message.get("intent")["name"] == intent
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == intent
    assert sorted(r["name"] for r in ranking) == sorted(EXAMPLES)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
