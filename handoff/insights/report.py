"""The insights of a period, read from the conversations, handoffs, ratings and actions.

Each section is counted where it happened: conversations (and whether the bot saw them
through, and whether their customer sounded frustrated) by the day they started,
handoffs, their waits and their resolution by the day they were asked for, empowered
actions by the day they were requested, ratings by the day they were given. Days are
UTC days. Aggregates are counted by the database where it can (per day, per reason);
what needs every row (durations, JSON in the context) reads only the rows of the
period's handoffs, never its messages, except the frustrated customers' ones.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, String, and_, case, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.assistant.frustration import FRUSTRATED
from handoff.live.serializers import iso
from handoff.shapes import insights as shapes
from handoff.storage.models import (
    HANDOFF_REASONS,
    RESOLUTION_DONE,
    RESOLUTION_FAILED,
    RESOLUTION_IN_PROGRESS,
    RESOLUTION_PENDING,
    RESOLUTION_REJECTED,
    STATUS_WAITING,
    Conversation,
    FrustrationSignal,
    Handoff,
    Message,
    Resolution,
    UnansweredMessage,
    UnansweredTopic,
)

LATEST_COMMENTS = 20
TOP_SIGNALS = 10
TOP_FLIGHTS = 10
TOP_TOPICS = 20
EXAMPLES = 3
# Upper bounds of the wait buckets, in seconds (the last is open).
WAIT_BUCKETS = (60, 5 * 60, 15 * 60, 60 * 60)


@dataclass(frozen=True)
class Span:
    """Whole UTC days, first to last inclusive."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), tzinfo=dt.timezone.utc)

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(days=self.days)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(self.days)]

    def holds(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(math.ceil(q * len(ordered)), 1) - 1], 1)


def _average(total: float, count: int) -> float | None:
    return round(total / count, 2) if count else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _day(db: AsyncSession, column: Any) -> ColumnElement[Any]:
    """The UTC day of a time column, as the database gives it (a date or 'YYYY-MM-DD')."""
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _seconds(db: AsyncSession, later: Any, earlier: Any) -> ColumnElement[float]:
    """later - earlier in seconds, computed by the database (a year's durations parsed
    as datetimes in Python took a third of the report's time)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _reasons(counts: dict[str, int]) -> shapes.ReasonCounts:
    return shapes.ReasonCounts(**{reason: counts.get(reason, 0) for reason in HANDOFF_REASONS})


async def insights(db: AsyncSession, span: Span) -> shapes.Insights:
    if db.get_bind().dialect.name == "postgresql":
        # Its cost estimates for a year call for JIT compilation, which took longer (a
        # quarter of a second per query) than running the queries.
        await db.execute(text("SET LOCAL jit = off"))
    conversations, contained, per_day = await _conversations_by_day(db, span)
    handoffs = await _handoffs(db, span, per_day)
    return shapes.Insights(
        period=shapes.Period(from_=span.first, to=span.last, days=span.days),
        conversations=conversations,
        contained=contained,
        containment_rate=_share(contained, conversations),
        handoffs=handoffs,
        waits=await _waits(db, span),
        resolution=await _resolution(db, span),
        csat=await _csat(db, span),
        unanswered=await _unanswered(db, span),
        frustration=await _frustration(db, span, conversations),
        disruptions=await _disruptions(db, span),
    )


async def _conversations_by_day(
    db: AsyncSession, span: Span
) -> tuple[int, int, dict[dt.date, list[int]]]:
    """(started, contained, {day: [started, contained]})."""
    day = _day(db, Conversation.created_at)
    # One join with the handed-off conversations (an EXISTS per conversation took five
    # times as long on PostgreSQL).
    handed_off = select(Handoff.conversation_id).distinct().subquery()
    rows = await db.execute(
        select(day, func.count(), func.count() - func.count(handed_off.c.conversation_id))
        .select_from(Conversation)
        .outerjoin(handed_off, handed_off.c.conversation_id == Conversation.id)
        .where(span.holds(Conversation.created_at))
        .group_by(day)
    )
    per_day = {_as_date(d): [int(started), int(kept or 0)] for d, started, kept in rows}
    return (
        sum(started for started, _ in per_day.values()),
        sum(kept for _, kept in per_day.values()),
        per_day,
    )


async def _handoffs(
    db: AsyncSession, span: Span, conversations: dict[dt.date, list[int]]
) -> shapes.Handoffs:
    day = _day(db, Handoff.requested_at)
    rows = await db.execute(
        select(day, Handoff.reason, Handoff.disruption, func.count())
        .where(span.holds(Handoff.requested_at))
        .group_by(day, Handoff.reason, Handoff.disruption)
    )
    by_reason: Counter[str] = Counter()
    by_disruption: Counter[str] = Counter()
    daily: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for d, reason, disruption, count in rows:
        by_reason[reason] += count
        daily[_as_date(d)][reason] += count
        if disruption:
            by_disruption[disruption] += count
    per_day = []
    for d in span.each_day():
        started, kept = conversations.get(d, (0, 0))
        reasons = daily.get(d, Counter())
        per_day.append(shapes.HandoffDay(
            date=d, conversations=started, contained=kept, handoffs=sum(reasons.values()),
            by_reason=_reasons(reasons),
        ))
    return shapes.Handoffs(
        total=sum(by_reason.values()),
        by_reason=_reasons(by_reason),
        by_disruption=dict(by_disruption.most_common()),
        per_day=per_day,
    )


async def _waits(db: AsyncSession, span: Span) -> shapes.Waits:
    """From each handoff's first human reply (first_reply_at, set as it is sent), counted
    by the database in one row; the waits themselves come as one array, for the
    percentiles (a year's handoffs as rows cost more to fetch than to count)."""
    handoffs = (
        select(
            _seconds(db, Handoff.first_reply_at, Handoff.requested_at).label("waited"),
            _given(Handoff.contact).label("contact"),
            Conversation.customer_left_at.is_not(None).label("left"),
            and_(Conversation.handoff_id == Handoff.id,
                 Conversation.status == STATUS_WAITING).label("still"),
        )
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(span.holds(Handoff.requested_at))
        .subquery()
    )
    waited = handoffs.c.waited

    def counted(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = (await db.execute(select(
        _all(db, waited),
        counted(and_(waited.is_(None), handoffs.c.left, ~handoffs.c.contact)),
        counted(handoffs.c.contact),
        counted(handoffs.c.still),
    ))).one()
    waits = [max(round(float(w), 3), 0.0) for w in _values(row[0])]
    bounds = (0, *WAIT_BUCKETS, math.inf)
    counts = [
        sum(1 for w in waits if low <= w < high) for low, high in zip(bounds, bounds[1:])
    ]
    return shapes.Waits(
        answered=len(waits), p50=percentile(waits, 0.5), p90=percentile(waits, 0.9),
        buckets=shapes.WaitBuckets(
            under_1_min=counts[0], from_1_to_5_min=counts[1], from_5_to_15_min=counts[2],
            from_15_to_60_min=counts[3], over_60_min=counts[4],
        ),
        abandoned=int(row[1]), contact_left=int(row[2]), waiting=int(row[3]),
    )


def _given(column: Any) -> ColumnElement[bool]:
    """A JSON column that holds a value: neither SQL NULL nor JSON null."""
    return and_(column.is_not(None), cast(column, String) != "null")


def _all(db: AsyncSession, column: Any) -> Any:
    """Every non-null value of the column as one value: a list (PostgreSQL) or JSON text."""
    collect = func.array_agg if db.get_bind().dialect.name == "postgresql" else func.json_group_array
    return collect(column).filter(column.is_not(None))


def _values(collected: Any) -> list[Any]:
    if collected is None:
        return []
    return orjson.loads(collected) if isinstance(collected, (str, bytes)) else list(collected)


def _aware(when: Any) -> dt.datetime:
    """A subquery's time has no column type to make it aware: SQLite gives it as text."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime.fromisoformat(str(when))
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


async def _resolution(db: AsyncSession, span: Span) -> shapes.Resolving:
    took = _seconds(db, Handoff.resolved_at, Handoff.claimed_at)
    collected = await db.scalar(
        select(_all(db, took)).where(
            span.holds(Handoff.requested_at),
            Handoff.claimed_at.is_not(None),
            Handoff.resolved_at.is_not(None),
        )
    )
    durations = [max(round(float(seconds), 3), 0.0) for seconds in _values(collected)]
    actions = await db.execute(
        select(
            Resolution.action, Resolution.label, Resolution.status, Resolution.currency,
            Resolution.decided_by_id.is_not(None), func.count(),
            func.sum(Resolution.amount_minor),
        )
        .where(span.holds(Resolution.requested_at))
        .group_by(
            Resolution.action, Resolution.label, Resolution.status, Resolution.currency,
            Resolution.decided_by_id.is_not(None),
        )
    )
    by_action: dict[str, dict[str, Any]] = {}
    for action, label, status, currency, decided, count, amount in actions:
        entry = by_action.setdefault(action, {
            "label": label, "count": 0, "total": Counter(), "approved": 0,
            RESOLUTION_REJECTED: 0, "pending": 0, RESOLUTION_DONE: 0, RESOLUTION_FAILED: 0,
        })
        entry["count"] += count
        if status == RESOLUTION_REJECTED:
            entry[RESOLUTION_REJECTED] += count
        elif decided:
            entry["approved"] += count
        if status in (RESOLUTION_PENDING, RESOLUTION_IN_PROGRESS):
            entry["pending"] += count
        elif status in (RESOLUTION_DONE, RESOLUTION_FAILED):
            entry[status] += count
        if status == RESOLUTION_DONE and currency and amount:
            entry["total"][currency] += int(amount)
    return shapes.Resolving(
        resolved=len(durations),
        p50=percentile(durations, 0.5),
        p90=percentile(durations, 0.9),
        actions=[
            shapes.ActionCounts(
                action=action, label=entry["label"], count=entry["count"],
                total_amount={c: minor / 100 for c, minor in sorted(entry["total"].items())},
                approved=entry["approved"], rejected=entry[RESOLUTION_REJECTED],
                pending=entry["pending"], done=entry[RESOLUTION_DONE],
                failed=entry[RESOLUTION_FAILED],
            )
            for action, entry in sorted(by_action.items(), key=lambda item: (-item[1]["count"], item[0]))
        ],
    )


async def _csat(db: AsyncSession, span: Span) -> shapes.Csat:
    day = _day(db, Handoff.rated_at)
    rows = await db.execute(
        select(day, Handoff.reason, Handoff.rating, func.count())
        .where(span.holds(Handoff.rated_at), Handoff.rating.is_not(None))
        .group_by(day, Handoff.reason, Handoff.rating)
    )
    distribution: Counter[int] = Counter()
    daily: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    reasons: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d, reason, rating, count in rows:
        distribution[rating] += count
        for totals in (daily[_as_date(d)], reasons[reason]):
            totals[0] += count
            totals[1] += rating * count
    count = sum(distribution.values())
    comments = await db.execute(
        select(Handoff.conversation_id, Handoff.rating, Handoff.rating_comment, Handoff.reason,
               Handoff.rated_at)
        .where(span.holds(Handoff.rated_at), Handoff.rating.is_not(None),
               Handoff.rating_comment.is_not(None), Handoff.rating_comment != "")
        .order_by(Handoff.rated_at.desc(), Handoff.id.desc())
        .limit(LATEST_COMMENTS)
    )
    return shapes.Csat(
        count=count,
        average=_average(sum(r * n for r, n in distribution.items()), count),
        distribution={str(r): distribution.get(r, 0) for r in range(1, 6)},
        per_day=[
            shapes.RatingDay(date=d, count=daily[d][0], average=_average(daily[d][1], daily[d][0]))
            if d in daily else shapes.RatingDay(date=d, count=0, average=None)
            for d in span.each_day()
        ],
        by_reason={
            reason: shapes.ReasonRating(
                count=reasons[reason][0], average=_average(reasons[reason][1], reasons[reason][0])
            )
            for reason in HANDOFF_REASONS
        },
        comments=[
            shapes.Comment(conversation_id=cid, rating=rating, comment=comment, reason=reason,
                           rated_at=iso(rated_at))
            for cid, rating, comment, reason, rated_at in comments
        ],
    )


async def _frustration(db: AsyncSession, span: Span, conversations: int) -> shapes.FrustratedShare:
    """From frustration_signals (handoff.assistant.frustration): each signal once per
    conversation, its frustrated messages' and its frustration handoffs' together."""
    count = func.count().label("count")
    rows = (await db.execute(
        select(FrustrationSignal.signal, count)
        .join(Conversation, Conversation.id == FrustrationSignal.conversation_id)
        .where(span.holds(Conversation.created_at))
        .group_by(FrustrationSignal.signal)
        .order_by(count.desc(), FrustrationSignal.signal)
    )).all()
    frustrated = next((n for signal, n in rows if signal == FRUSTRATED), 0)
    return shapes.FrustratedShare(
        conversations=frustrated,
        share=_share(frustrated, conversations),
        top_signals=[
            shapes.SignalCount(signal=signal, conversations=n)
            for signal, n in rows if signal != FRUSTRATED
        ][:TOP_SIGNALS],
    )


async def _disruptions(db: AsyncSession, span: Span) -> shapes.Disruptions:
    flight = Handoff.context["flight_number"].as_string()
    rows = await db.execute(
        select(flight, Handoff.disruption, func.count())
        .where(span.holds(Handoff.requested_at), Handoff.disruption.is_not(None),
               flight.is_not(None), flight != "")
        .group_by(flight, Handoff.disruption)
    )
    flights: dict[str, Counter[str]] = defaultdict(Counter)
    for number, disruption, count in rows:
        flights[number][disruption] += count
    ranked = sorted(flights.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    return shapes.Disruptions(top_flights=[
        shapes.FlightCount(
            flight_number=number, handoffs=sum(types.values()),
            by_type=dict(sorted(types.items(), key=lambda item: (-item[1], item[0]))),
        )
        for number, types in ranked[:TOP_FLIGHTS]
    ])


async def _unanswered(db: AsyncSession, span: Span) -> shapes.Unanswered:
    period = span.holds(UnansweredMessage.at)
    count = func.count().label("count")
    last = func.max(UnansweredMessage.at).label("last")
    rows = (await db.execute(
        select(UnansweredMessage.topic_id, count, func.min(UnansweredMessage.at), last,
               UnansweredTopic.size, UnansweredTopic.decision, UnansweredTopic.intent,
               UnansweredTopic.name)
        .join(UnansweredTopic, UnansweredTopic.id == UnansweredMessage.topic_id)
        .where(period)
        .group_by(UnansweredMessage.topic_id, UnansweredTopic.size, UnansweredTopic.decision,
                  UnansweredTopic.intent, UnansweredTopic.name)
        .order_by(count.desc(), last.desc(), UnansweredMessage.topic_id)
    )).all()
    top = rows[:TOP_TOPICS]
    examples: dict[int, list[str]] = defaultdict(list)
    if top:
        # Ranked in the small table first; only the few examples shown read messages.
        latest = (
            select(
                UnansweredMessage.topic_id.label("topic_id"),
                UnansweredMessage.conversation_id.label("conversation_id"),
                UnansweredMessage.seq.label("seq"),
                func.row_number().over(
                    partition_by=UnansweredMessage.topic_id,
                    order_by=(UnansweredMessage.at.desc(), UnansweredMessage.id.desc()),
                ).label("rank"),
            )
            .where(period, UnansweredMessage.topic_id.in_([row[0] for row in top]))
            .subquery()
        )
        for topic, text in await db.execute(
            select(latest.c.topic_id, Message.text)
            .join(Message, and_(Message.conversation_id == latest.c.conversation_id,
                                Message.seq == latest.c.seq))
            .where(latest.c.rank <= EXAMPLES).order_by(latest.c.topic_id, latest.c.rank)
        ):
            examples[topic].append(text)
    return shapes.Unanswered(
        messages=sum(row[1] for row in rows),
        topics=[
            shapes.UnansweredTopic(
                topic_id=topic, count=n, examples=examples[topic],
                first_seen=iso(_aware(first)), last_seen=iso(_aware(latest_at)), total=size,
                decision=decision, intent=intent, name=name,
            )
            for topic, n, first, latest_at, size, decision, intent, name in top
        ],
    )
