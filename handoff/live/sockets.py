"""The registry of open WebSockets: widgets by conversation, and agents' consoles.

Everything the gateway sends on a socket goes through `SocketRegistry.send`: the frames
for one socket that are sent during one turn of the event loop leave in one write. When
the writer commits a batch of messages, each console gets one write for all of them, not
one per message; in the relay that was the gateway's largest cost, a send() system
call per event and socket. A socket that falls behind by more than `MAX_UNSENT` is
closed rather than buffered without bound, or waited for: its client reconnects and
resumes from its last seq (widget) or event id (console).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import defaultdict
from collections.abc import Collection
from typing import Any

import msgspec
from aiohttp import WSCloseCode, web

from handoff import keys

log = logging.getLogger(__name__)
# Events are handoff.shapes Structs (or replayed dicts); msgspec encodes both.
_encode = msgspec.json.Encoder().encode

MAX_UNSENT = 4 * 1024 * 1024
# Close code for a console whose session expired or was revoked (the console signs in).
SESSION_ENDED = 4401


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked text frame (RFC 6455 5.2), as a server sends it."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload


class SocketRegistry:
    def __init__(self) -> None:
        self.conversations: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.agents: dict[web.WebSocketResponse, int] = {}
        # An agent's consoles, and which conversation each console has open (watches).
        self._consoles_of: defaultdict[int, set[web.WebSocketResponse]] = defaultdict(set)
        self._watching: dict[web.WebSocketResponse, str] = {}
        self._watchers: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._session_of: dict[web.WebSocketResponse, str] = {}
        # Each socket's connection, which the frames are written to.
        self._transports: dict[web.WebSocketResponse, asyncio.Transport | None] = {}
        self._outbox: dict[web.WebSocketResponse, list[bytes]] = {}
        self._flushing = False
        self._closing: set[asyncio.Task[Any]] = set()

    def add_widget(
        self,
        conversation_id: str,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
    ) -> None:
        self.conversations[conversation_id].add(ws)
        self._transports[ws] = transport

    def remove_widget(self, conversation_id: str, ws: web.WebSocketResponse) -> None:
        self._transports.pop(ws, None)
        sockets = self.conversations.get(conversation_id)
        if sockets is None:
            return
        sockets.discard(ws)
        if not sockets:
            del self.conversations[conversation_id]

    def add_agent(
        self,
        agent_id: int,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
        session: str | None = None,
    ) -> None:
        """A console; ``session`` is its session's token hash (logging out closes it)."""
        self.agents[ws] = agent_id
        self._consoles_of[agent_id].add(ws)
        self._transports[ws] = transport
        if session is not None:
            self._session_of[ws] = session

    def end_session(self, session: str) -> None:
        """Closes the consoles of a session that was revoked: 4401, sign in again."""
        for ws in [ws for ws, s in self._session_of.items() if s == session]:
            self.close(ws, SESSION_ENDED, b"session ended")

    def close(self, ws: web.WebSocketResponse, code: int, message: bytes) -> None:
        """Closes a socket after what is queued for it; its handler cleans up."""
        self.flush()
        self._close_soon(ws, code, message)

    def _close_soon(self, ws: web.WebSocketResponse, code: int, message: bytes) -> None:
        task = asyncio.ensure_future(ws.close(code=code, message=message))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def remove_agent(self, ws: web.WebSocketResponse) -> None:
        self.watch(ws, None)
        self._session_of.pop(ws, None)
        agent_id = self.agents.pop(ws, None)
        if agent_id is not None:
            consoles = self._consoles_of[agent_id]
            consoles.discard(ws)
            if not consoles:
                del self._consoles_of[agent_id]
        self._transports.pop(ws, None)

    def watch(self, ws: web.WebSocketResponse, conversation_id: str | None) -> None:
        """The conversation this console has open (None: none); it gets that one's events."""
        before = self._watching.pop(ws, None)
        if before is not None:
            watchers = self._watchers[before]
            watchers.discard(ws)
            if not watchers:
                del self._watchers[before]
        if conversation_id is not None and ws in self.agents:
            self._watching[ws] = conversation_id
            self._watchers[conversation_id].add(ws)

    def send(self, ws: web.WebSocketResponse, event: Any) -> None:
        """Queues an event for a registered socket; it leaves at the end of this turn."""
        self._queue(ws, text_frame(_encode(event)))

    async def send_to_conversation(
        self,
        conversation_id: str,
        event: Any,
        skip: web.WebSocketResponse | None = None,
    ) -> None:
        """To every widget socket of the conversation but `skip` (the one that sent it,
        which hears of its own message in its ack)."""
        targets = [ws for ws in self.conversations.get(conversation_id, ()) if ws is not skip]
        if targets:
            frame = text_frame(_encode(event))
            for ws in targets:
                self._queue(ws, frame)

    def send_json_to_agents(
        self, payload: bytes, conversation_id: str | None = None, holder: int | None = None
    ) -> None:
        """To every console; or, with a holder, to the holder's consoles and to those that
        have the conversation open.

        A conversation someone holds is that agent's business: with 50 agents, sending each
        of its messages to all 50 consoles was most of the relay's cost.
        """
        targets: Collection[web.WebSocketResponse] = self.agents
        if holder is not None:
            targets = self._consoles_of.get(holder, set())
            if conversation_id is not None:
                targets = targets | self._watchers.get(conversation_id, set())
        if targets:
            frame = text_frame(payload)
            for ws in targets:
                self._queue(ws, frame)

    def agents_online(self) -> int:
        return len(self._consoles_of)

    def agent_connected(self, agent_id: int) -> bool:
        return agent_id in self._consoles_of

    def customer_connected(self, conversation_id: str) -> bool:
        return bool(self.conversations.get(conversation_id))

    def all_sockets(self) -> list[web.WebSocketResponse]:
        widgets = [ws for sockets in self.conversations.values() for ws in sockets]
        return widgets + list(self.agents)

    def _queue(self, ws: web.WebSocketResponse, frame: bytes) -> None:
        frames = self._outbox.get(ws)
        if frames is None:
            frames = self._outbox[ws] = []
        frames.append(frame)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Writes what is queued, one write per socket."""
        self._flushing = False
        outbox, self._outbox = self._outbox, {}
        for ws, frames in outbox.items():
            transport = self._transports.get(ws)
            if transport is None or transport.is_closing() or ws.closed:
                # Gone: the client resumes from its last seq or event id when it is back.
                continue
            if transport.get_write_buffer_size() > MAX_UNSENT:
                self._give_up(ws)
                continue
            transport.write(b"".join(frames))

    def _give_up(self, ws: web.WebSocketResponse) -> None:
        log.warning("closing a socket that is %d bytes behind", MAX_UNSENT)
        self._transports.pop(ws, None)
        self._close_soon(ws, WSCloseCode.TRY_AGAIN_LATER, b"too far behind")


async def close_all_sockets(app: web.Application) -> None:
    registry = app[keys.SOCKETS]
    registry.flush()
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
          for ws in registry.all_sockets()),
        return_exceptions=True,
    )
