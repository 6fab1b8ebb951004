"""The Publisher, the one way events reach sockets, and the setup of both.

It lives apart from the event builders (handoff.live.events) so that the registry, the
builders and the publisher import in one direction only: sockets <- publisher -> events.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import orjson
from aiohttp import web

from handoff import keys
from handoff.live.events import Frame
from handoff.live.fanout import fanout
from handoff.live.sockets import SocketRegistry

_encode = msgspec.json.Encoder().encode


class Publisher:
    """Delivers events to the sockets of this process.

    Events to consoles carry an increasing ``id`` and the latest ones are kept, so a
    console that reconnects with ``last_event_id`` gets what it missed (or ``reset`` when
    that is no longer kept). An event about a conversation that an agent holds goes only
    to that agent's consoles and to consoles that have it open (``watch``); a console
    sees gaps in the ids, and resuming replays what was its own. Several gateway
    processes share a Redis stream behind this same interface instead
    (handoff.live.fanout.FanoutPublisher).
    """

    def __init__(self, sockets: SocketRegistry, keep: int = 2000) -> None:
        self._sockets = sockets
        self.epoch = secrets.token_hex(8)
        # (id, the holder it went to or None for all, the event as sent): kept as JSON,
        # which the garbage collector need not walk through at every message of a relay.
        self._recent: deque[tuple[int, int | None, bytes]] = deque(maxlen=keep)
        self._last_id = 0

    @property
    def last_event_id(self) -> int:
        return self._last_id

    async def to_conversation(
        self, conversation_id: str, event: Frame, skip: web.WebSocketResponse | None = None
    ) -> None:
        """To the conversation's widget sockets, all but `skip` (see SocketRegistry)."""
        await self._sockets.send_to_conversation(conversation_id, event, skip)

    async def to_agents(self, event: Frame, *, holder: int | None = None) -> None:
        """To every console, or (holder given) to the holder's and the watchers' consoles."""
        self._last_id += 1
        if isinstance(event, dict):
            payload = _encode({**event, "id": self._last_id})
            conversation_id = event.get("conversation_id")
        else:
            # Each event is built for one publish, so its id is set in place, not copied.
            event.id = self._last_id
            payload = _encode(event)
            conversation_id = getattr(event, "conversation_id", None)
        self._recent.append((self._last_id, holder, payload))
        self._sockets.send_json_to_agents(payload, conversation_id, holder)

    async def agent_events_after(
        self, last_event_id: int, epoch: str | None = None, agent_id: int | None = None
    ) -> list[dict[str, Any]] | None:
        """What agent_id's console missed since last_event_id; None when that cannot be told.

        None: some are no longer kept, or the id is from another gateway process.
        Async because FanoutPublisher's reads them from Redis.
        """
        if (epoch is not None and epoch != self.epoch) or last_event_id > self._last_id:
            return None
        if last_event_id == self._last_id:
            return []
        if not self._recent or self._recent[0][0] > last_event_id + 1:
            return None
        return [
            orjson.loads(payload)
            for event_id, holder, payload in self._recent
            if event_id > last_event_id and (holder is None or holder == agent_id)
        ]


async def setup_sockets(app: web.Application) -> AsyncIterator[None]:
    """A Publisher for a process alone; with Redis (several gateways) a FanoutPublisher."""
    registry = SocketRegistry()
    app[keys.SOCKETS] = registry
    shared = app[keys.REDIS]
    if shared is None:
        app[keys.PUBLISHER] = Publisher(registry)
        yield
        return
    async with fanout(registry, shared, app[keys.SETTINGS].redis_url) as publisher:
        app[keys.PUBLISHER] = publisher
        yield
