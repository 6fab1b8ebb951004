"""GET /api/agent/insights: exact figures from known conversations, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from handoff import keys
from handoff.assistant.frustration import FRUSTRATION_THRESHOLD, frustrated_signals, record_frustration
from handoff.storage.models import (
    Agent,
    Conversation,
    Handoff,
    Message,
    Resolution,
    UnansweredMessage,
    UnansweredTopic,
)

from .conftest import AGENT_EMAIL
from .test_resolutions import add_agent, claimed

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment in November 2026 (31: October's last day, 34: December the 4th)."""
    base = dt.datetime(2026, 11, 1, tzinfo=UTC)
    return base + dt.timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second)


def frustration(score: float, *signals: str) -> dict[str, Any]:
    return {"intent": "ask_check_in", "confidence": 0.9, "intent_ranking": [], "entities": [],
            "frustration": {"score": score, "signals": list(signals)},
            "disruption": {"type": None}}


class Seeder:
    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.count = 0

    def conversation(
        self, started: dt.datetime, messages: list[tuple[str, dt.datetime, dict[str, Any] | None]],
        **fields: Any,
    ) -> str:
        self.count += 1
        cid = f"c{self.count:031d}"
        self.rows.append(Conversation(id=cid, token_hash="x" * 64, created_at=started,
                                      updated_at=started, last_seq=len(messages), **fields))
        for seq, (sender, when, nlu) in enumerate(messages, 1):
            self.rows.append(Message(conversation_id=cid, seq=seq, sender=sender,
                                     text=f"{sender} {seq} in {self.count}", created_at=when,
                                     nlu=nlu))
        return cid

    def handoff(self, cid: str, requested: dt.datetime, reason: str, **fields: Any) -> None:
        self.rows.append(Handoff(conversation_id=cid, requested_at=requested, reason=reason,
                                 context=fields.pop("context", {}), **fields))


async def seed(client: TestClient) -> None:
    """Three days, 2026-11-01 to 11-03, between conversations just outside them."""
    s = Seeder()
    async with client.app[keys.DB].write() as db:
        maya = await db.scalar(select(Agent.id).where(Agent.email == AGENT_EMAIL))
    customer = "customer"
    # Just before the period: not counted, but its rating, given on the 1st, is.
    c0 = s.conversation(at(31, 23, 59, 59), [(customer, at(31, 23, 59, 59), frustration(0.9, "profanity"))])
    s.handoff(c0, at(31, 23, 59, 59), "bot_unavailable", rating=4, rated_at=at(1, 12))
    # The 1st: two contained (one frustrated), one request answered in 3 min, rated 5.
    s.conversation(at(1, 8), [(customer, at(1, 8), frustration(0.1))])
    c2 = s.conversation(at(1, 9), [(customer, at(1, 9), frustration(0.8, "angry_wording", "profanity"))])
    c3 = s.conversation(at(1, 10), [(customer, at(1, 10), None), ("agent", at(1, 10, 3), None)])
    s.handoff(c3, at(1, 10), "requested", claimed_at=at(1, 10, 2), resolved_at=at(1, 10, 20),
              first_reply_at=at(1, 10, 3),
              agent_id=maya, rating=5, rating_comment="Great help", rated_at=at(1, 10, 21))
    # The 2nd: a cancelled and a delayed BA117 and a frustrated customer.
    c4 = s.conversation(at(2, 9), [(customer, at(2, 9), frustration(FRUSTRATION_THRESHOLD, "long_wait")),
                                   ("agent", at(2, 9, 0, 30), None)])
    s.handoff(c4, at(2, 9), "disruption", disruption="cancelled", agent_id=maya,
              context={"flight_number": "BA117"}, claimed_at=at(2, 9, 0, 20),
              first_reply_at=at(2, 9, 0, 30),
              resolved_at=at(2, 9, 30, 20), rating=2, rating_comment="Took ages",
              rated_at=at(3, 8))
    c5 = s.conversation(at(2, 12), [(customer, at(2, 12), None)], status="waiting",
                        customer_left_at=at(2, 12, 5))
    s.handoff(c5, at(2, 12), "disruption", disruption="delayed", context={"flight_number": "BA117"})
    c6 = s.conversation(at(2, 13), [(customer, at(2, 13), None)], status="waiting",
                        customer_left_at=at(2, 13, 5))
    s.handoff(c6, at(2, 13), "frustration", contact={"email": "a@example.com"},
              context={"frustration": {"score": 0.7, "signals": ["repeated_question", "angry_wording"]}})
    # The 3rd: a cancelled LH400 answered after an hour and a second, a bot failure.
    c7 = s.conversation(at(3, 23, 59, 59), [(customer, at(3, 23, 59, 59), None),
                                            ("agent", at(4, 1, 0, 0), None)])
    s.handoff(c7, at(3, 23, 59, 59), "disruption", disruption="cancelled",
              context={"flight_number": "LH400"}, claimed_at=at(4, 0, 59),
              first_reply_at=at(4, 1))
    c8 = s.conversation(at(3, 10), [(customer, at(3, 10), frustration(0.59, "sarcasm")),
                                    ("agent", at(3, 10, 6, 40), None)])
    s.handoff(c8, at(3, 10), "bot_failure", claimed_at=at(3, 10, 6), first_reply_at=at(3, 10, 6, 40))
    # Just after the period: not counted.
    c9 = s.conversation(at(4), [(customer, at(4), frustration(0.9, "shouting"))])
    s.handoff(c9, at(4), "disruption", disruption="cancelled", context={"flight_number": "BA117"})
    # What the bot could not answer: one topic asked on the 1st, the 3rd and before the
    # period; another on the 2nd.
    spa, rain = UnansweredTopic(vector_sum=b"\0" * 1536, size=3, first_seen=at(31, 23, 59, 59),
                                last_seen=at(3, 10)), \
        UnansweredTopic(vector_sum=b"\0" * 1536, size=1, first_seen=at(2, 12), last_seen=at(2, 12),
                        decision="ignored")
    async with client.app[keys.DB].write() as db:
        db.add_all(s.rows)
        db.add_all([spa, rain])
        await db.flush()
        db.add_all([
            UnansweredMessage(conversation_id=cid, seq=1, topic_id=topic.id, intent="out_of_scope", at=when)
            for cid, topic, when in [(c0, spa, at(31, 23, 59, 59)), (c2, spa, at(1, 9)),
                                     (c8, spa, at(3, 10)), (c5, rain, at(2, 12))]
        ])
        handoff_of = {h.conversation_id: h.id for h in s.rows if isinstance(h, Handoff)}
        for row in s.rows:
            if isinstance(row, Conversation) and row.status == "waiting":
                row.handoff_id = handoff_of[row.id]
        db.add_all([
            Resolution(conversation_id=c4, handoff_id=handoff_of[c4], action="voucher",
                       label="Travel voucher", amount_minor=15000, currency="EUR",
                       status="done", requested_by_id=maya, requested_at=at(2, 9, 10),
                       decided_by_id=maya, decided_at=at(2, 9, 12)),
            Resolution(conversation_id=c4, handoff_id=handoff_of[c4], action="rebook",
                       label="Rebook", status="rejected", requested_by_id=maya,
                       requested_at=at(2, 9, 11), decided_by_id=maya, decided_at=at(2, 9, 13)),
            Resolution(conversation_id=c7, handoff_id=handoff_of[c7], action="voucher",
                       label="Travel voucher", amount_minor=50000, currency="EUR",
                       status="pending_approval", requested_by_id=maya, requested_at=at(4, 1)),
            Resolution(conversation_id=c8, handoff_id=handoff_of[c8], action="voucher",
                       label="Travel voucher", amount_minor=2000, currency="EUR",
                       status="done", requested_by_id=maya, requested_at=at(3, 10, 7)),
        ])
    # What the gateway records as turns are read (handoff.assistant.frustration).
    for row in s.rows:
        found = None
        if isinstance(row, Message) and row.sender == "customer" and row.nlu:
            found = frustrated_signals(row.nlu["frustration"])
        elif isinstance(row, Handoff) and row.reason == "frustration":
            found = frustrated_signals(row.context.get("frustration"), handed_off=True)
        if found is not None:
            await record_frustration(client.app[keys.DB], row.conversation_id, found, at(1))


def reasons(**counts: int) -> dict[str, int]:
    return {reason: counts.get(reason, 0) for reason in
            ("requested", "frustration", "disruption", "bot_failure", "bot_unavailable")}


async def test_every_figure_of_three_known_days(client: TestClient) -> None:
    await seed(client)
    supervisor = await add_agent(client, "Ines", "supervisor")
    response = await client.get("/api/agent/insights?from=2026-11-01&to=2026-11-03",
                                headers=supervisor)
    assert response.status == 200, await response.text()
    report = await response.json()
    no_rating = {"count": 0, "average": None}
    assert report == {
        "period": {"from": "2026-11-01", "to": "2026-11-03", "days": 3},
        "conversations": 8,
        "contained": 2,
        "containment_rate": 0.25,
        "handoffs": {
            "total": 6,
            "by_reason": reasons(requested=1, frustration=1, disruption=3, bot_failure=1),
            "by_disruption": {"cancelled": 2, "delayed": 1},
            "per_day": [
                {"date": "2026-11-01", "conversations": 3, "contained": 2, "handoffs": 1,
                 "by_reason": reasons(requested=1)},
                {"date": "2026-11-02", "conversations": 3, "contained": 0, "handoffs": 3,
                 "by_reason": reasons(disruption=2, frustration=1)},
                {"date": "2026-11-03", "conversations": 2, "contained": 0, "handoffs": 2,
                 "by_reason": reasons(disruption=1, bot_failure=1)},
            ],
        },
        "waits": {
            # 30 s, 180 s, 400 s and 3,601 s
            "answered": 4, "p50": 180.0, "p90": 3601.0,
            "buckets": {"under_1_min": 1, "from_1_to_5_min": 1, "from_5_to_15_min": 1,
                        "from_15_to_60_min": 0, "over_60_min": 1},
            "abandoned": 1, "contact_left": 1, "waiting": 2,
        },
        "resolution": {
            # claimed to resolved: 1,080 s and 1,800 s
            "resolved": 2, "p50": 1080.0, "p90": 1800.0,
            "actions": [
                {"action": "voucher", "label": "Travel voucher", "count": 2,
                 "total_amount": {"EUR": 170.0}, "approved": 1, "rejected": 0, "pending": 0,
                 "done": 2, "failed": 0},
                {"action": "rebook", "label": "Rebook", "count": 1, "total_amount": {},
                 "approved": 0, "rejected": 1, "pending": 0, "done": 0, "failed": 0},
            ],
        },
        "csat": {
            "count": 3, "average": 3.67,
            "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
            "per_day": [
                {"date": "2026-11-01", "count": 2, "average": 4.5},
                {"date": "2026-11-02", "count": 0, "average": None},
                {"date": "2026-11-03", "count": 1, "average": 2.0},
            ],
            "by_reason": {
                "requested": {"count": 1, "average": 5.0},
                "frustration": no_rating,
                "disruption": {"count": 1, "average": 2.0},
                "bot_failure": no_rating,
                "bot_unavailable": {"count": 1, "average": 4.0},
            },
            "comments": [
                {"conversation_id": f"c{5:031d}", "rating": 2,
                 "comment": "Took ages", "reason": "disruption",
                 "rated_at": "2026-11-03T08:00:00+00:00"},
                {"conversation_id": f"c{4:031d}", "rating": 5,
                 "comment": "Great help", "reason": "requested",
                 "rated_at": "2026-11-01T10:21:00+00:00"},
            ],
        },
        "unanswered": {
            "messages": 3,
            "topics": [
                {"topic_id": 1, "count": 2, "examples": ["customer 1 in 9", "customer 1 in 3"],
                 "first_seen": "2026-11-01T09:00:00+00:00",
                 "last_seen": "2026-11-03T10:00:00+00:00", "total": 3,
                 "decision": None, "intent": None, "name": None},
                {"topic_id": 2, "count": 1, "examples": ["customer 1 in 6"],
                 "first_seen": "2026-11-02T12:00:00+00:00",
                 "last_seen": "2026-11-02T12:00:00+00:00", "total": 1,
                 "decision": "ignored", "intent": None, "name": None},
            ],
        },
        "frustration": {
            "conversations": 3, "share": 0.375,
            "top_signals": [
                {"signal": "angry_wording", "conversations": 2},
                {"signal": "long_wait", "conversations": 1},
                {"signal": "profanity", "conversations": 1},
                {"signal": "repeated_question", "conversations": 1},
            ],
        },
        "disruptions": {
            "top_flights": [
                {"flight_number": "BA117", "handoffs": 2, "by_type": {"cancelled": 1, "delayed": 1}},
                {"flight_number": "LH400", "handoffs": 1, "by_type": {"cancelled": 1}},
            ],
        },
    }


async def test_a_period_with_nothing_in_it_is_zeros_and_nulls(client: TestClient) -> None:
    await seed(client)
    supervisor = await add_agent(client, "Ines", "supervisor")
    report = await (await client.get("/api/agent/insights?from=2026-10-01&to=2026-10-02",
                                     headers=supervisor)).json()
    assert (report["conversations"], report["contained"], report["containment_rate"]) == (0, 0, None)
    assert report["handoffs"]["per_day"] == [
        {"date": f"2026-10-0{d}", "conversations": 0, "contained": 0, "handoffs": 0,
         "by_reason": reasons()} for d in (1, 2)
    ]
    assert report["waits"] == {
        "answered": 0, "p50": None, "p90": None,
        "buckets": {"under_1_min": 0, "from_1_to_5_min": 0, "from_5_to_15_min": 0,
                    "from_15_to_60_min": 0, "over_60_min": 0},
        "abandoned": 0, "contact_left": 0, "waiting": 0,
    }
    assert report["csat"]["average"] is None and report["csat"]["comments"] == []
    assert report["frustration"] == {"conversations": 0, "share": None, "top_signals": []}
    assert report["unanswered"] == {"messages": 0, "topics": []}


async def test_a_conversation_through_the_api_shows_up_in_todays_figures(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    sent = await client.post(f"/api/agent/conversations/{customer.id}/messages",
                             json={"text": "I am on it."}, headers=agent_headers)
    assert sent.status == 201
    resolved = await client.post(f"/api/agent/conversations/{customer.id}/resolve",
                                 json={"outcome": "rebooked"}, headers=agent_headers)
    assert resolved.status == 200
    rated = await client.post(f"/api/conversations/{customer.id}/rating",
                              json={"score": 4, "comment": "quick"}, headers=customer.headers)
    assert rated.status == 200
    bot_only = await (await client.post("/api/conversations")).json()
    answered = await client.post(f"/api/conversations/{bot_only['id']}/messages",
                                 json={"text": "how do I check in"},
                                 headers={"Authorization": f"Bearer {bot_only['token']}"})
    assert answered.status == 200
    supervisor = await add_agent(client, "Ines", "supervisor")

    report = await (await client.get("/api/agent/insights?days=1", headers=supervisor)).json()

    today = dt.datetime.now(UTC).date().isoformat()
    assert report["period"] == {"from": today, "to": today, "days": 1}
    assert (report["conversations"], report["contained"], report["containment_rate"]) == (2, 1, 0.5)
    assert report["handoffs"]["by_reason"] == reasons(requested=1)
    assert report["waits"]["answered"] == 1 and report["waits"]["buckets"]["under_1_min"] == 1
    assert report["resolution"]["resolved"] == 1
    assert report["csat"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert [(c["conversation_id"], c["comment"]) for c in report["csat"]["comments"]] == [
        (customer.id, "quick")
    ]


async def test_only_supervisors_read_insights_and_bad_periods_are_refused(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    client.session.cookie_jar.clear()  # the login's cookie
    assert (await client.get("/api/agent/insights")).status == 401
    refused = await client.get("/api/agent/insights", headers=agent_headers)
    assert refused.status == 403
    supervisor = await add_agent(client, "Ines", "supervisor")
    bad = {
        "days=0": ("days", "'days' must be a whole number from 1 to 731"),
        "days=732": ("days", "'days' must be a whole number from 1 to 731"),
        "days=ten": ("days", "'days' must be a whole number from 1 to 731"),
        "days=7&from=2026-11-01": ("days", "give either 'days' or 'from' and 'to', not both"),
        "from=2026-13-01": ("from", "'from' must be a date, e.g. 2026-12-03"),
        "to=2026-11-01T00:00": ("to", "'to' must be a date, e.g. 2026-12-03"),
        "from=2026-11-05&to=2026-11-04": ("from", "'from' must not be after 'to'"),
        "from=2024-01-01&to=2026-01-01": ("to", "a period is at most 731 days"),
    }
    for query, (field, message) in bad.items():
        response = await client.get(f"/api/agent/insights?{query}", headers=supervisor)
        assert response.status == 400, query
        assert (await response.json())["error"] == {"status": 400, "message": message, "field": field}
    alone = await (await client.get("/api/agent/insights?from=2026-11-01", headers=supervisor)).json()
    assert alone["period"] == {"from": "2026-11-01", "to": "2026-11-30", "days": 30}
    ending = await (await client.get("/api/agent/insights?to=2026-11-30", headers=supervisor)).json()
    assert ending["period"] == {"from": "2026-11-01", "to": "2026-11-30", "days": 30}


def test_the_threshold_is_the_handoff_policys() -> None:
    # config.yml read as text: the gateway's environment has no YAML parser.
    found = re.findall(r"^\s+frustration_threshold:\s*([0-9.]+)\s*$", (ROOT / "config.yml").read_text(), re.M)
    assert [float(value) for value in found] == [FRUSTRATION_THRESHOLD]


async def test_each_handoff_keeps_its_own_first_reply(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    path = f"/api/agent/conversations/{customer.id}"

    async def reply(text: str) -> str:
        sent = await client.post(f"{path}/messages", json={"text": text}, headers=agent_headers)
        assert sent.status == 201
        return (await sent.json())["message"]["created_at"]

    async def first_replies() -> list[str | None]:
        async with client.app[keys.DB].read() as db:
            rows = await db.scalars(select(Handoff.first_reply_at)
                                    .where(Handoff.conversation_id == customer.id).order_by(Handoff.id))
            return [None if at is None else at.isoformat() for at in rows]

    first = await reply("Hello, I am Maya.")
    await reply("Let me look at your booking.")
    assert await first_replies() == [first]
    assert (await client.post(f"{path}/resolve", json={}, headers=agent_headers)).status == 200
    await customer.say("a person please, again")
    assert await first_replies() == [first, None]
    assert (await client.post(f"{path}/claim", headers=agent_headers)).status == 200
    second = await reply("Back again? Tell me.")
    await reply("Done.")
    assert await first_replies() == [first, second]
