"""What both detectors read: the `words` helper, the sarcasm pattern and VADER's polarity.

Frustration counts sarcasm as a signal; disruption takes it as thanks that are not meant.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Pattern


def words(*alternatives: str) -> Pattern[str]:
    """One case-insensitive pattern that matches any of ``alternatives`` at a word's start."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")", re.IGNORECASE)


# Praise words around a bad experience: "oh great, just perfect", "thanks for the delay".
SARCASM = re.compile(
    r"\boh (?:great|perfect|wonderful|joy|good|fantastic|lovely|brilliant)\b"
    r"|\bjust (?:perfect|great|lovely|wonderful|fantastic|brilliant)\b"
    r"|\bthank(?:s| you)(?: so much| a lot)? (?:for|4) (?:nothing|ruining|wasting|losing|leaving|stranding|"
    r"cancel\w*|delaying|making me|the (?:\d+|two|three|four|five|six)[ -]?(?:hour|hr|h\b|min)|"
    r"(?:the |another |an? )?(?:\d+ ?(?:hr|hour|minute|min)s? )?(?:delay|wait|cancel\w*|hassle|headache|runaround))"
    r"|(?:great|perfect|wonderful|fantastic|awesome|brilliant|lovely|nice|yay|woo+hoo)[,.!]* "
    r"(?:another|more|now|again|yet another)\b[^.!?]{0,30}(?:delay|cancel|wait|hour|lost|stuck|broken|problem)"
    r"|\b(?:love|loving|enjoy|enjoying|nothing like|nothing better than) (?:spending|sitting|waiting|being stuck|"
    r"being on hold|being ignored|the (?:delay|wait)|another delay)"
    r"|(?<!you )(?<!thanks )(?<!thx )\bso much for\b|\bwhat a (?:great|wonderful|fantastic|fun) (?:way|start) to"
    r"|\bway to go\b[^.!?]{0,40}(?:lost|delay|cancel|ruin)"
    r"|\b(?:great|nice|good) job (?:losing|ruining|delaying|cancel)"
    r"|\bthank(?:s| you) for the (?:lack of|zero|no\b|canned|useless|non-?answer)"
    r"|\bthank(?:s| you)(?: so much| a lot)? (?:for|4) (?:no\b|not\b|having|allowing|the (?:robotic|non|un\w+|"
    r"terrible|horrible|awful|poor|lousy|late|bad))|\(not\)|#not\b|\bno place (?:else )?i'?d rather"
    # thanks that are taken back at once: "thanks for the reply, but my bag is still missing"
    r"|\bthank(?:s| you)\b[^.!?]{0,20}\bbut\b(?! no thanks)",
    re.IGNORECASE,
)


def sarcastic(text: str) -> bool:
    """Whether ``text`` is sarcastic, read as rule_signals reads it (the `sarcasm` signal)."""
    return SARCASM.search(text.replace("’", "'").replace("‘", "'")) is not None


@lru_cache(maxsize=1)
def vader() -> Any:
    # VADER's lexicon (vaderSentiment, MIT licence) ships inside the package: nothing is downloaded.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def lexicon_polarity(text: str) -> float:
    """VADER's compound polarity of ``text``: -1 (negative) .. +1 (positive)."""
    return float(vader().polarity_scores(text)["compound"])
