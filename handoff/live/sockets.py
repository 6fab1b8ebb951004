"""The registry of open WebSockets: widgets by conversation, and agents' consoles.

Everything the gateway sends on a socket goes through `SocketRegistry.send`, which queues
it; at the end of the loop's turn the queue leaves through aiohttp's
`WebSocketResponse.send_frame`, in order. A socket whose client reads slowly gets a task
of its own that waits for it, so it holds up no other socket; one that falls behind by
more than `MAX_UNSENT` is closed rather than buffered without bound: its client
reconnects and resumes from its last seq (widget) or event id (console).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import Callable, Collection
from typing import Any

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from handoff import keys

log = logging.getLogger(__name__)
# Events are handoff.shapes Structs (or replayed dicts); msgspec encodes both.
_encode = msgspec.json.Encoder().encode

MAX_UNSENT = 4 * 1024 * 1024
# Close code for a console whose session expired or was revoked (the console signs in).
SESSION_ENDED = 4401
# Close code for a widget whose conversation was deleted (widget.js forgets it).
CONVERSATION_GONE = 4404
# How long a socket that is being closed may take to read what was queued for it.
CLOSE_WAIT_SECONDS = 10.0


class _Backlog:
    """What waits for a slow socket, and its size."""

    def __init__(self) -> None:
        self.payloads: deque[bytes] = deque()
        self.size = 0

    def extend(self, payloads: list[bytes]) -> None:
        self.payloads.extend(payloads)
        self.size += sum(map(len, payloads))


class SocketRegistry:
    def __init__(self) -> None:
        self.conversations: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.agents: dict[web.WebSocketResponse, int] = {}
        # An agent's consoles, and which conversation each console has open (watches).
        self._consoles_of: defaultdict[int, set[web.WebSocketResponse]] = defaultdict(set)
        self._watching: dict[web.WebSocketResponse, str] = {}
        self._watchers: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._session_of: dict[web.WebSocketResponse, str] = {}
        # Each socket's connection: how much it has not sent yet tells a slow client.
        self._transports: dict[web.WebSocketResponse, asyncio.Transport | None] = {}
        self._outbox: dict[web.WebSocketResponse, list[bytes]] = {}
        self._flushing: asyncio.Task[None] | None = None
        # Slow sockets: what waits for each, and the task that sends it when it can.
        self._backlogs: dict[web.WebSocketResponse, _Backlog] = {}
        self._catching_up: dict[web.WebSocketResponse, asyncio.Task[None]] = {}
        self._closing: set[asyncio.Task[Any]] = set()
        # Agents connected to the other gateways, and who to tell when this one's change
        # (handoff.live.agents_elsewhere; with one gateway, nobody and nothing).
        self.elsewhere: frozenset[int] = frozenset()
        self.on_agents_changed: Callable[[], None] | None = None

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
        self._stop_catching_up(ws)
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
        newcomer = agent_id not in self._consoles_of
        self._consoles_of[agent_id].add(ws)
        if newcomer and self.on_agents_changed is not None:
            self.on_agents_changed()
        self._transports[ws] = transport
        if session is not None:
            self._session_of[ws] = session

    def end_session(self, session: str) -> None:
        """Closes the consoles of a session that was revoked: 4401, sign in again."""
        for ws in [ws for ws, s in self._session_of.items() if s == session]:
            self.close(ws, SESSION_ENDED, b"session ended")

    def end_conversation(self, conversation_id: str) -> None:
        """Closes a redacted conversation's widgets: 4404, and widget.js starts afresh."""
        for ws in list(self.conversations.get(conversation_id, ())):
            self.close(ws, CONVERSATION_GONE, b"conversation not found")

    def close(self, ws: web.WebSocketResponse, code: int, message: bytes) -> None:
        """Closes a socket after what is queued for it; its handler cleans up."""
        self._close_soon(ws, code, message, self._sent_then_closed(ws, code, message))

    async def _sent_then_closed(
        self, ws: web.WebSocketResponse, code: int, message: bytes
    ) -> None:
        payloads = self._outbox.pop(ws, None)
        if payloads:
            await self._send(ws, payloads)
        catching_up = self._catching_up.get(ws)
        if catching_up is not None:
            await asyncio.wait([catching_up], timeout=CLOSE_WAIT_SECONDS)
        await ws.close(code=code, message=message)

    def _close_soon(
        self,
        ws: web.WebSocketResponse,
        code: int,
        message: bytes,
        closing: Any = None,
    ) -> None:
        task = asyncio.ensure_future(closing or ws.close(code=code, message=message))
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
                if self.on_agents_changed is not None:
                    self.on_agents_changed()
        self._transports.pop(ws, None)
        self._stop_catching_up(ws)

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
        self._queue(ws, _encode(event))

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
            payload = _encode(event)
            for ws in targets:
                self._queue(ws, payload)

    def send_json_to_conversation(
        self, conversation_id: str, payload: bytes, skip: web.WebSocketResponse | None = None
    ) -> None:
        """send_to_conversation for an event already encoded (read from the fan-out)."""
        for ws in self.conversations.get(conversation_id, ()):
            if ws is not skip:
                self._queue(ws, payload)

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
            for ws in targets:
                self._queue(ws, payload)

    def hold(self, ws: web.WebSocketResponse) -> None:
        """Keeps what is sent to ws until release: a console's replay, read from Redis,
        must reach it before the live events that arrive meanwhile."""
        self._backlogs[ws] = _Backlog()

    def release(self, ws: web.WebSocketResponse, first: list[Any]) -> None:
        """Queues `first`, then what was held for ws since hold, in that order."""
        held = self._backlogs.pop(ws, None)
        payloads = [_encode(event) for event in first]
        if held is not None:
            payloads.extend(held.payloads)
        payloads.extend(self._outbox.pop(ws, ()))
        for payload in payloads:
            self._queue(ws, payload)

    def agents_online(self) -> int:
        """On any gateway."""
        if not self.elsewhere:
            return len(self._consoles_of)
        return len(self.elsewhere.union(self._consoles_of))

    def agent_connected(self, agent_id: int) -> bool:
        """To any gateway."""
        return agent_id in self._consoles_of or agent_id in self.elsewhere

    def local_agent_ids(self) -> Collection[int]:
        """The agents with a console open on this gateway."""
        return self._consoles_of.keys()

    def customer_connected(self, conversation_id: str) -> bool:
        return bool(self.conversations.get(conversation_id))

    def all_sockets(self) -> list[web.WebSocketResponse]:
        widgets = [ws for sockets in self.conversations.values() for ws in sockets]
        return widgets + list(self.agents)

    def _queue(self, ws: web.WebSocketResponse, payload: bytes) -> None:
        payloads = self._outbox.get(ws)
        if payloads is None:
            payloads = self._outbox[ws] = []
        payloads.append(payload)
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self.flush())

    async def flush(self) -> None:
        """Sends what is queued, each socket's events in order."""
        self._flushing = None
        outbox, self._outbox = self._outbox, {}
        for ws, payloads in outbox.items():
            await self._send(ws, payloads)

    async def _send(self, ws: web.WebSocketResponse, payloads: list[bytes]) -> None:
        transport = self._transports.get(ws)
        if transport is None or transport.is_closing() or ws.closed:
            # Gone: the client resumes from its last seq or event id when it is back.
            return
        backlog = self._backlogs.get(ws)
        if backlog is not None:  # slow: after what already waits for it
            backlog.extend(payloads)
            if backlog.size > MAX_UNSENT:
                self._give_up(ws)
            return
        high = transport.get_write_buffer_limits()[1]
        for at, payload in enumerate(payloads):
            if transport.get_write_buffer_size() + len(payload) > high:
                # This frame would pause the socket's writing, and send_frame would wait
                # for the client: the rest waits in a task of its own instead.
                self._catch_up_later(ws, payloads[at:])
                return
            try:
                await ws.send_frame(payload, WSMsgType.TEXT)  # does not wait: not paused
            except ConnectionResetError:
                return

    def _catch_up_later(self, ws: web.WebSocketResponse, payloads: list[bytes]) -> None:
        backlog = self._backlogs[ws] = _Backlog()
        backlog.extend(payloads)
        task = asyncio.get_running_loop().create_task(self._catch_up(ws, backlog))
        self._catching_up[ws] = task

    async def _catch_up(self, ws: web.WebSocketResponse, backlog: _Backlog) -> None:
        try:
            while backlog.payloads:
                payload = backlog.payloads.popleft()
                backlog.size -= len(payload)
                await ws.send_frame(payload, WSMsgType.TEXT)  # waits while the client is slow
        except ConnectionResetError:
            pass
        finally:
            if self._backlogs.get(ws) is backlog:
                del self._backlogs[ws]
                del self._catching_up[ws]

    def _stop_catching_up(self, ws: web.WebSocketResponse) -> None:
        self._backlogs.pop(ws, None)
        task = self._catching_up.pop(ws, None)
        if task is not None:
            task.cancel()

    def _give_up(self, ws: web.WebSocketResponse) -> None:
        log.warning("closing a socket that is %d bytes behind", MAX_UNSENT)
        self._transports.pop(ws, None)
        self._stop_catching_up(ws)
        self._close_soon(ws, WSCloseCode.TRY_AGAIN_LATER, b"too far behind")


async def close_all_sockets(app: web.Application) -> None:
    registry = app[keys.SOCKETS]
    await registry.flush()
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
          for ws in registry.all_sockets()),
        return_exceptions=True,
    )
