"""The shape of GET /api/agent/insights: what the conversations of a period teach.

Descriptions here are the OpenAPI document's (handoff/web/openapi.py). Durations are in
seconds; a percentile is the nearest-rank one (the smallest value that at least that
share of the values is at or below), null when there is no value.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from handoff.shapes.base import HandoffReason, Moment, Shape
from handoff.shapes.http import AgentRef

Seconds = Annotated[float, Meta(ge=0)]


class Period(Shape):
    """From the start of `from` to the end of `to`, both UTC days, inclusive."""

    from_: Annotated[dt.date, Meta(description="the first day")] = msgspec.field(name="from")
    to: Annotated[dt.date, Meta(description="the last day")]
    days: int


class ReasonCounts(Shape):
    requested: int
    frustration: int
    disruption: int
    bot_failure: int
    bot_unavailable: int


class HandoffDay(Shape):
    """One day of the period, every day listed (zeros included)."""

    date: dt.date
    conversations: Annotated[int, Meta(description="conversations started that day")]
    contained: Annotated[int, Meta(description="of those, never handed to a person")]
    handoffs: Annotated[int, Meta(description="handoffs asked for that day")]
    by_reason: ReasonCounts


class Handoffs(Shape):
    """Handoffs asked for in the period, whichever conversation they belong to."""

    total: int
    by_reason: ReasonCounts
    by_disruption: Annotated[
        dict[str, int], Meta(description="disruption handoffs by type (only types seen)")
    ]
    per_day: list[HandoffDay]


class WaitBuckets(Shape):
    under_1_min: int
    from_1_to_5_min: int
    from_5_to_15_min: int
    from_15_to_60_min: int
    over_60_min: int


class Waits(Shape):
    """From a handoff to the first message a person sent in it."""

    answered: Annotated[int, Meta(description="handoffs a person replied to")]
    p50: Seconds | None
    p90: Seconds | None
    buckets: WaitBuckets
    abandoned: Annotated[int, Meta(
        description="handoffs no person replied to whose customer left (their widget is "
        "closed) without leaving contact details"
    )]
    contact_left: Annotated[int, Meta(description="handoffs where the customer left contact details")]
    waiting: Annotated[int, Meta(description="handoffs still waiting for a person now")]


class ActionCounts(Shape):
    """One empowered action's requests in the period."""

    action: str
    label: str
    count: int
    total_amount: Annotated[
        dict[str, float], Meta(description="what was carried out, by currency")
    ]
    approved: Annotated[int, Meta(description="approved by a supervisor")]
    rejected: int
    pending: int
    done: int
    failed: int


class Resolving(Shape):
    """From a person's claim to the handoff's resolution."""

    resolved: int
    p50: Seconds | None
    p90: Seconds | None
    actions: list[ActionCounts]


class ReasonRating(Shape):
    count: int
    average: float | None


class RatingDay(Shape):
    date: dt.date
    count: int
    average: float | None


class Comment(Shape):
    conversation_id: str
    rating: int
    comment: str
    reason: HandoffReason
    rated_at: Moment


class Csat(Shape):
    """Customers' ratings (1-5) given in the period."""

    count: int
    average: float | None
    distribution: Annotated[dict[str, int], Meta(description='"1" to "5": how many')]
    per_day: list[RatingDay]
    by_reason: dict[str, ReasonRating]
    comments: Annotated[list[Comment], Meta(description="the latest 20, newest first")]


class SignalCount(Shape):
    signal: str
    conversations: int


class FrustratedShare(Shape):
    """Conversations started in the period whose customer sounded frustrated: a message
    scored at or above the handoff policy's threshold, or a frustration handoff."""

    conversations: int
    share: float | None
    top_signals: list[SignalCount]


class FlightCount(Shape):
    flight_number: str
    handoffs: int
    by_type: dict[str, int]


class Disruptions(Shape):
    """Disruption handoffs of the period by flight (those that named one), most first."""

    top_flights: list[FlightCount]


TopicDecisionName = Literal["assigned", "new_topic", "ignored"]


class TopicDecisionIn(Shape):
    """assign: its messages become training data for `intent` (one of the bot's intents);
    new_topic: the team is to write an answer, under `name`; ignore; reopen: undecided
    again."""

    decision: Literal["assign", "new_topic", "ignore", "reopen"]
    intent: Annotated[str, Meta(max_length=64)] | None = None
    name: Annotated[str, Meta(max_length=120)] | None = None


class TopicDecided(Shape):
    topic_id: int
    decision: TopicDecisionName | None
    intent: str | None
    name: str | None
    decided_by: AgentRef | None
    decided_at: Moment | None
    training_examples: Annotated[
        int, Meta(description="examples in the training data now, of every assigned topic")
    ]


class UnansweredTopic(Shape):
    """Messages of the period the bot could not answer that mean about the same."""

    topic_id: int
    count: Annotated[int, Meta(description="its messages in the period")]
    examples: Annotated[list[str], Meta(description="up to 3 of them, the latest first")]
    first_seen: Moment
    last_seen: Moment
    total: Annotated[int, Meta(description="its messages ever")]
    decision: TopicDecisionName | None
    intent: Annotated[str | None, Meta(description="assigned: the intent its messages teach")]
    name: Annotated[str | None, Meta(description="new_topic: what the team called it")]


class Unanswered(Shape):
    """What the bot could not answer (out of scope, or not understood), by topic, most
    first (the top 20)."""

    messages: int
    topics: list[UnansweredTopic]


class Insights(Shape):
    period: Period
    conversations: Annotated[int, Meta(description="conversations started in the period")]
    contained: Annotated[int, Meta(
        description="of those, never handed to a person: the bot saw them through"
    )]
    containment_rate: float | None
    handoffs: Handoffs
    waits: Waits
    resolution: Resolving
    csat: Csat
    unanswered: Unanswered
    frustration: FrustratedShare
    disruptions: Disruptions
