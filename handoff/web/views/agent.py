"""The console's API: agents log in, see the queue, claim, reply and resolve."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import WSMsgType, web

from handoff import keys
from handoff.conversations.agent_side import do_agent_message, do_claim, do_resolve
from handoff.conversations.common import publish_queue
from handoff.access.auth import (
    SESSION_COOKIE,
    authenticate_agent,
    bearer_token,
    current_agent,
    open_session,
    require_agent,
    revoke_session,
    session_for_token,
    token_hash,
)
from handoff.http_errors import json_error
from handoff.web.errors import socket_answer
from handoff.live.events import (
    RESET_EVENT,
    Event,
    agent_ack_event,
    hello_event,
    typing_event,
    watching_event,
)
from handoff.conversations.history import history_state
from handoff.storage.models import Agent, AgentSession, Conversation, utcnow
from handoff.storage.queries import handoffs_of, identity_of, open_queue, transcript
from handoff.web.ratelimit import client_address, too_many
from handoff.live.serializers import (
    agent_ref,
    console_message_shape,
    customer_shape,
    handoff_shape,
    message_shape,
    queue_entry,
)
from handoff.web.socket_auth import authenticate_first_frame, websocket_or_400
from handoff.live.sockets import SESSION_ENDED
from handoff.shapes.events import ConsoleFrame, ConsoleSocketMessage, ConsoleSocketTyping, Watch
from handoff.shapes.http import (
    AgentAccount,
    AgentMessageIn,
    ConversationDetail,
    LoginIn,
    LoginOut,
    MessageOut,
    Ok,
    Queue,
    Resolved,
    ResolveIn,
)
from handoff.web.answers import shaped
from handoff.web.validation import Refusal, Text, decode, decode_frame, int_query, read_body
from handoff.web.views.console import agent_records
from handoff.web.views.origins import check_origin

routes = web.RouteTableDef()


@routes.post("/api/agent/login")
async def login(request: web.Request) -> web.Response:
    body = await read_body(request, LoginIn, password=Refusal("'password' is required"))
    email, password = body.email, body.password
    settings = request.app[keys.SETTINGS]
    throttle = request.app[keys.LIMITS].login
    # Slowed per account and per address, so neither guessing one password nor
    # spraying many accounts goes fast.
    attempt = (f"email:{email.lower()}", f"addr:{client_address(request)}")
    wait = await throttle.wait(*attempt)
    if wait:
        return too_many(wait, "too many failed logins; try again later")
    async with request.app[keys.DB].write() as db:
        agent = await authenticate_agent(db, email, password[:1024])
        if agent is None:
            await throttle.failed(*attempt)
            raise json_error(web.HTTPUnauthorized, "wrong e-mail or password")
        await throttle.succeeded(*attempt)
        token = await open_session(db, agent, settings.session_ttl_seconds)
        account = _account(agent)
    response = shaped(LoginOut(token=token, agent=account))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="Strict",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


@routes.post("/api/agent/logout")
async def logout(request: web.Request) -> web.Response:
    async with request.app[keys.DB].write() as db:
        await require_agent(request, db)
        token = bearer_token(request) or request.cookies.get(SESSION_COOKIE, "")
        await revoke_session(db, token)
    # Its consoles' sockets end too (4401): a revoked session hears nothing more.
    request.app[keys.SOCKETS].end_session(token_hash(token))
    response = shaped(Ok(ok=True))
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/api/agent/me")
async def me(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as db:
        return shaped(_account(await require_agent(request, db)))


def _account(agent: Agent) -> AgentAccount:
    return AgentAccount(id=agent.id, name=agent.name, email=agent.email, role=agent.role)


@routes.get("/api/agent/queue")
async def queue(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as db:
        await require_agent(request, db)
        rows = await open_queue(db)
        return shaped(Queue(conversations=[queue_entry(c) for c in rows]))


@routes.get("/api/agent/conversations/{id}")
async def conversation_detail(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as db:
        await require_agent(request, db)
        conversation = await db.get(Conversation, request.match_info["id"])
        if conversation is None:
            raise json_error(web.HTTPNotFound, "conversation not found")
        if conversation.redacted_at is not None:
            raise json_error(web.HTTPGone, f"this conversation's transcript was deleted on "
                             f"{conversation.redacted_at:%Y-%m-%d} ({conversation.redaction})")
        messages = await transcript(db, conversation.id)
        handoffs = await handoffs_of(db, conversation.id)
        latest = conversation.handoff or (handoffs[-1] if handoffs else None)
        return shaped(
            ConversationDetail(
                id=conversation.id,
                status=conversation.status,
                state=history_state(conversation, handoffs),
                agent=agent_ref(conversation.agent),
                handoff=handoff_shape(latest),
                handoffs=[handoff_shape(h) for h in handoffs],
                messages=[console_message_shape(m) for m in messages],
                **await agent_records(db, conversation.id),
                customer=customer_shape(await identity_of(db, conversation.id)),
            )
        )


@routes.post("/api/agent/conversations/{id}/claim")
async def claim(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    conversation = await do_claim(request.app, request.match_info["id"], agent)
    return shaped(queue_entry(conversation))


@routes.post("/api/agent/conversations/{id}/messages")
async def agent_message(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    max_chars = request.app[keys.SETTINGS].max_message_chars
    body = await read_body(request, AgentMessageIn, text=Text(max_chars))
    reply = await do_agent_message(
        request.app, request.match_info["id"], agent, body.text, body.client_message_id
    )
    return shaped(
        MessageOut(message=message_shape(reply.message)), status=201 if reply.created else 200
    )


@routes.post("/api/agent/conversations/{id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    body = await read_body(request, ResolveIn) if request.can_read_body else ResolveIn()
    conversation = await do_resolve(request.app, request.match_info["id"], agent, body.outcome)
    return shaped(Resolved(id=conversation.id, status=conversation.status))


@routes.get("/api/agent/ws")
async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    last_event_id = int_query(request, "last_event_id", -1)
    ws = web.WebSocketResponse(heartbeat=30, compress=False)
    websocket_or_400(request, ws)
    # Not the cookie: it is the browser's last login, and each console tab keeps its own.
    token = bearer_token(request)
    session = await _live_session(request, token) if token is not None else None
    await ws.prepare(request)
    if session is None:
        session = await authenticate_first_frame(
            ws,
            request.app[keys.SETTINGS].socket_auth_seconds,
            lambda candidate: _live_session(request, candidate),
            ConsoleFrame,
        )
        if session is None:
            return ws
    agent = session.agent
    registry = request.app[keys.SOCKETS]
    publisher = request.app[keys.PUBLISHER]
    newcomer = not registry.agent_connected(agent.id)
    registry.add_agent(agent.id, ws, request.transport, session=session.token_hash)
    request.app[keys.AGENT_GRACE].connected(agent.id)
    # The socket lives no longer than its session; logging out ends it sooner.
    expiry = asyncio.get_running_loop().call_later(
        max(0.0, (session.expires_at - utcnow()).total_seconds()),
        registry.close, ws, SESSION_ENDED, b"session expired",
    )
    try:
        hello = hello_event(agent.id, agent.name, publisher.last_event_id, publisher.epoch)
        if last_event_id >= 0:
            # Events published while the replay is read (from Redis) come after it.
            registry.hold(ws)
            missed = await publisher.agent_events_after(
                last_event_id, request.query.get("epoch"), agent.id
            )
            registry.release(ws, [hello, *(missed if missed is not None else [RESET_EVENT])])
        else:
            registry.send(ws, hello)
        if newcomer:
            # One more agent online shortens every waiting customer's estimate.
            request.app[keys.TURN_LOCKS].spawn(publish_queue(request.app))
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            sent = decode_frame(frame.data, ConsoleFrame)
            if isinstance(sent, ConsoleSocketTyping):
                await publisher.to_conversation(
                    sent.conversation_id,
                    typing_event(sent.conversation_id, "agent", sent.typing),
                )
            elif isinstance(sent, Watch):
                # The conversation this console shows: its events come here too.
                registry.watch(ws, sent.conversation_id)
                registry.send(ws, watching_event(sent.conversation_id))
            elif isinstance(sent, ConsoleSocketMessage) or (
                isinstance(sent, dict) and sent.get("type") == "message"
            ):
                # A message its shape refused is answered with what is wrong.
                registry.send(ws, await _socket_reply(request, agent, frame.data, sent))
    finally:
        expiry.cancel()
        registry.remove_agent(ws)
        request.app[keys.AGENT_GRACE].disconnected(agent.id)
    return ws


async def _live_session(request: web.Request, token: str) -> AgentSession:
    """The session (with its agent) behind a console socket's token, or 401."""
    async with request.app[keys.DB].read() as db:
        session = await session_for_token(db, token)
    if session is None:
        raise json_error(web.HTTPUnauthorized, "invalid or expired session")
    return session


async def _socket_reply(
    request: web.Request, agent: Agent, raw: str, sent: ConsoleSocketMessage | dict[str, Any]
) -> Event:
    """A reply sent on the console's socket: what a POST of it does, answered by an ack.

    The message goes out as a ``message`` event before its ack. An error answer is an
    HTTP error's body; 503 and a lost ack are retried with the same client_message_id.
    """
    # As sent, untrimmed: the console finds its reply by it.
    sent_id = sent.client_message_id if isinstance(sent, ConsoleSocketMessage) else sent.get(
        "client_message_id"
    )

    async def turn() -> Event:
        max_chars = request.app[keys.SETTINGS].max_message_chars
        message = decode(
            raw,
            ConsoleSocketMessage,
            conversation_id=Refusal("'conversation_id' is required"),
            text=Text(max_chars),
        )
        reply = await do_agent_message(
            request.app, message.conversation_id, agent, message.text, message.client_message_id
        )
        return agent_ack_event(sent_id, message.conversation_id, reply.message.seq)

    return await socket_answer(sent_id, turn)
