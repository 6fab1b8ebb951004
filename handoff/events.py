"""Every event pushed to widgets and consoles, and the one place that publishes them.

Events are plain JSON dicts with a "type":

- ``message``  ``{"type", "conversation_id", "message": message}`` -> widget, console
- ``status``   ``{"type", "conversation_id", "status", "agent": {"name"} | null}`` -> widget, console
- ``handoff``  ``{"type", "conversation": queue entry}`` -> console
- ``typing``   ``{"type", "conversation_id", "sender": "customer"|"agent", "typing": bool}``
  -> the other side
- ``hello``    ``{"type", "agent": {"id", "name"}}`` -> a console, first thing on its socket

``message`` as in serializers.message_dict; the console's copy carries ``nlu`` too.
Only handoff.actions (and the socket views, for typing) call a Publisher.
"""

from __future__ import annotations

from typing import Any

from .sockets import SocketRegistry

Event = dict[str, Any]


def message_event(conversation_id: str, message: dict[str, Any]) -> Event:
    return {"type": "message", "conversation_id": conversation_id, "message": message}


def status_event(conversation_id: str, status: str, agent_name: str | None) -> Event:
    return {
        "type": "status",
        "conversation_id": conversation_id,
        "status": status,
        "agent": {"name": agent_name} if agent_name else None,
    }


def handoff_event(queue_entry: dict[str, Any]) -> Event:
    return {"type": "handoff", "conversation": queue_entry}


def typing_event(conversation_id: str, sender: str, typing: bool) -> Event:
    return {
        "type": "typing",
        "conversation_id": conversation_id,
        "sender": sender,
        "typing": typing,
    }


def hello_event(agent_id: int, agent_name: str) -> Event:
    return {"type": "hello", "agent": {"id": agent_id, "name": agent_name}}


class Publisher:
    """Delivers events to the sockets of this process.

    Several gateway processes would put a broker (Redis pub/sub) behind this same
    interface; callers do not change.
    """

    def __init__(self, sockets: SocketRegistry) -> None:
        self._sockets = sockets

    async def to_conversation(self, conversation_id: str, event: Event) -> None:
        await self._sockets.send_to_conversation(conversation_id, event)

    async def to_agents(self, event: Event) -> None:
        await self._sockets.send_to_agents(event)
