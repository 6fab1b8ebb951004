"""Builds every event pushed to widgets and consoles; handoff.live.publisher sends them.

Each event is a Struct of handoff/shapes/events.py, tagged by ``"type"``: its fields,
who receives it and when are written there (and in docs/contract.md), not here. Events to
consoles also carry an ``id`` (see handoff.live.publisher). Only the conversation actions (handoff.conversations),
handoff.agent_tools.resolutions (the console's agent tools), the operations feed
(handoff.operations.disruptions) and the socket views (for typing) call a Publisher.
"""

from __future__ import annotations

from typing import Any

from handoff.shapes import events as shapes
from handoff.shapes import http
from handoff.shapes.events import Event

# A replayed event (Publisher.agent_events_after) is the dict it was sent as.
Frame = Event | dict[str, Any]

# The payloads inside events (a message, a note ...) are the Structs that
# handoff.live.serializers builds from rows, the same ones the HTTP answers carry.


def message_event(conversation_id: str, message: http.Message) -> Event:
    """A console's copy (serializers.console_message_shape) carries nlu on customer
    messages."""
    if isinstance(message, http.AgentMessage):
        return shapes.ConsoleMessageEvent(conversation_id=conversation_id, message=message)
    return shapes.MessageEvent(conversation_id=conversation_id, message=message)


def status_event(
    conversation_id: str, status: str, agent_name: str | None, agent_id: int | None = None
) -> Event:
    """To widgets the agent is a name; consoles also get the id (who holds it now)."""
    if agent_id is None:
        return shapes.StatusEvent(
            conversation_id=conversation_id, status=status,
            agent=shapes.AgentName(name=agent_name) if agent_name else None,
        )
    return shapes.ConsoleStatusEvent(
        conversation_id=conversation_id, status=status,
        agent=shapes.AgentRef(id=agent_id, name=agent_name) if agent_name else None,
    )


def ack_event(client_message_id: str, message: http.Message, status: str) -> Event:
    """The widget's ack carries its stored message: in human mode that socket gets no
    ``message`` event of its own (the conversation's other sockets do)."""
    return shapes.Ack(
        client_message_id=client_message_id, seq=message.seq, status=status,
        message=message,
    )


def watching_event(conversation_id: str | None) -> Event:
    return shapes.WatchingEvent(conversation_id=conversation_id)


def agent_ack_event(client_message_id: str, conversation_id: str, seq: int) -> Event:
    return shapes.ConsoleAck(
        client_message_id=client_message_id, conversation_id=conversation_id, seq=seq
    )


def error_event(client_message_id: str | None, error: dict[str, Any]) -> Event:
    return shapes.SocketError(client_message_id=client_message_id, error=error)


def handoff_event(queue_entry: http.QueueEntry) -> Event:
    return shapes.HandoffEvent(conversation=queue_entry)


def typing_event(conversation_id: str, sender: str, typing: bool) -> Event:
    return shapes.TypingEvent(conversation_id=conversation_id, sender=sender, typing=typing)


def queue_event(
    conversation_id: str,
    position: int,
    estimated_wait_seconds: int | None,
    agents_online: int,
    team: dict[str, Any],
) -> Event:
    """`team`: handoff.routing.team.Team.as_fields(), so the widget says what the transcript says."""
    return shapes.QueueEvent(
        conversation_id=conversation_id,
        position=position,
        estimated_wait_seconds=estimated_wait_seconds,
        agents_online=agents_online,
        **team,
    )


def hello_event(agent_id: int, agent_name: str, last_event_id: int, epoch: str) -> Event:
    return shapes.HelloEvent(
        agent=shapes.AgentRef(id=agent_id, name=agent_name),
        last_event_id=last_event_id,
        epoch=epoch,
    )


def presence_event(conversation_id: str, customer_online: bool) -> Event:
    return shapes.PresenceEvent(conversation_id=conversation_id, customer_online=customer_online)


def note_event(conversation_id: str, note: http.Note) -> Event:
    return shapes.NoteEvent(conversation_id=conversation_id, note=note)


def resolution_event(conversation_id: str, resolution: http.Resolution) -> Event:
    return shapes.ResolutionEvent(conversation_id=conversation_id, resolution=resolution)


def transfer_event(
    conversation_id: str, from_agent: http.AgentRef, to_agent: http.AgentRef | None
) -> Event:
    return shapes.TransferEvent(
        conversation_id=conversation_id, from_=from_agent, to=to_agent
    )


def rating_event(conversation_id: str, rating: http.Rating) -> Event:
    return shapes.RatingEvent(conversation_id=conversation_id, rating=rating)


def canned_event(change: str, canned: http.Canned) -> Event:
    return shapes.CannedEvent(change=change, canned=canned)


def disruption_event(disruption_id: str, change: str) -> Event:
    return shapes.DisruptionEvent(disruption_id=disruption_id, change=change)


def context_event(conversation_id: str, handoff_id: int, context: dict[str, Any]) -> Event:
    return shapes.ContextEvent(
        conversation_id=conversation_id, handoff_id=handoff_id, context=context
    )


RESET_EVENT: Event = shapes.ResetEvent()
