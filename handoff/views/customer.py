"""The widget's API: a customer's own conversation, by its token."""

from __future__ import annotations

import json
import logging

from aiohttp import WSMsgType, web
from sqlalchemy import select

from .. import keys
from ..actions import do_create_conversation, do_customer_message
from ..auth import require_conversation
from ..events import message_event, status_event, typing_event
from ..models import Message
from ..serializers import message_dict
from ..validation import int_query, read_json, text_field
from .origins import check_origin

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.post("/api/conversations")
async def create_conversation(request: web.Request) -> web.Response:
    check_origin(request)
    conversation, token = await do_create_conversation(request.app)
    return web.json_response({"id": conversation.id, "token": token}, status=201)


@routes.post("/api/conversations/{id}/messages")
async def post_message(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    async with request.app[keys.DB].read() as db:
        await require_conversation(request, db, conversation_id)
    body = await read_json(request)
    max_chars = request.app[keys.SETTINGS].max_message_chars
    text = text_field(body, "text", max_chars=max_chars)
    payload = text_field(body, "payload", max_chars=200, required=False)
    client_message_id = text_field(body, "client_message_id", max_chars=64, required=False)
    assert text is not None
    result = await do_customer_message(
        request.app, conversation_id, text, payload=payload, client_message_id=client_message_id
    )
    return web.json_response(
        {"status": result.status, "messages": [message_dict(m) for m in result.messages]}
    )


@routes.get("/api/conversations/{id}")
async def get_conversation(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as db:
        conversation = await require_conversation(request, db, request.match_info["id"])
        agent = {"name": conversation.agent.name} if conversation.agent else None
        return web.json_response(
            {"id": conversation.id, "status": conversation.status, "agent": agent}
        )


async def _messages_after(request: web.Request, conversation_id: str, after: int) -> list[Message]:
    async with request.app[keys.DB].read() as db:
        return list(
            (
                await db.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation_id, Message.seq > after)
                    .order_by(Message.seq)
                )
            ).all()
        )


@routes.get("/api/conversations/{id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    after = int_query(request, "after", 0)
    async with request.app[keys.DB].read() as db:
        await require_conversation(request, db, conversation_id)
    messages = await _messages_after(request, conversation_id, after)
    return web.json_response({"messages": [message_dict(m) for m in messages]})


@routes.get("/api/conversations/{id}/ws")
async def widget_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    conversation_id = request.match_info["id"]
    after = int_query(request, "after", 0)
    async with request.app[keys.DB].read() as db:
        conversation = await require_conversation(
            request, db, conversation_id, token=request.query.get("token")
        )
        status, agent = conversation.status, conversation.agent
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    registry = request.app[keys.SOCKETS]
    # Register before reading the backlog: an event in between arrives twice at worst,
    # and the widget drops it by seq.
    registry.add_widget(conversation_id, ws)
    try:
        for message in await _messages_after(request, conversation_id, after):
            await ws.send_json(message_event(conversation_id, message_dict(message)))
        await ws.send_json(status_event(conversation_id, status, agent.name if agent else None))
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(frame.data)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("type") == "typing":
                await request.app[keys.PUBLISHER].to_agents(
                    typing_event(conversation_id, "customer", bool(data.get("typing")))
                )
    finally:
        registry.remove_widget(conversation_id, ws)
    return ws


