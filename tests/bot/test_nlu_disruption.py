"""The disruption detector: what counts as a disrupted trip, and its type."""

from __future__ import annotations

from typing import Optional

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.disruption import (
    TYPES,
    DisruptionDetector,
    choose_type,
    load_examples,
    only_hypothetical,
    rule_matches,
)


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
        # indirect reports of the customer's own situation
        ("you cancel my flight and don't even send an email?", "cancelled"),
        ("no flights out until tomorrow afternoon", "cancelled"),
        ("my flight cncld, need a seat tonight", "cancelled"),
        ("stranded in Chicago overnight", "delayed"),
        ("stuck in Denver since this morning", "delayed"),
        ("still at the airport, 9 hours at ORD now", "delayed"),
        ("been sitting here for over two hours", "delayed"),
        ("the plane is not ready and we were meant to board at 6", "delayed"),
        ("flight 88 not leaving until 11pm now", "delayed"),
        ("was delayed 3 hours and nobody told us", "delayed"),
        ("is my flight still delayed? it's been 4 hours", "delayed"),
        ("is there a hotel voucher for my cancelled flight?", "cancelled"),
        ("my suitcase is in Miami and I'm in Boston", "lost_luggage"),
        ("I landed without my bag", "lost_luggage"),
        ("you misplaced my bag", "lost_luggage"),
        ("what's the status of my checked bag", "lost_luggage"),
        ("my bag missed the connection", "lost_luggage"),
        ("my flight was rescheduled to the next day", "schedule_change"),
        # what-if, how-to and status questions, and what is not the customer's flight
        ("is flight 220 delayed?", None),
        ("is my flight to Denver cancelled", None),
        ("will flights be cancelled tomorrow because of the snow?", None),
        ("are there any delays at JFK today", None),
        ("do you expect cancellations this weekend?", None),
        ("what's the cancelation fee", None),
        ("when is my flight supposed to land", None),
        ("what compensation do I get for a delay", None),
        ("I cancelled my hotel, can you help me find another", None),
        ("we cancelled our trip because my son got sick", None),
        ("despite the delay the crew was lovely", None),
        ("never been delayed with you before", None),
        ("no delays today, great job", None),
        ("I left my bag at home, can I still check in", None),
        ("my bag is in the overhead bin", None),
        ("what should I do if my bag is lost", None),
        ("how do I report a delayed bag", None),
        ("I've been on hold for two hours", None),
    ],
)
def test_rules(text: str, expected: Optional[str]) -> None:
    assert choose_type(rule_matches(text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what happens if my flight gets cancelled", True),
        ("is flight 12 delayed?", True),
        ("despite the delay the crew was lovely", True),
        ("my flight got cancelled", False),
        ("what time does my flight leave", False),
    ],
)
def test_only_hypothetical(text: str, expected: bool) -> None:
    assert only_hypothetical(text) is expected


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
        # the rules ruled these out: the embedding classifier must not bring them back
        ("what happens if my flight gets cancelled", None, None),
        ("is my flight to Denver cancelled", None, None),
        ("what should I do if my bag is lost", None, None),
        ("we cancelled our trip because my son got sick", None, None),
        ("the flight was on time", None, None),
    ],
)
def test_component_annotates_messages(trained: DisruptionDetector, text: str, kind: Optional[str], source: Optional[str]) -> None:
    message = Message(data={"text": text})
    trained.process([message])
    result = message.get("disruption")
    assert result["type"] == kind
    assert result["source"] == source
    assert "disruption" in message.as_dict(only_output_properties=True)
