"""Extracts booking references, flight numbers, dates, places and the customer's name with
patterns and a gazetteer.

The entities are the ones the handoff context carries (bot/domain/core.yml): a colleague
should see them without asking the customer again. A date also carries the day it means
(``resolved``, ISO 8601, or null: bot/nlu/dates.py), counted from the message's
``metadata.sent_at``.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Set, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.dates import resolve_date, said_on

PLACES_FILE = Path(__file__).parent / "data" / "places.yml"

BOOKING_REFERENCE = "booking_reference"
FLIGHT_NUMBER = "flight_number"
DATE = "date"
PLACE = "place"
CUSTOMER_NAME = "customer_name"

_KEYWORD_REFERENCE = re.compile(
    r"\b(?:booking|reservation|reference|ref|pnr|confirmation|conf|record locator|locator|code)"
    r"(?:\s+(?:number|no\.?|code|#|is|was|ref|reference))*\s*[:#]?\s*([A-Za-z0-9]{6})\b",
    re.IGNORECASE,
)
_STANDALONE_REFERENCE = re.compile(r"\b(?=[A-Z0-9]{6}\b)(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{6}\b")
_FLIGHT_WORD = re.compile(r"\b(?:flight|flt|flight number|flight no\.?)\s*(?:number|no\.?)?\s*#?\s*(\d{1,4})\b", re.IGNORECASE)

_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
)
_DATE_PATTERNS: List[Pattern[str]] = [
    re.compile(r"\b(?:the )?day after tomorrow\b|\b(?:today|tonight|tomorrow|tmrw|tmr|yesterday)\b", re.IGNORECASE),
    re.compile(r"\b(?:next|this|last|coming)\s+(?:" + _WEEKDAY + r"|week(?:end)?|month|year)\b", re.IGNORECASE),
    re.compile(r"\b" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?\b", re.IGNORECASE),
    re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+\d{4})?\b", re.IGNORECASE),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"),
    re.compile(r"\b(?:on\s+)" + _WEEKDAY + r"\b", re.IGNORECASE),
]

# "my name is Anna Schmidt": the name, one or two words; a second word in lower case only
# when the first is too ("my name is anna schmidt") and it is not the sentence going on.
_NAME = re.compile(
    r"\b(?:my name is|my name's|my name:|name's|i am called|i'm called)\s+"
    r"([A-Za-z][A-Za-z'-]+)(?:\s+([A-Za-z][A-Za-z'-]+))?",
    re.IGNORECASE,
)
_NOT_NAMES = {
    "a", "about", "and", "as", "at", "but", "by", "for", "from", "here", "i", "in", "is", "it",
    "my", "not", "of", "on", "or", "please", "so", "the", "to", "under", "was", "with", "you",
}

# Airport codes that are also everyday words are recognised only in capitals.
_WORDLIKE_CODES = {
    "AUS", "BER", "BOG", "BOM", "BUD", "CAI", "DAL", "DEL", "DEN", "HAN", "HEL", "HOU", "LAS",
    "LIM", "LIN", "LIS", "MAD", "MAN", "MEL", "MEX", "MIA", "OAK", "PIT", "SAN", "SAT", "SEA",
    "SIN", "VIE", "ARN", "ATH", "CLE", "MCI", "OSL", "IST", "TPE", "SYD", "NCE", "KEF", "DUB",
}


class Gazetteer:
    def __init__(self, path: Path = PLACES_FILE) -> None:
        with path.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
        self.codes: Dict[str, str] = {}
        names: Dict[str, str] = {}
        for city, codes in data["cities"].items():
            names[city.lower()] = city
            for code in codes:
                self.codes[code] = code
        for alias, city in data["aliases"].items():
            names[alias.lower()] = city
        self.names = names
        self.airlines: Set[str] = set(data["airlines"])
        longest_first = sorted(names, key=len, reverse=True)
        self.name_pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in longest_first) + r")\b", re.IGNORECASE)
        self.code_pattern = re.compile(r"\b([A-Za-z]{3})\b")
        airline_codes = "|".join(sorted(self.airlines))
        self.flight_pattern = re.compile(r"\b(" + airline_codes + r")\s?-?(\d{1,4})\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer()


Span = Tuple[int, int]


def _free(span: Span, taken: List[Span]) -> bool:
    return all(span[1] <= start or span[0] >= end for start, end in taken)


def _name(match: "re.Match[str]") -> Optional[Tuple[str, int]]:
    """The name and where it ends, or None when the words are no name."""
    first, second = match.group(1), match.group(2)
    if first.lower() in _NOT_NAMES:
        return None
    words, end = [first], match.end(1)
    if second and second.lower() not in _NOT_NAMES and (second[0].isupper() or first.islower()):
        words, end = [first, second], match.end(2)
    return " ".join(word[:1].upper() + word[1:] for word in words), end


def extract(text: str, said: Optional[dt.date] = None) -> List[Dict[str, Any]]:
    """The entities in ``text``, sorted by position: value, start, end, entity (and a
    date's ``resolved`` day, counted from ``said``: today when not given)."""
    today = said or dt.date.today()
    places = gazetteer()
    found: List[Dict[str, Any]] = []
    taken: List[Span] = []

    def add(entity: str, value: str, start: int, end: int) -> None:
        if _free((start, end), taken):
            taken.append((start, end))
            found.append({"entity": entity, "value": value, "start": start, "end": end})

    for match in _KEYWORD_REFERENCE.finditer(text):
        candidate = match.group(1)
        # After a keyword a reference may be typed in lower case, but it is never a plain word.
        if any(c.isdigit() for c in candidate) or candidate.isupper():
            add(BOOKING_REFERENCE, candidate.upper(), match.start(1), match.end(1))
    for match in places.flight_pattern.finditer(text):
        airline, number = match.group(1), match.group(2)
        if airline.isupper() or airline.lower() in ("ua", "aa", "dl", "ba", "wn", "b6"):
            add(FLIGHT_NUMBER, f"{airline.upper()}{number}", match.start(), match.end())
    for match in _FLIGHT_WORD.finditer(text):
        add(FLIGHT_NUMBER, match.group(1), match.start(1), match.end(1))
    for match in _STANDALONE_REFERENCE.finditer(text):
        add(BOOKING_REFERENCE, match.group(0), match.start(), match.end())
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            value = re.sub(r"^on\s+", "", match.group(0), flags=re.IGNORECASE)
            add(DATE, value.lower(), match.end() - len(value), match.end())
    for found_date in found:
        if found_date["entity"] == DATE:
            day = resolve_date(found_date["value"], today)
            found_date["resolved"] = day.isoformat() if day else None
    for match in _NAME.finditer(text):
        name = _name(match)
        if name is not None:
            add(CUSTOMER_NAME, name[0], match.start(1), name[1])
    for match in places.name_pattern.finditer(text):
        add(PLACE, places.names[match.group(1).lower()], match.start(1), match.end(1))
    for match in places.code_pattern.finditer(text):
        code = match.group(1)
        if code.upper() in places.codes and (code.isupper() or code.upper() not in _WORDLIKE_CODES):
            add(PLACE, code.upper(), match.start(1), match.end(1))
    return sorted(found, key=lambda e: e["start"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class TravelEntityExtractor(GraphComponent, EntityExtractorMixin):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TravelEntityExtractor":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text: Optional[str] = message.get(TEXT)
            if not text:
                continue
            metadata = message.get("metadata") or {}
            said = said_on(metadata.get("sent_at") if isinstance(metadata, dict) else None)
            entities = self.add_extractor_name(
                [dict(entity, confidence_entity=1.0) for entity in extract(text, said)]
            )
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages
