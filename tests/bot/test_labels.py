"""Every identifier the assistant can hand the console has a readable label (issue #15,
point 11): handoff/static/labels.json is the one mapping the console uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Set

import yaml

from bot.assessment import BOT_FAILED_TWICE, REPEATED_QUESTION, WORSENING_TREND
from bot.nlu.frustration.scorer import LENGTH, LOOKALIKES, POLARITY, TONE, WORDING
from bot.nlu.lexicon.disruption import TYPES
from bot.nlu.lexicon.frustration import LEXICON

ROOT = Path(__file__).resolve().parents[2]
# The operations feed's types (handoff.shapes.http.DisruptionType), which a known
# disruption's handoff carries too; this venv cannot import the gateway's shapes.
OPERATIONS_TYPES = {"cancelled", "delayed", "diverted", "schedule_change"}
LABELS: Dict[str, Dict[str, str]] = json.loads(
    (ROOT / "handoff" / "static" / "labels.json").read_text(encoding="utf-8")
)


def domain_intents() -> Set[str]:
    intents: Set[str] = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        for intent in yaml.safe_load(path.read_text(encoding="utf-8")).get("intents") or []:
            intents.add(intent if isinstance(intent, str) else next(iter(intent)))
    return intents


def test_every_intent_has_a_label() -> None:
    assert domain_intents() | {"nlu_fallback"} == set(LABELS["intents"])


def test_every_frustration_signal_has_a_label() -> None:
    signals = {name for name, _ in LEXICON} | {
        "shouting", "repeated_punctuation", "negative_sentiment",
        REPEATED_QUESTION, BOT_FAILED_TWICE, WORSENING_TREND,
    }
    assert signals == set(LABELS["signals"])


def test_every_driver_that_is_no_signal_has_a_label() -> None:
    assert {LENGTH, TONE, WORDING, LOOKALIKES, POLARITY} == set(LABELS["drivers"])


def test_every_disruption_and_reason_has_a_label() -> None:
    assert set(TYPES) | OPERATIONS_TYPES == set(LABELS["disruptions"])
    assert {"requested", "frustration", "disruption", "bot_failure", "bot_unavailable"} == set(
        LABELS["reasons"]
    )


def test_labels_are_words_not_identifiers() -> None:
    for table in ("intents", "signals", "drivers", "disruptions", "reasons"):
        for identifier, label in LABELS[table].items():
            assert "_" not in label and label[:1].isupper(), (table, identifier, label)
