"""The baton channel: mode sync, the webhook's reply, the state endpoint."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channel import (
    BadRequest,
    _json_body,
    as_customer_text,
    handle_state,
    handle_webhook,
    mode_events,
    nlu_of,
    shape_reply,
)
from tests.bot.builders import REPO_ROOT

HANDOFF = {"reason": "requested", "disruption": None, "context": {"summary": "..."}}
NO_NLU_KEYS = {"frustration": {"score": 0.0, "signals": []}, "disruption": {"type": None}}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "bot" / "domain"))


class FakeProcessor:
    """The parts of Rasa's MessageProcessor the channel uses."""

    def __init__(self, store: InMemoryTrackerStore) -> None:
        self.store = store

    async def fetch_tracker_with_initial_session(
        self, sender: str, output_channel: Any = None, metadata: Any = None
    ) -> DialogueStateTracker:
        tracker = await self.store.get_or_create_tracker(sender, append_action_listen=False)
        if not tracker.events:
            for event in (
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
            ):
                tracker.update(event)
            await self.store.save(tracker)
        return tracker


class FakeAgent:
    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.tracker_store = InMemoryTrackerStore(domain)
        self.lock_store = InMemoryLockStore()
        self.processor = FakeProcessor(self.tracker_store)


def scripted_bot(agent: FakeAgent, intent: str, handoff: bool = False) -> Any:
    """Stands in for Agent.handle_message: logs the message, answers unless paused."""

    async def on_new_message(message: UserMessage) -> None:
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        assert tracker is not None
        tracker.update(
            UserUttered(
                message.text,
                parse_data={
                    "intent": {"name": intent, "confidence": 0.9},
                    "intent_ranking": [{"name": intent, "confidence": 0.9}],
                    "entities": [],
                },
            )
        )
        if not tracker.is_paused():
            await message.output_channel.send_text_message(message.sender_id, f"answer to {intent}")
            if handoff:
                await message.output_channel.send_custom_json(
                    message.sender_id, {"handoff": HANDOFF}
                )
                tracker.update(ConversationPaused())
        await agent.tracker_store.save(tracker)

    return on_new_message


@pytest.mark.parametrize(
    ("paused", "mode", "events"),
    [
        (False, "human", [ConversationPaused()]),
        (
            True,
            "bot",
            [ConversationResumed(), SlotSet("agent_helped", True), ActionExecuted("action_listen")],
        ),
        (False, "bot", []),
        (True, "human", []),
    ],
)
def test_mode_events(paused: bool, mode: str, events: List[Any]) -> None:
    assert mode_events(paused, mode) == events


def test_nlu_defaults_when_the_pipeline_sets_no_frustration_or_disruption() -> None:
    parse_data = {
        "intent": {"name": "check_in", "confidence": 0.93},
        "intent_ranking": [{"name": "check_in", "confidence": 0.93, "id": 1}],
        "entities": [
            {"entity": "booking_reference", "value": "ABC123", "start": 0, "end": 6,
             "extractor": "RegexEntityExtractor"}
        ],
    }

    assert nlu_of(parse_data) == {
        "intent": {"name": "check_in", "confidence": 0.93},
        "intent_ranking": [{"name": "check_in", "confidence": 0.93}],
        "entities": [{"entity": "booking_reference", "value": "ABC123", "start": 0, "end": 6}],
        **NO_NLU_KEYS,
    }


def test_nlu_passes_frustration_and_disruption_through() -> None:
    parse_data = {
        "intent": {"name": "flight_status", "confidence": 0.5},
        "frustration": {"score": 0.8, "signals": ["shouting"]},
        "disruption": {"type": "delayed"},
    }

    nlu = nlu_of(parse_data)

    assert nlu["frustration"] == {"score": 0.8, "signals": ["shouting"]}
    assert nlu["disruption"] == {"type": "delayed"}


def test_shape_reply_moves_the_handoff_out_of_the_messages() -> None:
    collected = [
        {"recipient_id": "c1", "text": "A colleague is coming."},
        {"recipient_id": "c1", "custom": {"handoff": HANDOFF}},
    ]

    reply = shape_reply(collected, {}, True)

    assert reply == {
        "messages": [{"text": "A colleague is coming.", "buttons": []}],
        "nlu": {"intent": {"name": None, "confidence": None}, "intent_ranking": [],
                "entities": [], **NO_NLU_KEYS},
        "paused": True,
        "handoff": HANDOFF,
    }


def test_shape_reply_keeps_buttons() -> None:
    collected = [
        {"recipient_id": "c1", "text": "Hi!",
         "buttons": [{"title": "Check-in", "payload": "/check_in", "type": "postback"}]}
    ]

    assert shape_reply(collected, {}, False)["messages"] == [
        {"text": "Hi!", "buttons": [{"title": "Check-in", "payload": "/check_in"}]}
    ]


async def test_bot_mode_answers(domain: Domain) -> None:
    agent = FakeAgent(domain)
    body = {"sender": "c1", "message": "how do i check in", "mode": "bot"}

    reply = await handle_webhook(agent, body, scripted_bot(agent, "check_in"), "baton")  # type: ignore[arg-type]

    assert reply["messages"] == [{"text": "answer to check_in", "buttons": []}]
    assert reply["nlu"]["intent"] == {"name": "check_in", "confidence": 0.9}
    assert reply["paused"] is False
    assert reply["handoff"] is None


async def test_handoff_turn_returns_the_handoff_and_paused(domain: Domain) -> None:
    agent = FakeAgent(domain)
    body = {"sender": "c1", "message": "agent please", "mode": "bot"}

    reply = await handle_webhook(
        agent, body, scripted_bot(agent, "human_handoff", handoff=True), "baton"  # type: ignore[arg-type]
    )

    assert reply["messages"] == [{"text": "answer to human_handoff", "buttons": []}]
    assert reply["handoff"] == HANDOFF
    assert reply["paused"] is True


async def test_human_mode_pauses_and_the_bot_stays_silent(domain: Domain) -> None:
    agent = FakeAgent(domain)
    body = {"sender": "c1", "message": "hello?", "mode": "human"}

    reply = await handle_webhook(agent, body, scripted_bot(agent, "greet"), "baton")  # type: ignore[arg-type]

    assert reply["messages"] == []
    assert reply["paused"] is True
    assert reply["nlu"]["intent"]["name"] == "greet"


async def test_state_resumes_and_remembers_the_agent_helped(domain: Domain) -> None:
    agent = FakeAgent(domain)
    await handle_state(agent, {"sender": "c1", "mode": "human"})  # type: ignore[arg-type]

    assert await handle_state(agent, {"sender": "c1", "mode": "bot"}) == {"paused": False}  # type: ignore[arg-type]

    tracker = await agent.tracker_store.retrieve("c1")
    assert tracker is not None
    assert tracker.get_slot("agent_helped") is True
    assert tracker.latest_action_name == "action_listen"


@pytest.mark.parametrize(("mode", "paused"), [("human", True), ("bot", False)])
async def test_state_is_idempotent(domain: Domain, mode: str, paused: bool) -> None:
    agent = FakeAgent(domain)
    body = {"sender": "c1", "mode": mode}

    first = await handle_state(agent, body)  # type: ignore[arg-type]
    second = await handle_state(agent, body)  # type: ignore[arg-type]

    assert first == second == {"paused": paused}
    tracker = await agent.tracker_store.retrieve("c1")
    assert tracker is not None
    assert sum(isinstance(event, ConversationPaused) for event in tracker.events) == int(paused)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"message": "hi"},
        {"sender": "", "message": "hi"},
        {"sender": "c1", "message": "hi", "mode": "agent"},
    ],
)
def test_json_body_rejects_what_the_contract_does_not_allow(body: Optional[Dict[str, Any]]) -> None:
    with pytest.raises(BadRequest):
        _json_body(SimpleNamespace(json=body))  # type: ignore[arg-type]


async def test_webhook_needs_a_text_message(domain: Domain) -> None:
    agent = FakeAgent(domain)
    with pytest.raises(BadRequest):
        await handle_webhook(agent, {"sender": "c1"}, scripted_bot(agent, "greet"), "baton")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "mode", "expected"),
    [
        ("/restart", "human", "restart"),
        (" //human_handoff", "human", "human_handoff"),
        ("/restart", "bot", "/restart"),
        ("/check_in", "bot", "/check_in"),
        ("is 2/3 ok", "human", "is 2/3 ok"),
    ],
)
def test_no_commands_reach_rasa_while_a_person_has_the_conversation(
    text: str, mode: str, expected: str
) -> None:
    assert as_customer_text(text, mode) == expected
