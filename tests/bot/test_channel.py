"""The baton channel: mode sync, the webhook's reply, the state endpoint, the secret."""

from __future__ import annotations

import socket
import uuid
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, AsyncContextManager, AsyncIterator, Callable, Dict, List, Optional

import aiohttp
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
from rasa.shared.exceptions import RasaException
from sanic import Sanic

from bot.channel import (
    BadRequest,
    BatonInput,
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
NO_NLU_KEYS = {"frustration": {"score": 0.0, "signals": [], "drivers": []}, "disruption": {"type": None}}


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

    def is_ready(self) -> bool:
        return True


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
        "frustration": {"score": 0.8, "signals": ["shouting"],
                        "drivers": [{"name": "tone_classifier", "contribution": 1.4}]},
        "disruption": {"type": "delayed"},
        "entities": [{"entity": "date", "value": "tomorrow", "start": 0, "end": 8,
                      "resolved": "2026-12-04", "extractor": "TravelEntityExtractor"}],
    }

    nlu = nlu_of(parse_data)

    assert nlu["frustration"] == {
        "score": 0.8, "signals": ["shouting"],
        "drivers": [{"name": "tone_classifier", "contribution": 1.4}],
    }
    # a date's day goes to the gateway with it
    assert nlu["entities"] == [
        {"entity": "date", "value": "tomorrow", "start": 0, "end": 8, "resolved": "2026-12-04"}
    ]
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


SECRET = "test-internal-secret"


@asynccontextmanager
async def served(agent: FakeAgent, secret: Optional[str]) -> AsyncIterator[str]:
    """The channel's blueprint over real HTTP on loopback, mounted as Rasa mounts it."""
    app = Sanic(f"baton_channel_{uuid.uuid4().hex}")  # Sanic refuses a name twice
    app.ctx.agent = agent
    app.blueprint(
        BatonInput(secret).blueprint(scripted_bot(agent, "check_in")), url_prefix="/webhooks/baton"
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.after_start()
    try:
        yield "http://127.0.0.1:%d/webhooks/baton" % sock.getsockname()[1]
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AsyncContextManager[str]]:
    # Sanic rewrites some of its own methods when an app starts; in test mode it keeps
    # the originals, so that more than one app can start in the same process.
    monkeypatch.setattr(Sanic, "test_mode", True)
    return served


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize(
    ("route", "body", "reply_if_allowed"),
    [
        ("webhook", {"sender": "c1", "message": "how do i check in", "mode": "bot"},
         {"messages": [{"text": "answer to check_in", "buttons": []}], "paused": False}),
        ("state", {"sender": "c1", "mode": "human"}, {"paused": True}),
    ],
)
@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer not-the-secret", 401),
        (SECRET, 401),  # the secret without its scheme
        (f"Bearer {SECRET}", 200),
    ],
)
async def test_webhook_and_state_need_the_internal_secret(
    domain: Domain,
    serve: Callable[..., AsyncContextManager[str]],
    http: aiohttp.ClientSession,
    route: str,
    body: Dict[str, Any],
    reply_if_allowed: Dict[str, Any],
    authorization: Optional[str],
    status: int,
) -> None:
    agent = FakeAgent(domain)
    headers = {"Authorization": authorization} if authorization else {}

    async with serve(agent, SECRET) as url:
        async with http.post(f"{url}/{route}", json=body, headers=headers) as response:
            reply = await response.json()

    assert response.status == status
    tracker = await agent.tracker_store.retrieve("c1")
    if status == 401:
        assert reply == {"error": "unauthorized"}
        assert tracker is None  # refused before anything reached Rasa's tracker
    else:
        assert {key: reply[key] for key in reply_if_allowed} == reply_if_allowed
        assert tracker is not None


async def test_health_needs_no_secret(
    domain: Domain, serve: Callable[..., AsyncContextManager[str]], http: aiohttp.ClientSession
) -> None:
    async with serve(FakeAgent(domain), SECRET) as url:
        async with http.get(f"{url}/") as response:
            assert (response.status, await response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer None", "Bearer null"])
async def test_a_channel_without_a_secret_refuses_every_call(
    domain: Domain,
    serve: Callable[..., AsyncContextManager[str]],
    http: aiohttp.ClientSession,
    authorization: Optional[str],
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    body = {"sender": "c1", "message": "hi", "mode": "bot"}

    async with serve(FakeAgent(domain), None) as url:
        async with http.post(f"{url}/webhook", json=body, headers=headers) as response:
            assert response.status == 401


def test_rasa_builds_the_channel_with_the_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BATON_INTERNAL_SECRET", " from-env ")

    assert BatonInput.from_credentials({}).secret == "from-env"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_rasa_does_not_start_the_channel_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, value: Optional[str]
) -> None:
    if value is None:
        monkeypatch.delenv("BATON_INTERNAL_SECRET", raising=False)
    else:
        monkeypatch.setenv("BATON_INTERNAL_SECRET", value)

    with pytest.raises(RasaException, match="BATON_INTERNAL_SECRET is not set"):
        BatonInput.from_credentials(None)
