"""The shapes of the privacy endpoints (supervisors): finding a customer's conversations,
and erasing them (handoff.conversations.erasure and .retention).

Descriptions here are the OpenAPI document's (handoff/web/openapi.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from handoff.shapes.base import Moment, Shape, Status

ConversationIds = Annotated[
    list[Annotated[str, Meta(min_length=1, max_length=32)]], Meta(min_length=1, max_length=100)
]
Redaction = Literal["retention", "erasure"]


class CustomerConversation(Shape):
    id: str
    status: Status
    created_at: Moment
    updated_at: Moment
    redacted_at: Moment | None
    redaction: Redaction | None
    matched: Annotated[list[str], Meta(description="what named the customer, e.g. 'contact email'")]


class CustomerConversations(Shape):
    """At most 100, newest first."""

    conversations: list[CustomerConversation]


class ErasureIn(Shape):
    """The conversations to erase (from GET /api/agent/privacy/conversations), and why:
    the audit log keeps the reason."""

    conversation_ids: ConversationIds
    reason: Annotated[str, Meta(max_length=500)]


class Erased(Shape):
    erased: Annotated[list[str], Meta(description="redacted now")]
    already_erased: Annotated[list[str], Meta(description="redacted before, left as they were")]
    messages_deleted: int
    notes_deleted: int
    assistant_forgotten: Annotated[
        bool, Meta(description="Rasa deleted its copies; false: it will at the next sweep")
    ]
    training_examples: Annotated[
        int, Meta(description="examples in the learned training data now")
    ]


class RetentionPolicy(Shape):
    retention_days: Annotated[
        int, Meta(description="days after a conversation's last message that its transcript "
                  "and contact details are deleted; 0: kept")
    ]
    redacted: Annotated[int, Meta(description="conversations redacted so far, by either")]
    pending_assistant: Annotated[
        int, Meta(description="redacted conversations whose copy Rasa has still to delete")
    ]
