"""Whether, and why, a conversation should go to a person now.

Shared by the handoff policy (which decides *that* the bot hands off) and
``action_handoff`` (which says *why*), so both always agree. The per-message scores come
from the NLU pipeline's parse data (``frustration``, ``disruption``); this module adds the
conversation-level picture: the same question again, the bot failing twice in a row, a
worsening trend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Dict, List, Optional, Sequence

from bot.conversation import UserTurn

FRUSTRATION_THRESHOLD = 0.6
# A rising score only counts once it is clearly above calm.
TREND_FLOOR = 0.4
TREND_MIN_RISE = 0.2
SIMILAR_TEXT_RATIO = 0.85
MIN_WORDS_FOR_REPEAT = 3
SAME_INTENT_RUN_FOR_REPEAT = 3

HANDOFF_INTENT = "human_handoff"
MISS_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
SMALL_TALK_INTENTS = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", HANDOFF_INTENT}
)

REQUESTED = "requested"
DISRUPTION = "disruption"
FRUSTRATION = "frustration"
BOT_FAILURE = "bot_failure"

REPEATED_QUESTION = "repeated_question"
BOT_FAILED_TWICE = "bot_failed_twice"
WORSENING_TREND = "worsening_trend"


@dataclass(frozen=True)
class Assessment:
    """The reason to hand off now (None: the bot carries on) and what it is based on."""

    reason: Optional[str]
    frustrated: bool = False
    disruption: Optional[str] = None
    frustration_score: float = 0.0
    frustration_signals: List[str] = field(default_factory=list)
    # What raised the latest message's score (bot.nlu.frustration.scorer.drivers).
    frustration_drivers: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def frustration(self) -> Dict[str, Any]:
        return {
            "score": self.frustration_score,
            "signals": list(self.frustration_signals),
            "drivers": [dict(driver) for driver in self.frustration_drivers],
        }


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def is_miss(turn: UserTurn) -> bool:
    return turn.intent in MISS_INTENTS


def is_topic(turn: UserTurn) -> bool:
    return turn.intent is not None and turn.intent not in MISS_INTENTS | SMALL_TALK_INTENTS


def repeats_earlier_question(turns: Sequence[UserTurn]) -> bool:
    """The latest message asks again what an earlier one (since the last resume) asked."""
    if not turns or is_miss(turns[-1]) or turns[-1].intent in SMALL_TALK_INTENTS:
        return False
    latest = _normalise(turns[-1].text)
    if len(latest.split()) >= MIN_WORDS_FOR_REPEAT:
        for earlier in turns[:-1]:
            if SequenceMatcher(None, latest, _normalise(earlier.text)).ratio() >= SIMILAR_TEXT_RATIO:
                return True
    run = turns[-SAME_INTENT_RUN_FOR_REPEAT:]
    return (
        len(run) == SAME_INTENT_RUN_FOR_REPEAT
        and is_topic(run[-1])
        and all(turn.intent == run[-1].intent for turn in run)
    )


def failed_twice(turns: Sequence[UserTurn]) -> bool:
    """The bot understood neither of the last two messages."""
    return len(turns) >= 2 and is_miss(turns[-1]) and is_miss(turns[-2])


def worsening(turns: Sequence[UserTurn]) -> bool:
    """The last three scores keep rising and end clearly above calm."""
    scores = [turn.frustration_score for turn in turns[-3:]]
    return (
        len(scores) == 3
        and scores[0] < scores[1] < scores[2]
        and scores[2] >= TREND_FLOOR
        and scores[2] - scores[0] >= TREND_MIN_RISE
    )


def assess(turns: Sequence[UserTurn], threshold: float = FRUSTRATION_THRESHOLD) -> Assessment:
    """Assesses the conversation after its latest customer message.

    ``turns`` are the customer's messages since the last resume, oldest first. Reasons in
    order of precedence: an explicit request, a disruption, frustration, the bot failing.
    """
    if not turns:
        return Assessment(reason=None)
    latest = turns[-1]

    conversation_signals = []
    if repeats_earlier_question(turns):
        conversation_signals.append(REPEATED_QUESTION)
    if worsening(turns):
        conversation_signals.append(WORSENING_TREND)
    bot_failed = failed_twice(turns)

    frustrated = latest.frustration_score >= threshold or bool(conversation_signals)
    signals = list(latest.frustration_signals) + conversation_signals
    if bot_failed:
        signals.append(BOT_FAILED_TWICE)
    score = latest.frustration_score
    if frustrated:
        # A conversation-level signal makes the customer at least as frustrated as the
        # threshold, whatever the last message alone scored.
        score = max(score, threshold)

    if latest.intent == HANDOFF_INTENT:
        reason: Optional[str] = REQUESTED
    elif latest.disruption:
        reason = DISRUPTION
    elif frustrated:
        reason = FRUSTRATION
    elif bot_failed:
        reason = BOT_FAILURE
    else:
        reason = None
    return Assessment(
        reason=reason,
        frustrated=frustrated,
        disruption=next((t.disruption for t in reversed(turns) if t.disruption), None),
        frustration_score=round(score, 3),
        frustration_signals=signals,
        frustration_drivers=list(latest.frustration_drivers),
    )
