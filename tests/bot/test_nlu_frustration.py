"""The frustration scorer: named lexical signals, the combination, and the trained component."""

from __future__ import annotations

import math
from typing import List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.frustration.component import FrustrationScorer, load_examples
from bot.nlu.frustration.features import word_count
from bot.nlu.frustration.scorer import LENGTH, POLARITY, TONE, combine, contributions, drivers
from bot.nlu.lexicon.common import lexicon_polarity
from bot.nlu.lexicon.frustration import calm_cues, rule_signals
from bot.nlu.linear import LinearModel
from bot.nlu.ngrams import NgramFeatures


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
        ("thanks for the reply, but my bag is still missing", ["sarcasm"]),
        ("thanks but no thanks", []),
        ("thanks for the canned reply", ["sarcasm", "unresolved_problem"]),
        ("it would be nice to get an answer", ["unresolved_problem"]),
        ("you're not helping", ["unresolved_problem"]),
        ("the agent was not very helpful", ["angry_wording"]),
        ("a 3 hour wait, that's crazy", ["angry_wording", "long_wait"]),
        ("#airlinefail", ["angry_wording"]),
        ("the food was inedible", ["disappointment"]),
        ("what a letdown", ["disappointment"]),
        ("unable to check in online", ["cannot_proceed"]),
        ("the site is not letting me pay", ["cannot_proceed"]),
        ("the website shows an error", ["cannot_proceed"]),
        ("I can't wait for my trip", []),
        ("I called three times already", ["repeated_attempts"]),
        ("this is my third email", ["repeated_attempts"]),
        ("thanks for having us sit on the runway", ["sarcasm"]),
        ("no place I'd rather be than this airport", ["sarcasm"]),
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
        ("great flight 👍", ["positive_wording"]),
        ("no worries, it happens", ["reassurance"]),
        ("not your fault at all, the storm was awful", ["reassurance"]),
        ("got it sorted, thanks", ["positive_wording", "reassurance"]),
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


def test_combine_adds_the_offset_and_the_weighted_polarity() -> None:
    score = combine(0.5, ["angry_wording"], {"angry_wording": 1.0}, bias=0.0, slope=1.0, offset=-2.0, polarity=-0.5, polarity_weight=-2.0)
    assert score == pytest.approx(1 / (1 + math.exp(-(-2.0 + 1.0 + 1.0))))


def test_combine_adds_the_ngram_classifier_logit() -> None:
    score = combine(0.5, [], {}, bias=0.0, slope=1.0, ngram_probability=0.8, ngram_slope=0.5, words=6, full_length=12)
    assert score == pytest.approx(1 / (1 + math.exp(-0.5 * 0.5 * math.log(0.8 / 0.2))))


def test_contributions_add_up_to_the_combined_logit() -> None:
    args = dict(words=12, full_length=12, offset=-1.5, polarity=-0.6, polarity_weight=-1.25)
    parts = contributions(0.9, ["long_wait", "plain_question"], {"long_wait": 2.0, "plain_question": -0.2},
                          bias=2.5, slope=0.5, **args)
    assert parts == pytest.approx({
        LENGTH: 1.0, TONE: 0.5 * math.log(9), "wording_classifier": 0.0, "similar_examples": 0.0,
        POLARITY: 0.75, "long_wait": 2.0, "plain_question": -0.2,
    })
    z = sum(parts.values())
    assert combine(0.9, ["long_wait", "plain_question"], {"long_wait": 2.0, "plain_question": -0.2},
                   bias=2.5, slope=0.5, **args) == pytest.approx(1 / (1 + math.exp(-z)))


def test_drivers_are_the_largest_raising_parts() -> None:
    parts = {LENGTH: 0.99, TONE: 1.3, "long_wait": 2.02, POLARITY: 0.3, "similar_examples": 0.1,
             "positive_wording": -0.78}
    assert drivers(parts) == [
        {"name": "long_wait", "contribution": 2.02},
        {"name": TONE, "contribution": 1.3},
        {"name": LENGTH, "contribution": 0.99},
    ]
    # parts that lower the score, or barely raise it, drive nothing
    assert drivers({TONE: -2.0, "similar_examples": 0.1}) == []


@pytest.mark.parametrize(
    "text, sign",
    [("this is terrible, i hate it", -1), ("thank you, the crew was wonderful", 1), ("flight UA 123 to JFK", 0)],
)
def test_lexicon_polarity(text: str, sign: int) -> None:
    polarity = lexicon_polarity(text)
    assert -1.0 <= polarity <= 1.0
    assert (polarity > 0) - (polarity < 0) == sign


def test_ngram_features_round_trip(tmp_path) -> None:
    texts = ["still no refund", "thanks for the help", "where is my bag"]
    features = NgramFeatures().fit(texts)
    X = features.transform(texts + ["a sentence never seen"])
    assert X.shape == (4, 2 * 2**16)
    # one L2-normalised block for word n-grams, one for character n-grams
    assert (X.multiply(X)).sum(axis=1).A1 == pytest.approx([2.0, 2.0, 2.0, 2.0], abs=1e-5)
    features.save(tmp_path, "f")
    again = NgramFeatures.load(tmp_path, "f").transform(texts)
    assert abs(again - X[:3]).max() == pytest.approx(0.0)


def test_fingerprint_follows_the_examples_file(tmp_path) -> None:
    path = tmp_path / "examples.yml"
    path.write_text("frustrated: [a]\ncalm: [b]\n")
    config = {**FrustrationScorer.get_default_config(), "examples_file": str(path)}
    before = FrustrationScorer.fingerprint_addon(config)
    path.write_text("frustrated: [a, c]\ncalm: [b]\n")
    assert FrustrationScorer.fingerprint_addon(config) != before
    assert FrustrationScorer.fingerprint_addon(FrustrationScorer.get_default_config())


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
        ("thanks for nothing, i've been waiting at the desk for an hour", True, "sarcasm"),
        ("my flight was delayed and nobody at the gate can tell us anything", True, "negative_sentiment"),
        ("can i bring my dog on the plane", False, None),
    ],
)
def test_component_scores_messages(trained: FrustrationScorer, text: str, frustrated: bool, signal: str) -> None:
    message = Message(data={"text": text})
    trained.process([message])
    result = message.get("frustration")
    assert set(result) == {"score", "signals", "drivers"}
    assert 0.0 <= result["score"] <= 1.0
    assert (result["score"] >= 0.6) is frustrated
    if signal:
        assert signal in result["signals"]
    else:
        assert result["signals"] == []
    if frustrated:
        # a high score always says what raised it
        assert result["drivers"], result
        contributions_given = [driver["contribution"] for driver in result["drivers"]]
        assert contributions_given == sorted(contributions_given, reverse=True)
    assert "frustration" in message.as_dict(only_output_properties=True)


def test_a_model_without_ngrams_scores_with_the_lexicon_only(tmp_path) -> None:
    """A model trained before the n-gram features loads, with a warning, as lexicon only."""
    storage = LocalModelStorage(tmp_path)
    resource = Resource("old_frustration")
    with storage.write_to(resource) as directory:
        LinearModel.fit(np.eye(2, 384), ["calm", "frustrated"], C=1.0).save(directory, "frustration")
    context = ExecutionContext(graph_schema=None, node_name="frustration")  # type: ignore[arg-type]
    scorer = FrustrationScorer.load(FrustrationScorer.get_default_config(), storage, resource, context)
    assert scorer.model is None
    angry, calm = Message(data={"text": "I've been on hold for three hours, this is ridiculous!!!"}), Message(
        data={"text": "can you tell me how to check in online for my flight tomorrow"}
    )
    scorer.process([angry, calm])
    assert angry.get("frustration")["score"] >= 0.6
    assert calm.get("frustration")["score"] < 0.3 and calm.get("frustration")["signals"] == []
