"""The frustration scorer: named lexical signals, the combination, and the trained component."""

from __future__ import annotations

import math
from typing import List

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.frustration import FrustrationScorer, calm_cues, combine, load_examples, rule_signals, word_count


@pytest.mark.parametrize(
    "text, signals",
    [
        ("how do i check in online", []),
        ("tell me a joke", []),
        ("your service is a joke", ["angry_wording"]),
        ("this is ridiculous", ["angry_wording"]),
        ("oh great, just perfect", ["sarcasm"]),
        ("thanks for nothing", ["sarcasm"]),
        ("thank you so much for your help", []),
        ("I've been on hold for 2 hours", ["long_wait"]),
        ("never flying with you again", ["threat_to_leave"]),
        ("what the hell", ["profanity"]),
        ("WHY IS NOBODY ANSWERING", ["shouting"]),
        ("where is my bag???", ["repeated_punctuation"]),
        ("I can't get through to anyone", ["unresolved_problem"]),
        ("flight UA 123 from JFK to LAX", []),
        ("I HAVE BEEN WAITING FOR HOURS!!!", ["long_wait", "shouting", "repeated_punctuation"]),
    ],
)
def test_rule_signals(text: str, signals: List[str]) -> None:
    assert rule_signals(text) == signals


@pytest.mark.parametrize(
    "text, cues",
    [
        ("thanks, that helped", ["positive_wording"]),
        ("where is my bag", ["plain_question"]),
        ("why is my bag not here", []),
        ("oh great, just perfect", []),
        ("how do I cancel? this is ridiculous", []),
    ],
)
def test_calm_cues(text: str, cues: List[str]) -> None:
    assert calm_cues(text, rule_signals(text)) == cues


@pytest.mark.parametrize(
    "probability, signals, expected",
    [
        (0.5, [], 0.5),
        (0.5, ["angry_wording"], 1 / (1 + math.exp(-2.0))),
        (0.5, ["angry_wording", "positive_wording"], 0.5),
        (0.0, [], 1 / (1 + math.exp(-math.log(1e-4 / (1 - 1e-4))))),
    ],
)
def test_combine(probability: float, signals: List[str], expected: float) -> None:
    weights = {"angry_wording": 2.0, "positive_wording": -2.0}
    assert combine(probability, signals, weights, bias=0.0, slope=1.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    "words, signals, expected",
    [
        (12, [], 1 / (1 + math.exp(-(1.0 + math.log(0.8 / 0.2))))),
        (3, [], 1 / (1 + math.exp(-0.25 * (1.0 + math.log(0.8 / 0.2))))),
        (3, ["angry_wording"], 1 / (1 + math.exp(-(0.25 * (1.0 + math.log(0.8 / 0.2)) + 2.0)))),
    ],
)
def test_combine_shrinks_the_classifier_part_of_short_messages(words: int, signals: List[str], expected: float) -> None:
    score = combine(0.8, signals, {"angry_wording": 2.0}, bias=1.0, slope=1.0, words=words, full_length=12)
    assert score == pytest.approx(expected)


@pytest.mark.parametrize("text, count", [("", 0), ("nope", 1), ("I've been on hold!!", 4), ("UA 123 to JFK", 4)])
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


def test_examples_are_strings() -> None:
    examples = load_examples()
    assert len(examples["frustrated"]) > 300 and len(examples["calm"]) > 300
    assert all(isinstance(t, str) for texts in examples.values() for t in texts)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> FrustrationScorer:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("frustration")
    context = ExecutionContext(graph_schema=None, node_name="frustration")  # type: ignore[arg-type]
    config = FrustrationScorer.get_default_config()
    scorer = FrustrationScorer.create(config, storage, resource, context)
    calm = [Message(data={"text": t, "intent": "check_in"}) for t in ("how do i check in", "when does check in open")]
    scorer.train(TrainingData(training_examples=calm))
    return FrustrationScorer.load(config, storage, resource, context)


@pytest.mark.parametrize(
    "text, frustrated, signal",
    [
        ("I've been on hold for three hours, this is ridiculous!!!", True, "long_wait"),
        ("you people are useless, never flying with you again", True, "threat_to_leave"),
        ("how do I check in online?", False, None),
        ("thank you so much, the crew was wonderful", False, None),
    ],
)
def test_component_scores_messages(trained: FrustrationScorer, text: str, frustrated: bool, signal: str) -> None:
    message = Message(data={"text": text})
    trained.process([message])
    result = message.get("frustration")
    assert set(result) == {"score", "signals"}
    assert 0.0 <= result["score"] <= 1.0
    assert (result["score"] >= 0.6) is frustrated
    if signal:
        assert signal in result["signals"]
    else:
        assert result["signals"] == []
    assert "frustration" in message.as_dict(only_output_properties=True)
