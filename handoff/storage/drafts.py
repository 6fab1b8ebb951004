"""What the write path takes and gives: drafts in, stored messages (or why not) out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Draft:
    """A message to store."""

    sender: str
    text: str
    client_message_id: str | None = None
    agent_id: int | None = None
    author: str | None = None
    buttons: list[dict[str, str]] | None = None


@dataclass
class Stored:
    """A stored message, as handoff.live.serializers.message_shape reads it."""

    conversation_id: str
    seq: int
    sender: str
    text: str
    created_at: dt.datetime
    buttons: list[dict[str, str]] | None
    author: str | None
    nlu: dict[str, Any] | None = None


class DuplicateMessage(Exception):
    """This client_message_id is stored already, under `seq`."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"stored already as seq {seq}")
        self.seq = seq


class ConversationMissing(Exception):
    pass


def message_row(
    conversation_id: str, seq: int, draft: Draft, now: dt.datetime
) -> dict[str, Any]:
    """The messages table's row for a draft."""
    return {
        "conversation_id": conversation_id,
        "seq": seq,
        "sender": draft.sender,
        "text": draft.text,
        "created_at": now,
        "client_message_id": draft.client_message_id,
        "agent_id": draft.agent_id,
        "buttons": draft.buttons or None,
        "nlu": None,
    }


def stored_message(conversation_id: str, seq: int, draft: Draft, now: dt.datetime) -> Stored:
    return Stored(conversation_id, seq, draft.sender, draft.text, now, draft.buttons or None,
                  draft.author)
