"""Booking references, flight numbers, dates and places, with their exact spans."""

from __future__ import annotations

from typing import List, Tuple

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entities import TravelEntityExtractor, extract


def triples(text: str) -> List[Tuple[str, str, str]]:
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in extract(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my booking ref is abc123", [("booking_reference", "ABC123", "abc123")]),
        ("Q7XK2P", [("booking_reference", "Q7XK2P", "Q7XK2P")]),
        ("PNR: KEVOLT please", [("booking_reference", "KEVOLT", "KEVOLT")]),
        ("confirmation number is k8p2zq", [("booking_reference", "K8P2ZQ", "k8p2zq")]),
        ("PLEASE help me", []),
        ("I booked a seat", []),
        ("UA 123", [("flight_number", "UA123", "UA 123")]),
        ("on BA2490 to Paris", [("flight_number", "BA2490", "BA2490"), ("place", "Paris", "Paris")]),
        ("flight 1234 is late", [("flight_number", "1234", "1234")]),
        ("flt #293 from JFK", [("flight_number", "293", "293"), ("place", "JFK", "JFK")]),
        ("tomorrow", [("date", "tomorrow", "tomorrow")]),
        ("next Friday", [("date", "next friday", "next Friday")]),
        ("on March 3", [("date", "march 3", "March 3")]),
        ("on 3/14", [("date", "3/14", "3/14")]),
        ("the 5th of June", [("date", "5th of june", "5th of June")]),
        ("from new york to london", [("place", "New York", "new york"), ("place", "London", "london")]),
        ("NYC to LAX", [("place", "New York", "NYC"), ("place", "LAX", "LAX")]),
        ("fly to sfo", [("place", "SFO", "sfo")]),
        ("i sat on the plane", []),
        ("a mad rush", []),
        (
            "Booking ABC123, flight UA 123 from Denver on March 3",
            [
                ("booking_reference", "ABC123", "ABC123"),
                ("flight_number", "UA123", "UA 123"),
                ("place", "Denver", "Denver"),
                ("date", "march 3", "March 3"),
            ],
        ),
    ],
)
def test_extract(text: str, expected: List[Tuple[str, str, str]]) -> None:
    assert triples(text) == expected


def test_component_appends_rasa_entities() -> None:
    message = Message(data={"text": "ref ABC123 tomorrow", "entities": [{"entity": "other", "value": "x", "start": 0, "end": 1}]})
    TravelEntityExtractor().process([message])
    assert message.get("entities") == [
        {"entity": "other", "value": "x", "start": 0, "end": 1},
        {"entity": "booking_reference", "value": "ABC123", "start": 4, "end": 10, "confidence_entity": 1.0, "extractor": "TravelEntityExtractor"},
        {"entity": "date", "value": "tomorrow", "start": 11, "end": 19, "confidence_entity": 1.0, "extractor": "TravelEntityExtractor"},
    ]
