"""Every event pushed to widgets and consoles (handoff.live.publisher delivers them).

Events are plain JSON dicts with a "type":

- ``message``  ``{"type", "conversation_id", "message": message}`` -> widget, console;
  while an agent holds the conversation, only that agent's consoles and the ones watching it
- ``status``   ``{"type", "conversation_id", "status", "agent": {"name"} | null}`` -> widget;
  consoles' copy has ``agent: {"id", "name"}``
- ``handoff``  ``{"type", "conversation": queue entry}`` -> console
- ``typing``   ``{"type", "conversation_id", "sender": "customer"|"agent", "typing": bool}``
  -> the other side (consoles as for ``message``)
- ``queue``    ``{"type", "conversation_id", "position", "estimated_wait_seconds" | null,
  "agents_online"}`` -> a waiting widget, whenever the queue changes
- ``presence`` ``{"type", "conversation_id", "customer_online"}`` -> console
- ``reset``    ``{"type"}`` -> a console that resumed too late: reload the queue
- ``hello``    ``{"type", "agent": {"id", "name"}, "last_event_id", "epoch"}`` -> a console,
  first thing on its socket; reconnect with ``?epoch=&last_event_id=`` to get what was
  missed (event ids restart with each gateway process; the epoch tells them apart)
- ``note``     ``{"type", "conversation_id", "note": note}`` -> console (private: never
  to a widget)
- ``resolution`` ``{"type", "conversation_id", "resolution": resolution}`` -> console,
  whenever an empowered action is asked for or changes status (pending_approval,
  in_progress, done, rejected, failed); the requesting agent learns of a supervisor's
  decision from it, supervisors of a new request
- ``transfer`` ``{"type", "conversation_id", "from": {"id", "name"}, "to": {"id", "name"}
  | null}`` -> console; ``to`` null: back to the queue
- ``canned``   ``{"type", "change": "created"|"updated"|"deleted", "canned": canned}``
  -> console
- ``context``  ``{"type", "conversation_id", "handoff_id", "context"}`` -> console (as for
  ``message``): the open handoff's context changed, because the bot read a booking
  reference, flight number, date, place or name in a later customer message
- ``rating``   ``{"type", "conversation_id", "rating": rating}`` -> the consoles of the
  agent who resolved the rated handoff and those that have the conversation open, when
  the customer rates it (serializers.rating_dict: handoff_id, score, comment, rated_at,
  agent)

Answers on one socket only (not published): to a console's ``watch`` frame,

- ``watching`` ``{"type", "conversation_id" | null}`` -> the console that sent
  ``{"type": "watch", "conversation_id"}``: from now on it also gets the events of that
  conversation (the one on its screen) while another agent holds it

and to a widget's or a console's own ``message`` frame:

- ``ack``      ``{"type", "client_message_id", "seq", "status", "message"}`` (a
  console's: ``{"type", "client_message_id", "conversation_id", "seq"}``): stored (or
  stored before, under that seq), and its turn is over. A widget's ack carries the stored
  ``message`` (the original for a retry): in human mode the sending socket gets no
  ``message`` event of its own message, only the ack (the conversation's other sockets
  get the event); in a bot turn the message and the replies come first as ``message``
  events to every socket, as before
- ``error``    ``{"type", "client_message_id", "error": {"status", "message", ...}}``: not
  stored; ``error`` as in an HTTP error answer (400, 404, 413, 429 with
  ``retry_after``, 503: retry with the same client_message_id)

``message`` as in serializers.message_dict; the console's copy carries ``nlu`` too;
``note``, ``resolution`` and ``canned`` as in serializers.note_dict, resolution_dict and
canned_dict. Events to consoles also carry an ``id`` (see publisher.Publisher). Only
handoff.conversations.actions, handoff.agent_tools.resolutions (the console's agent tools) and the socket views
(for typing) call a Publisher.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


def message_event(conversation_id: str, message: dict[str, Any]) -> Event:
    return {"type": "message", "conversation_id": conversation_id, "message": message}


def status_event(
    conversation_id: str, status: str, agent_name: str | None, agent_id: int | None = None
) -> Event:
    """To widgets the agent is a name; consoles also get the id (who holds it now)."""
    agent: dict[str, Any] | None = None
    if agent_name:
        agent = {"name": agent_name} if agent_id is None else {"id": agent_id, "name": agent_name}
    return {"type": "status", "conversation_id": conversation_id, "status": status, "agent": agent}


def ack_event(client_message_id: str, message: dict[str, Any], status: str) -> Event:
    """The widget's ack carries its stored message: in human mode that socket gets no
    ``message`` event of its own (the conversation's other sockets do)."""
    return {
        "type": "ack",
        "client_message_id": client_message_id,
        "seq": message["seq"],
        "status": status,
        "message": message,
    }


def watching_event(conversation_id: str | None) -> Event:
    return {"type": "watching", "conversation_id": conversation_id}


def agent_ack_event(client_message_id: str, conversation_id: str, seq: int) -> Event:
    return {
        "type": "ack",
        "client_message_id": client_message_id,
        "conversation_id": conversation_id,
        "seq": seq,
    }


def error_event(client_message_id: str | None, error: dict[str, Any]) -> Event:
    return {"type": "error", "client_message_id": client_message_id, "error": error}


def handoff_event(queue_entry: dict[str, Any]) -> Event:
    return {"type": "handoff", "conversation": queue_entry}


def typing_event(conversation_id: str, sender: str, typing: bool) -> Event:
    return {
        "type": "typing",
        "conversation_id": conversation_id,
        "sender": sender,
        "typing": typing,
    }


def queue_event(
    conversation_id: str,
    position: int,
    estimated_wait_seconds: int | None,
    agents_online: int,
    team: dict[str, Any],
) -> Event:
    """`team`: handoff.routing.team.Team.as_fields(), so the widget says what the transcript says."""
    return {
        "type": "queue",
        "conversation_id": conversation_id,
        "position": position,
        "estimated_wait_seconds": estimated_wait_seconds,
        "agents_online": agents_online,
        **team,
    }


def hello_event(agent_id: int, agent_name: str, last_event_id: int, epoch: str) -> Event:
    return {
        "type": "hello",
        "agent": {"id": agent_id, "name": agent_name},
        "last_event_id": last_event_id,
        "epoch": epoch,
    }


def presence_event(conversation_id: str, customer_online: bool) -> Event:
    return {"type": "presence", "conversation_id": conversation_id, "customer_online": customer_online}


def note_event(conversation_id: str, note: dict[str, Any]) -> Event:
    return {"type": "note", "conversation_id": conversation_id, "note": note}


def resolution_event(conversation_id: str, resolution: dict[str, Any]) -> Event:
    return {"type": "resolution", "conversation_id": conversation_id, "resolution": resolution}


def transfer_event(
    conversation_id: str, from_agent: dict[str, Any], to_agent: dict[str, Any] | None
) -> Event:
    return {
        "type": "transfer",
        "conversation_id": conversation_id,
        "from": from_agent,
        "to": to_agent,
    }


def rating_event(conversation_id: str, rating: dict[str, Any]) -> Event:
    return {"type": "rating", "conversation_id": conversation_id, "rating": rating}


def canned_event(change: str, canned: dict[str, Any]) -> Event:
    return {"type": "canned", "change": change, "canned": canned}


def context_event(conversation_id: str, handoff_id: int, context: dict[str, Any]) -> Event:
    return {
        "type": "context",
        "conversation_id": conversation_id,
        "handoff_id": handoff_id,
        "context": context,
    }


RESET_EVENT: Event = {"type": "reset"}
