"""The frustration score's combination: one logit from the classifiers, the nearest examples,
the polarity, the signals and the cues, and the parts of it that drove the score."""

from __future__ import annotations

import math
from typing import Any, Dict, List

# The parts of the score's logit that are not named signals (drivers).
LENGTH = "message_length"  # the offset and the classifiers' bias, which grow with the words
TONE = "tone_classifier"  # the classifier on sentence vectors and n-grams
WORDING = "wording_classifier"  # the classifier on n-grams alone
LOOKALIKES = "similar_examples"  # closer to frustrated examples than to calm ones
POLARITY = "negative_polarity"  # VADER's lexicon polarity
# Parts that add less than this to the logit drive nothing worth telling an agent.
MIN_DRIVER = 0.25
MAX_DRIVERS = 3


def contributions(
    probability: float,
    signals: List[str],
    weights: Dict[str, float],
    bias: float,
    slope: float,
    words: int = 0,
    full_length: int = 0,
    offset: float = 0.0,
    polarity: float = 0.0,
    polarity_weight: float = 0.0,
    ngram_probability: float = 0.5,
    ngram_slope: float = 0.0,
    margin: float = 0.0,
    margin_weight: float = 0.0,
) -> Dict[str, float]:
    """The logit of ``combine`` in its parts, by name: the classifiers' (each against an
    undecided 0.5), the nearest-examples margin's, the polarity's, each fired signal's and
    cue's weight, and the rest (offset and bias), which grows with the message's length.

    A short message ("nope", "cancel my booking") gives the classifiers little to go on:
    below ``full_length`` words their part of the logit (bias and slopes) shrinks in
    proportion, so that only the named signals can make a short message frustrated.
    """
    share = min(1.0, words / full_length) if full_length > 0 else 1.0
    parts = {
        LENGTH: offset + share * bias,
        TONE: share * slope * _logit(probability),
        WORDING: share * ngram_slope * _logit(ngram_probability),
        LOOKALIKES: share * margin_weight * margin,
        POLARITY: polarity_weight * polarity,
    }
    for signal in signals:
        parts[signal] = parts.get(signal, 0.0) + weights.get(signal, 0.0)
    return parts


def combine(probability: float, signals: List[str], weights: Dict[str, float], bias: float,
            slope: float, **rest: Any) -> float:
    """Logistic combination of the classifiers' probabilities, the nearest-examples margin, the
    fired signals and the lexicon polarity (VADER's compound score, -1 negative .. +1 positive):
    the logistic of the sum of ``contributions``."""
    z = sum(contributions(probability, signals, weights, bias, slope, **rest).values())
    return 1.0 / (1.0 + math.exp(-z))


def drivers(parts: Dict[str, float]) -> List[Dict[str, Any]]:
    """What raised the score most: up to MAX_DRIVERS parts, largest first, each as
    ``{"name", "contribution"}`` (its share of the logit)."""
    raising = sorted(
        ((value, name) for name, value in parts.items() if value >= MIN_DRIVER), reverse=True
    )
    return [
        {"name": name, "contribution": round(value, 2)} for value, name in raising[:MAX_DRIVERS]
    ]


def _logit(probability: float) -> float:
    p = min(max(probability, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))

