"""The registry of open WebSockets: widgets by conversation, and agents' consoles."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiohttp import WSCloseCode, web

from . import keys

log = logging.getLogger(__name__)


class SocketRegistry:
    def __init__(self) -> None:
        self.conversations: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.agents: dict[web.WebSocketResponse, int] = {}

    def add_widget(self, conversation_id: str, ws: web.WebSocketResponse) -> None:
        self.conversations[conversation_id].add(ws)

    def remove_widget(self, conversation_id: str, ws: web.WebSocketResponse) -> None:
        sockets = self.conversations.get(conversation_id)
        if sockets is None:
            return
        sockets.discard(ws)
        if not sockets:
            del self.conversations[conversation_id]

    def add_agent(self, agent_id: int, ws: web.WebSocketResponse) -> None:
        self.agents[ws] = agent_id

    def remove_agent(self, ws: web.WebSocketResponse) -> None:
        self.agents.pop(ws, None)

    async def send_to_conversation(self, conversation_id: str, event: dict[str, Any]) -> None:
        await _send_all(list(self.conversations.get(conversation_id, ())), event)

    async def send_to_agents(self, event: dict[str, Any]) -> None:
        await _send_all(list(self.agents), event)

    def agents_online(self) -> int:
        return len(set(self.agents.values()))

    def agent_connected(self, agent_id: int) -> bool:
        return agent_id in self.agents.values()

    def customer_connected(self, conversation_id: str) -> bool:
        return bool(self.conversations.get(conversation_id))

    def all_sockets(self) -> list[web.WebSocketResponse]:
        widgets = [ws for sockets in self.conversations.values() for ws in sockets]
        return widgets + list(self.agents)


async def _send_all(sockets: Iterable[web.WebSocketResponse], event: dict[str, Any]) -> None:
    data = json.dumps(event)
    targets = [ws for ws in sockets if not ws.closed]
    if not targets:
        return
    results = await asyncio.gather(*(ws.send_str(data) for ws in targets), return_exceptions=True)
    for ws, result in zip(targets, results):
        if isinstance(result, Exception):
            # The socket's own handler notices the broken connection and unregisters it;
            # the client resumes from its last seq when it reconnects.
            log.info("dropping an event for a broken socket: %s", result)


async def close_all_sockets(app: web.Application) -> None:
    sockets = app[keys.SOCKETS].all_sockets()
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
        return_exceptions=True,
    )


async def setup_sockets(app: web.Application) -> AsyncIterator[None]:
    from .events import Publisher

    registry = SocketRegistry()
    app[keys.SOCKETS] = registry
    app[keys.PUBLISHER] = Publisher(registry)
    yield
