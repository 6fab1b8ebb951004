"""The conversation-level picture shared by the handoff policy and action_handoff."""

from __future__ import annotations

from typing import List, Optional

import pytest

from bot.assessment import assess
from bot.conversation import UserTurn


def turn(
    text: str, intent: str, score: float = 0.0, disruption: Optional[str] = None
) -> UserTurn:
    return UserTurn(text=text, intent=intent, frustration_score=score, disruption=disruption)


@pytest.mark.parametrize(
    ("turns", "reason", "signals"),
    [
        pytest.param([], None, [], id="nothing-yet"),
        pytest.param([turn("how do i check in", "check_in")], None, [], id="a-question"),
        pytest.param(
            [turn("ok", "affirm"), turn("ok", "affirm")], None, [], id="small-talk-repeats"
        ),
        pytest.param(
            [turn("bag fees", "baggage_allowance"), turn("bag fees", "baggage_allowance")],
            None,
            [],
            id="too-short-to-count-as-the-same-question",
        ),
        pytest.param(
            [turn("what does a bag cost", "baggage_allowance"),
             turn("what does a bag cost?!", "baggage_allowance")],
            "frustration",
            ["repeated_question"],
            id="same-question-again",
        ),
        pytest.param(
            [turn("refund", "refund"), turn("money back", "refund"), turn("my refund", "refund")],
            "frustration",
            ["repeated_question"],
            id="same-topic-three-times-in-a-row",
        ),
        pytest.param(
            [turn("a", "refund", 0.1), turn("b", "refund", 0.3), turn("c", "check_in", 0.45)],
            "frustration",
            ["worsening_trend"],
            id="worsening-trend",
        ),
        pytest.param(
            [turn("a", "refund", 0.3), turn("b", "check_in", 0.35), turn("c", "seat_selection", 0.38)],
            None,
            [],
            id="rising-but-still-calm",
        ),
        pytest.param(
            [turn("sing", "out_of_scope"), turn("dance", "nlu_fallback")],
            "bot_failure",
            ["bot_failed_twice"],
            id="two-misses",
        ),
        pytest.param(
            [turn("sing", "out_of_scope"), turn("dance", "nlu_fallback", 0.7)],
            "frustration",
            ["bot_failed_twice"],
            id="frustration-before-bot-failure",
        ),
        pytest.param(
            [turn("my bag is gone", "lost_luggage", 0.9, "lost_luggage")],
            "disruption",
            [],
            id="disruption-before-frustration",
        ),
        pytest.param(
            [turn("agent", "human_handoff", 0.9, "delayed")],
            "requested",
            [],
            id="request-before-everything",
        ),
    ],
)
def test_reason(turns: List[UserTurn], reason: Optional[str], signals: List[str]) -> None:
    assessment = assess(turns)

    assert (assessment.reason, assessment.frustration_signals) == (reason, signals)


def test_conversation_signals_lift_the_score_to_the_threshold() -> None:
    turns = [turn("what does a bag cost", "baggage_allowance", 0.1)] * 2

    assert assess(turns, threshold=0.55).frustration_score == 0.55
