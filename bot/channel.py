"""The ``baton`` input channel: the gateway's one door into Rasa (docs/contract.md).

Every request says who has the conversation (``mode``); the channel first makes the
tracker agree (pause for a human, resume for the bot), then handles the message and
answers with the bot's messages, what the NLU understood, the paused flag and the handoff.
``/forget`` deletes conversations' trackers (the gateway's retention and erasure).
``/webhook``, ``/state`` and ``/forget`` need the internal secret (bot/internal_auth.py); the health
route stays open, it tells nothing but whether a model is loaded.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import rasa_speedups
from bot.conversation import disruption_of, frustration_of
from bot.forgetting import MAX_SENDERS, CannotForget, forget
from bot.internal_auth import SECRET_ENV, internal_secret, refusal
from bot.nlu.misses import MISS_VECTOR

# Every Rasa process of Baton loads this channel: two of Rasa's steps are set up once
# here instead of at every turn (bot/rasa_speedups.py).
rasa_speedups.install()

logger = logging.getLogger(__name__)

MODES = ("bot", "human")
AGENT_HELPED_SLOT = "agent_helped"
ENTITY_KEYS = ("entity", "value", "start", "end")
# A date's day (bot/nlu/dates.py), on date entities only.
RESOLVED = "resolved"


class BadRequest(ValueError):
    """The request body does not follow the contract."""


def mode_events(paused: bool, mode: Text) -> List[Event]:
    """The events that make a tracker's paused flag agree with who has the conversation."""
    if mode == "human" and not paused:
        return [ConversationPaused()]
    if mode == "bot" and paused:
        # A paused tracker logs messages without the bot's action_listen in between;
        # listening again makes the next message look like any other turn to the rules.
        return [
            ConversationResumed(),
            SlotSet(AGENT_HELPED_SLOT, True),
            ActionExecuted(ACTION_LISTEN_NAME),
        ]
    return []


def nlu_of(parse_data: Mapping[Text, Any]) -> Dict[Text, Any]:
    """What the NLU understood of the latest message, in the contract's shape."""
    intent = parse_data.get("intent") or {}
    return {
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
        "intent_ranking": [
            {"name": ranked.get("name"), "confidence": ranked.get("confidence")}
            for ranked in parse_data.get("intent_ranking") or []
        ],
        "entities": [
            {
                **{key: entity.get(key) for key in ENTITY_KEYS},
                **({RESOLVED: entity[RESOLVED]} if RESOLVED in entity else {}),
            }
            for entity in parse_data.get("entities") or []
        ],
        "frustration": frustration_of(parse_data),
        "disruption": disruption_of(parse_data),
        # Only on what the bot could not answer (bot/nlu/misses.py).
        **({MISS_VECTOR: parse_data[MISS_VECTOR]} if MISS_VECTOR in parse_data else {}),
    }


def shape_reply(
    collected: List[Dict[Text, Any]], parse_data: Mapping[Text, Any], paused: bool
) -> Dict[Text, Any]:
    """The webhook's answer; a ``{"handoff": ...}`` custom message moves to ``handoff``."""
    messages: List[Dict[Text, Any]] = []
    handoff: Optional[Dict[Text, Any]] = None
    for message in collected:
        custom = message.get("custom")
        if isinstance(custom, Mapping) and "handoff" in custom:
            handoff = custom["handoff"]
            continue
        shaped: Dict[Text, Any] = {
            "text": message.get("text"),
            "buttons": [
                {"title": button.get("title"), "payload": button.get("payload")}
                for button in message.get("buttons") or []
            ],
        }
        if custom is not None:
            shaped["custom"] = custom
        messages.append(shaped)
    return {"messages": messages, "nlu": nlu_of(parse_data), "paused": paused, "handoff": handoff}


def _json_body(request: Request) -> Dict[Text, Any]:
    try:
        body = request.json
    except Exception as error:  # Sanic raises its own InvalidUsage for broken JSON
        raise BadRequest("the body is not JSON") from error
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender:
        raise BadRequest("'sender' must be a non-empty string")
    mode = body.get("mode", "bot")
    if mode not in MODES:
        raise BadRequest("'mode' must be 'bot' or 'human'")
    return body


async def sync_mode(agent: Agent, sender: Text, mode: Text) -> DialogueStateTracker:
    """Pauses or resumes the tracker so that it agrees with ``mode``, and saves it."""
    assert agent.processor is not None
    async with agent.lock_store.lock(sender):
        tracker = await agent.processor.fetch_tracker_with_initial_session(
            sender, CollectingOutputChannel()
        )
        events = mode_events(tracker.is_paused(), mode)
        if events:
            for event in events:
                tracker.update(event, agent.domain)
            await agent.tracker_store.save(tracker)
    return tracker


def as_customer_text(text: Text, mode: Text) -> Text:
    """The message as Rasa should read it.

    While a person has the conversation, a leading "/" must not reach Rasa as a command:
    "/restart" would reset the tracker, unpause it and let the bot talk over the agent.
    """
    if mode == "human":
        return text.lstrip().lstrip("/")
    return text


async def handle_state(agent: Agent, body: Mapping[Text, Any]) -> Dict[Text, Any]:
    """``POST /state``: who has the conversation now, without a message."""
    tracker = await sync_mode(agent, body["sender"], body.get("mode", "bot"))
    return {"paused": tracker.is_paused()}


def senders_of(request: Request) -> List[Text]:
    """``/forget``'s body: ``{"senders": [conversation ids]}``."""
    try:
        body = request.json
    except Exception as error:  # Sanic raises its own InvalidUsage for broken JSON
        raise BadRequest("the body is not JSON") from error
    senders = body.get("senders") if isinstance(body, dict) else None
    if not isinstance(senders, list) or not all(
        isinstance(sender, str) and sender for sender in senders
    ):
        raise BadRequest("'senders' must be a list of non-empty strings")
    if len(senders) > MAX_SENDERS:
        raise BadRequest(f"at most {MAX_SENDERS} senders at once")
    return senders


async def handle_webhook(
    agent: Agent,
    body: Mapping[Text, Any],
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    input_channel: Text,
) -> Dict[Text, Any]:
    """``POST /webhook``: sync the mode, handle the message, read the tracker back."""
    text = body.get("message")
    if not isinstance(text, str):
        raise BadRequest("'message' must be a string")
    sender: Text = body["sender"]
    mode: Text = body.get("mode", "bot")
    metadata = body.get("metadata")
    await sync_mode(agent, sender, mode)
    collector = CollectingOutputChannel()
    await on_new_message(
        UserMessage(
            as_customer_text(text, mode),
            collector,
            sender,
            input_channel=input_channel,
            message_id=body.get("message_id"),
            metadata=metadata if isinstance(metadata, dict) else {},
        )
    )
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return shape_reply(collector.messages, {}, False)
    parse_data = tracker.latest_message.parse_data if tracker.latest_message else {}
    return shape_reply(collector.messages, parse_data, tracker.is_paused())


class BatonInput(InputChannel):
    """Input channel registered in credentials.yml as ``bot.channel.BatonInput``."""

    def __init__(self, secret: Optional[Text]) -> None:
        if not secret:
            logger.warning("%s is not set: the baton channel refuses every call", SECRET_ENV)
        self.secret = secret

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "BatonInput":
        """How ``rasa run`` builds the channel: it does not start without the secret."""
        secret = internal_secret()
        if secret is None:
            raise RasaException(f"{SECRET_ENV} is not set: the gateway could not reach Rasa")
        return cls(secret)

    @classmethod
    def name(cls) -> Text:
        return "baton"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint("baton_webhook", __name__)

        def ready_agent(request: Request) -> Optional[Agent]:
            agent: Optional[Agent] = getattr(request.app.ctx, "agent", None)
            return agent if agent is not None and agent.is_ready() else None

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if ready_agent(request) is None:
                return response.json({"status": "loading"}, status=503)
            return response.json({"status": "ok"})

        def guarded(
            handle: Callable[[Agent, Request], Awaitable[Dict[Text, Any]]]
        ) -> Callable[[Request], Awaitable[HTTPResponse]]:
            """The secret first, then a loaded model, then the handler; its BadRequest
            answers 400."""

            async def route(request: Request) -> HTTPResponse:
                refused = refusal(request, self.secret)
                if refused is not None:
                    return refused
                agent = ready_agent(request)
                if agent is None:
                    return response.json({"error": "no model loaded"}, status=503)
                try:
                    return response.json(await handle(agent, request))
                except BadRequest as error:
                    return response.json({"error": str(error)}, status=400)
                except CannotForget as error:
                    return response.json({"error": str(error)}, status=501)

            return route

        async def state(agent: Agent, request: Request) -> Dict[Text, Any]:
            return await handle_state(agent, _json_body(request))

        async def forget_trackers(agent: Agent, request: Request) -> Dict[Text, Any]:
            senders = senders_of(request)
            await forget(agent, senders)
            return {"forgotten": len(senders)}

        async def receive(agent: Agent, request: Request) -> Dict[Text, Any]:
            return await handle_webhook(agent, _json_body(request), on_new_message, self.name())

        webhook.add_route(guarded(state), "/state", methods=["POST"], name="state")
        webhook.add_route(guarded(forget_trackers), "/forget", methods=["POST"], name="forget")
        webhook.add_route(guarded(receive), "/webhook", methods=["POST"], name="receive")

        return webhook
