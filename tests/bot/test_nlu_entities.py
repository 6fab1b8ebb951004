"""Booking references, flight numbers, dates, places and names, with their exact spans."""

from __future__ import annotations

import datetime as dt
from typing import List, Optional, Tuple

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


@pytest.mark.parametrize(
    "text, name",
    [
        ("my name is Anna Schmidt and my flight is late", "Anna Schmidt"),
        ("my name is anna schmidt", "Anna Schmidt"),
        ("Hi, my name's Tom, where is my bag", "Tom"),
        ("my name is Anna and I need help", "Anna"),
        ("I'm called O'Neill", "O'Neill"),
        ("my name is not important", None),
        ("my name is on the booking", None),
        ("I'm angry", None),
        ("call me back", None),
    ],
)
def test_customer_name(text: str, name: Optional[str]) -> None:
    names = [e["value"] for e in extract(text) if e["entity"] == "customer_name"]
    assert names == ([name] if name else [])


def test_dates_carry_the_day_they_mean() -> None:
    found = extract("booking ABC123 for tomorrow, back next Friday, or maybe 3/4", dt.date(2026, 12, 3))
    assert [(e["value"], e.get("resolved")) for e in found if e["entity"] == "date"] == [
        ("tomorrow", "2026-12-04"), ("next friday", "2026-12-11"), ("3/4", None),
    ]


def test_component_appends_rasa_entities() -> None:
    message = Message(data={
        "text": "ref ABC123 tomorrow",
        "entities": [{"entity": "other", "value": "x", "start": 0, "end": 1}],
        # the gateway's time of the message, in the company's zone: a Thursday
        "metadata": {"sent_at": "2026-12-03T23:30:00+01:00"},
    })
    TravelEntityExtractor().process([message])
    assert message.get("entities") == [
        {"entity": "other", "value": "x", "start": 0, "end": 1},
        {"entity": "booking_reference", "value": "ABC123", "start": 4, "end": 10, "confidence_entity": 1.0, "extractor": "TravelEntityExtractor"},
        {"entity": "date", "value": "tomorrow", "start": 11, "end": 19, "resolved": "2026-12-04", "confidence_entity": 1.0, "extractor": "TravelEntityExtractor"},
    ]
