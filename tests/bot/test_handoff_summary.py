"""The handoff summary quotes what the customer wrote, never a button's payload."""

from __future__ import annotations

from actions.handoff_context import summarise
from bot.assessment import BOT_FAILURE, REQUESTED, Assessment
from bot.conversation import UserTurn


def test_a_button_press_is_not_quoted_as_the_last_message() -> None:
    turns = [
        UserTurn(text="my flight is tomorrow", intent="inform", confidence=0.4),
        UserTurn(text="/human_handoff", intent="human_handoff"),
    ]

    summary = summarise(REQUESTED, Assessment(reason=REQUESTED), turns, {})

    assert summary == (
        "The customer asked to talk to a person. Their last message: \"my flight is tomorrow\""
    )


def test_only_a_button_press_leaves_no_quote() -> None:
    turns = [UserTurn(text="/human_handoff", intent="human_handoff")]

    summary = summarise(REQUESTED, Assessment(reason=REQUESTED), turns, {})

    assert summary == "The customer asked to talk to a person."


def test_the_bot_failure_quotes_only_written_messages() -> None:
    turns = [
        UserTurn(text="/affirm", intent="affirm"),
        UserTurn(text="blorp the snorkel", intent="nlu_fallback", confidence=0.2),
    ]

    summary = summarise(BOT_FAILURE, Assessment(reason=BOT_FAILURE), turns, {})

    assert summary == (
        "The assistant did not understand the customer's last two messages. Their messages: "
        "\"blorp the snorkel\". No topic was identified."
    )
