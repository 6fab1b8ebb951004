"""The widget's API: a customer's own conversation, by its token."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import WSMsgType, web

from handoff import keys
from handoff.conversations.common import agent_holding, holder_of, place_event
from handoff.conversations.customer_side import do_customer_presence, do_leave_contact, do_rate
from handoff.conversations.customer_turns import do_create_conversation, do_customer_message
from handoff.conversations.identity import verified_identity
from handoff.access.auth import bearer_token, check_conversation_token
from handoff.web.contact import parse_contact
from handoff.web.errors import socket_answer
from handoff.live.events import ack_event, message_event, status_event, typing_event
from handoff.storage.models import STATUS_BOT, STATUS_WAITING, Message
from handoff.storage.queries import messages_after
from handoff.routing.queue import places
from handoff.web.ratelimit import throttle_conversation
from handoff.conversations.ratings import rating_prompt
from handoff.live.serializers import message_shape
from handoff.web.socket_auth import authenticate_first_frame, websocket_or_400
from handoff.routing.team import team_of
from handoff.shapes.events import SocketMessage, SocketTyping, WidgetFrame
from handoff.shapes.http import (
    AgentName,
    ContactIn,
    ConversationIn,
    ConversationOut,
    Created,
    CustomerMessageIn,
    Messages,
    RatingIn,
    RatingOut,
    Turn,
)
from handoff.web.answers import shaped
from handoff.web.validation import Refusal, Text, decode, decode_frame, int_query, read_body
from handoff.web.views.origins import check_origin

log = logging.getLogger(__name__)
# The largest frame a client may send: a message of BATON_MAX_MESSAGE_CHARS, escaped.
SOCKET_FRAME_LIMIT = 64 * 1024
routes = web.RouteTableDef()


@routes.post("/api/conversations")
async def create_conversation(request: web.Request) -> web.Response:
    check_origin(request)
    # No body (or no identity): anonymous, as before identities were signed.
    body = await read_body(
        request,
        ConversationIn,
        identity=Refusal(
            "'identity' must be an object with customer_id (1-128 characters) and, if "
            "given, name and email (texts or null) and bookings (at most 50 booking "
            "references), nothing else"
        ),
    ) if request.can_read_body else ConversationIn()
    identity = verified_identity(
        request.app[keys.SETTINGS].identity_secret, body.identity, body.identity_signature
    )
    conversation, token = await do_create_conversation(request.app, identity)
    return shaped(Created(id=conversation.id, token=token), status=201)


@routes.post("/api/conversations/{id}/messages")
async def post_message(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    await check_conversation_token(request, conversation_id)
    max_chars = request.app[keys.SETTINGS].max_message_chars
    body = await read_body(request, CustomerMessageIn, text=Text(max_chars))
    result = await do_customer_message(
        request.app, conversation_id, body.text, payload=body.payload,
        client_message_id=body.client_message_id,
    )
    return shaped(Turn(status=result.status, messages=[message_shape(m) for m in result.messages]))


@routes.get("/api/conversations/{id}")
async def get_conversation(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    await check_conversation_token(request, conversation_id)
    holder = await holder_of(request.app, conversation_id)
    agent = AgentName(name=holder.agent_name) if holder.agent_name else None
    # A rating asked for when an agent resolved stays open across reloads until given.
    rating = None
    if holder.status == STATUS_BOT:
        async with request.app[keys.DB].read() as db:
            rating = await rating_prompt(db, conversation_id)
    return shaped(
        ConversationOut(id=conversation_id, status=holder.status, agent=agent, rating=rating)
    )


async def _messages_after(request: web.Request, conversation_id: str, after: int) -> list[Message]:
    async with request.app[keys.DB].read() as db:
        return await messages_after(db, conversation_id, after)


@routes.get("/api/conversations/{id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    after = int_query(request, "after", 0)
    await check_conversation_token(request, conversation_id)
    messages = await _messages_after(request, conversation_id, after)
    return shaped(Messages(messages=[message_shape(m) for m in messages]))


@routes.get("/api/conversations/{id}/ws")
async def widget_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    conversation_id = request.match_info["id"]
    after = int_query(request, "after", 0)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=SOCKET_FRAME_LIMIT, compress=False)
    websocket_or_400(request, ws)
    token = bearer_token(request)
    if token is not None:
        await check_conversation_token(request, conversation_id, token=token)
    await ws.prepare(request)
    if token is None:
        # A browser's widget: the token comes in the first frame, never in the URL.
        async def check(candidate: str) -> str:
            await check_conversation_token(request, conversation_id, token=candidate)
            return candidate

        token = await authenticate_first_frame(
            ws, request.app[keys.SETTINGS].socket_auth_seconds, check, WidgetFrame
        )
        if token is None:
            return ws
    registry = request.app[keys.SOCKETS]
    # Register before reading the backlog: an event in between arrives twice at worst,
    # and the widget drops it by seq.
    first = not registry.customer_connected(conversation_id)
    registry.add_widget(conversation_id, ws, request.transport)
    try:
        if first:
            await do_customer_presence(request.app, conversation_id, online=True)
        for message in await _messages_after(request, conversation_id, after):
            registry.send(ws, message_event(conversation_id, message_shape(message)))
        # Read last, right before it is sent: a status read before the awaits above could
        # arrive after a newer one published meanwhile, and undo it in the widget.
        holder = await holder_of(request.app, conversation_id)
        registry.send(ws, status_event(conversation_id, holder.status, holder.agent_name))
        if holder.status == STATUS_WAITING:
            async with request.app[keys.DB].read() as db:
                place = (await places(db, registry.agents_online())).get(conversation_id)
            if place is not None:
                registry.send(ws, place_event(conversation_id, place, team_of(request.app)))
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            sent = decode_frame(frame.data, WidgetFrame)
            if isinstance(sent, SocketMessage) or _refused_message(sent):
                registry.send(
                    ws,
                    await _socket_message(request, conversation_id, token, frame.data, sent, ws),
                )
            elif isinstance(sent, SocketTyping):
                await request.app[keys.PUBLISHER].to_agents(
                    typing_event(conversation_id, "customer", sent.typing),
                    holder=await agent_holding(request.app, conversation_id),
                )
    finally:
        registry.remove_widget(conversation_id, ws)
        if not registry.customer_connected(conversation_id):
            # aiohttp cancels this handler once the connection is gone: record it apart.
            request.app[keys.TURN_LOCKS].spawn(
                do_customer_presence(request.app, conversation_id, online=False)
            )
    return ws


def _refused_message(sent: object) -> bool:
    """A message frame its shape refused: answered with what is wrong, as its POST is."""
    return isinstance(sent, dict) and sent.get("type") == "message"


async def _socket_message(
    request: web.Request,
    conversation_id: str,
    token: str,
    raw: str,
    sent: SocketMessage | dict[str, Any],
    ws: web.WebSocketResponse,
) -> dict[str, Any]:
    """A message sent over the widget's socket: the same turn as a POST, then its ack.

    The ack (or error) comes once the message is stored and its turn is over, and carries
    the stored message. In a bot turn the message and the replies have been pushed as
    events before it; in human mode this socket gets no event of its own message (the
    conversation's other sockets do), only the ack.
    """
    # As sent, untrimmed: the widget finds its message by it.
    sent_id = sent.client_message_id if isinstance(sent, SocketMessage) else sent.get(
        "client_message_id"
    )

    async def turn() -> dict[str, Any]:
        max_chars = request.app[keys.SETTINGS].max_message_chars
        message = decode(raw, SocketMessage, text=Text(max_chars))
        await throttle_conversation(request.app, token)
        result = await do_customer_message(
            request.app,
            conversation_id,
            message.text,
            payload=message.payload,
            client_message_id=message.client_message_id,
            sender_socket=ws,
        )
        return ack_event(sent_id, message_shape(result.messages[0]), result.status)

    return await socket_answer(sent_id, turn)


@routes.post("/api/conversations/{id}/contact")
async def leave_contact(request: web.Request) -> web.Response:
    """Nobody free: the customer leaves a way to reach them and a message."""
    conversation_id = request.match_info["id"]
    await check_conversation_token(request, conversation_id)
    max_chars = request.app[keys.SETTINGS].max_message_chars
    body = await read_body(request, ContactIn, message=Text(max_chars))
    contact, message = parse_contact(body)
    result = await do_leave_contact(request.app, conversation_id, contact, message)
    return shaped(Turn(status=result.status, messages=[message_shape(m) for m in result.messages]))


@routes.post("/api/conversations/{id}/rating")
async def rate(request: web.Request) -> web.Response:
    """One tap after an agent resolved: how satisfied was the customer (1-5)?"""
    conversation_id = request.match_info["id"]
    await check_conversation_token(request, conversation_id)
    body = await read_body(
        request, RatingIn, score=Refusal("'score' must be an integer from 1 to 5")
    )
    handoff = await do_rate(request.app, conversation_id, body.score, body.comment)
    return shaped(RatingOut(score=handoff.rating, comment=handoff.rating_comment))


