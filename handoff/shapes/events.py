"""Every socket frame, one Struct each, tagged by ``"type"``.

Server events (handoff/live/events.py builds them) go to widgets, consoles or both;
``WidgetEvent`` and ``ConsoleEvent`` are what each socket may receive, ``WidgetFrame``
and ``ConsoleFrame`` what each may send. Who gets which event and when:
docs/contract.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from msgspec import UNSET, Meta, UnsetType, field

from handoff.shapes.base import ClientMessageId, Seq, Shape, Status
from handoff.shapes.http import (
    AgentMessage,
    AgentName,
    AgentRef,
    Canned,
    ErrorDetail,
    Message,
    Note,
    QueueEntry,
    Rating,
    Resolution,
)

# Console events a Publisher sends carry an increasing id (resume with last_event_id).
EventId = Annotated[int, Meta(ge=1, description="consoles: increasing, to resume from")]


class Event(Shape, tag_field="type"):
    """A server event; consoles' published ones carry ``id``."""

    id: EventId | UnsetType = UNSET


class MessageEvent(Event, tag="message", kw_only=True):
    """A message of the conversation, to its widget sockets and consoles (while an agent
    holds it, only that agent's consoles and those watching it)."""

    conversation_id: str
    message: Message


class ConsoleMessageEvent(Event, tag="message", kw_only=True):
    """The console's copy of ``message``: a customer message carries ``nlu``."""

    conversation_id: str
    message: AgentMessage


class StatusEvent(Event, tag="status", kw_only=True):
    conversation_id: str
    status: Status
    agent: AgentName | None


class ConsoleStatusEvent(Event, tag="status", kw_only=True):
    """The console's copy of ``status``: who holds the conversation now."""

    conversation_id: str
    status: Status
    agent: AgentRef | None


class HandoffEvent(Event, tag="handoff", kw_only=True):
    conversation: QueueEntry


class TypingEvent(Event, tag="typing", kw_only=True):
    """To the other side (consoles as for ``message``)."""

    conversation_id: str
    sender: Literal["customer", "agent"]
    typing: bool


class QueueEvent(Event, tag="queue", kw_only=True):
    """To a waiting widget, whenever the queue changes. team: online (an agent is
    online), away (nobody, within the opening hours or with none set), closed (outside
    them); reopens_at and reopens (as the customer reads it) are null unless closed."""

    conversation_id: str
    position: int
    estimated_wait_seconds: int | None
    agents_online: int
    team: Literal["online", "away", "closed"]
    reopens_at: str | None
    reopens: str | None


class PresenceEvent(Event, tag="presence", kw_only=True):
    conversation_id: str
    customer_online: bool


class ResetEvent(Event, tag="reset", kw_only=True):
    """To a console that resumed too late: reload the queue and the open conversation."""


class HelloEvent(Event, tag="hello", kw_only=True):
    """A console's first event: reconnect with ?epoch=&last_event_id= to get what was
    missed (event ids restart with each gateway process; the epoch tells them apart)."""

    agent: AgentRef
    last_event_id: int
    epoch: str


class NoteEvent(Event, tag="note", kw_only=True):
    """Private: never to a widget."""

    conversation_id: str
    note: Note


class ResolutionEvent(Event, tag="resolution", kw_only=True):
    """Whenever an empowered action is asked for or changes status."""

    conversation_id: str
    resolution: Resolution


class TransferEvent(Event, tag="transfer", kw_only=True):
    """``to`` null: back to the queue."""

    conversation_id: str
    from_: AgentRef = field(name="from")
    to: AgentRef | None


class CannedEvent(Event, tag="canned", kw_only=True):
    change: Literal["created", "updated", "deleted"]
    canned: Canned


class DisruptionEvent(Event, tag="disruption", kw_only=True):
    """The operations feed recorded or changed a disruption: supervisors' consoles fetch
    the list again. Only its id, since every console gets it and agents may not list."""

    disruption_id: str
    change: Literal["created", "updated"]


class ContextEvent(Event, tag="context", kw_only=True):
    """The open handoff's context changed: the bot read a booking reference, flight
    number, date, place or name in a later customer message."""

    conversation_id: str
    handoff_id: int
    context: dict[str, Any]


class RatingEvent(Event, tag="rating", kw_only=True):
    """To the consoles of the agent who resolved the rated handoff and those that have
    the conversation open."""

    conversation_id: str
    rating: Rating


class WatchingEvent(Event, tag="watching", kw_only=True):
    """The answer to a console's ``watch``: from now on it also gets that conversation's
    events while another agent holds it."""

    conversation_id: str | None


class Ack(Event, tag="ack", kw_only=True):
    """A widget's ``message`` frame stored (or stored before, under that seq) and its turn
    over. It carries the stored message (the original for a retry): in human mode the
    sending socket gets no ``message`` event of it."""

    client_message_id: str
    seq: Seq
    status: Status
    message: Message


class ConsoleAck(Event, tag="ack", kw_only=True):
    """A console's ``message`` frame stored (or stored before, under that seq)."""

    client_message_id: str
    conversation_id: str
    seq: Seq


class SocketError(Event, tag="error", kw_only=True):
    """A ``message`` frame not stored; ``error`` as in an HTTP error answer (400, 404,
    413: do not retry; 429 with retry_after, 503: retry with the same
    client_message_id). client_message_id null: the frame had none."""

    client_message_id: str | None
    error: ErrorDetail


WidgetEvent = Union[MessageEvent, StatusEvent, QueueEvent, TypingEvent, Ack, SocketError]
ConsoleEvent = Union[
    HelloEvent,
    ResetEvent,
    ConsoleMessageEvent,
    ConsoleStatusEvent,
    HandoffEvent,
    TypingEvent,
    NoteEvent,
    ResolutionEvent,
    TransferEvent,
    CannedEvent,
    DisruptionEvent,
    PresenceEvent,
    ContextEvent,
    RatingEvent,
    WatchingEvent,
    ConsoleAck,
    SocketError,
]

# --- frames clients send ----------------------------------------------------------------


class ClientFrame(Shape, tag_field="type"):
    """A frame a widget or console sends."""


class SocketAuth(ClientFrame, tag="auth"):
    """A socket's first frame, unless the upgrade carried `Authorization: Bearer`: the
    conversation's token (widget) or the session's (console). Without it within
    BATON_SOCKET_AUTH_SECONDS the socket is closed with 4408; a frame that is not this
    closes it with 4401; a refused token with 4404 (widget) or 4401 (console), the reason
    in words."""

    token: Annotated[str, Meta(min_length=1, max_length=256)]


class SocketMessage(ClientFrame, tag="message", kw_only=True):
    """A widget's customer message, answered by ``ack`` or ``error``: what a POST of
    CustomerMessageIn does, with client_message_id required. The text's limit is
    BATON_MAX_MESSAGE_CHARS (4,000 by default)."""

    text: Annotated[str, Meta(min_length=1)]
    payload: Annotated[str, Meta(max_length=200, description="a quick reply's")] | None = None
    client_message_id: ClientMessageId


class ConsoleSocketMessage(ClientFrame, tag="message"):
    """A console's reply, answered by ``ack`` or ``error``: what a POST of AgentMessageIn
    does, with client_message_id required."""

    conversation_id: Annotated[str, Meta(min_length=1, max_length=64)]
    text: Annotated[str, Meta(min_length=1)]
    client_message_id: ClientMessageId


class SocketTyping(ClientFrame, tag="typing"):
    typing: bool


class ConsoleSocketTyping(ClientFrame, tag="typing"):
    conversation_id: str
    typing: bool


class Watch(ClientFrame, tag="watch"):
    """The conversation on the console's screen (null: none)."""

    conversation_id: Annotated[str, Meta(max_length=64)] | None


WidgetFrame = Union[SocketAuth, SocketMessage, SocketTyping]
ConsoleFrame = Union[SocketAuth, ConsoleSocketMessage, ConsoleSocketTyping, Watch]
