"""The disruption detector: what counts as a disrupted trip, and its type."""

from __future__ import annotations

from typing import Optional

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.disruption import TYPES, DisruptionDetector, choose_type, load_examples, rule_matches


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my flight got cancelled", "cancelled"),
        ("they canceled our flight to Denver", "cancelled"),
        ("flight UA 123 is delayed 3 hours", "delayed"),
        ("we've been sitting on the tarmac for an hour", "delayed"),
        ("I missed my connection in Frankfurt", "missed_connection"),
        ("delayed so I'll probably miss my connection", "delayed"),
        ("my flight was cancelled and I missed my connection", "cancelled"),
        ("you lost my luggage", "lost_luggage"),
        ("my bag didn't arrive", "lost_luggage"),
        ("my suitcase arrived broken", "damaged_luggage"),
        ("the wheel of my bag was ripped off", "damaged_luggage"),
        ("I was downgraded to economy", "downgraded"),
        ("there was a schedule change on my booking", "schedule_change"),
        ("you changed my flight time", "schedule_change"),
        ("how do I cancel my booking", None),
        ("I want to cancel my reservation", None),
        ("what happens if my flight is delayed", None),
        ("what is your cancellation policy", None),
        ("what if my bag gets lost", None),
        ("how much is a checked bag", None),
        ("thanks for the great flight", None),
    ],
)
def test_rules(text: str, expected: Optional[str]) -> None:
    assert choose_type(rule_matches(text)) == expected


def test_examples_cover_every_type() -> None:
    assert set(load_examples()) == set(TYPES) | {"none"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> DisruptionDetector:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("disruption")
    context = ExecutionContext(graph_schema=None, node_name="disruption")  # type: ignore[arg-type]
    config = DisruptionDetector.get_default_config()
    DisruptionDetector.create(config, storage, resource, context).train(TrainingData())
    return DisruptionDetector.load(config, storage, resource, context)


@pytest.mark.parametrize(
    "text, kind, source",
    [
        ("my flight got cancelled", "cancelled", "rules"),
        ("how do I cancel my booking", None, None),
        ("the bags from our flight never came off the plane", "lost_luggage", "rules"),
        ("what's the weather in Miami", None, None),
    ],
)
def test_component_annotates_messages(trained: DisruptionDetector, text: str, kind: Optional[str], source: Optional[str]) -> None:
    message = Message(data={"text": text})
    trained.process([message])
    result = message.get("disruption")
    assert result["type"] == kind
    assert result["source"] == source
    assert "disruption" in message.as_dict(only_output_properties=True)
