"""History (GET /api/agent/conversations): every filter, the search and the pages, on
five known conversations, and what opening a past one shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from handoff import keys
from handoff.storage.models import Conversation, Handoff

from .conftest import Customer
from .test_resolutions import add_agent, detail
from .test_sockets import next_event

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


class Known:
    """Five conversations, newest first: bot, waiting, agent, resolved, old."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.customers: dict[str, Customer] = {}
        self.maya = 1
        self.sam = 0
        self.sam_headers: dict[str, str] = {}


async def _customer(client: TestClient) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    return Customer(client, body["id"], body["token"])


async def _times(client: TestClient, conversation_id: str, created: str, updated: str) -> None:
    async with client.app[keys.DB].write() as db:
        await db.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(created_at=at(created), updated_at=at(updated))
        )


@pytest.fixture
async def known(client: TestClient, agent_headers: dict[str, str]) -> Known:
    k = Known()
    k.sam_headers = await add_agent(client, "Sam")
    me = await (await client.get("/api/agent/me", headers=k.sam_headers)).json()
    k.sam = me["id"]

    async def made(name: str, first: str) -> Customer:
        customer = await _customer(client)
        await customer.say(first)
        k.ids[name], k.customers[name] = customer.id, customer
        return customer

    async def post(customer: Customer, what: str, headers: dict[str, str], **body: Any) -> None:
        response = await client.post(
            f"/api/agent/conversations/{customer.id}/{what}", json=body, headers=headers
        )
        assert response.status in (200, 201), await response.text()

    await made("bot", "is there 50% off on check in")
    waiting = await made("waiting", "can I talk to a real person")
    contact = await client.post(
        f"/api/conversations/{waiting.id}/contact",
        json={"name": "Ana Pereira", "email": "ana@example.com", "phone": "+44 20 7946 0018"},
        headers=waiting.headers,
    )
    assert contact.status == 200
    agent = await made("agent", "I am furious about this")
    await post(agent, "claim", agent_headers)
    resolved = await made("resolved", "my flight was cancelled")
    async with client.app[keys.DB].write() as db:
        await db.execute(
            update(Handoff)
            .where(Handoff.conversation_id == resolved.id)
            .values(context={"summary": "Flight cancelled.", "booking_reference": "QX7P2L",
                             "customer_name": "Anna Schmidt"})
        )
    await post(resolved, "claim", k.sam_headers)
    await post(resolved, "messages", k.sam_headers, text="I have rebooked you on BA 117.")
    await post(resolved, "notes", k.sam_headers, text="Wants a window seat next time.")
    tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    await post(resolved, "resolutions", k.sam_headers, action="rebook_next_flight",
               fields={"flight": "BA117", "departure": f"{tomorrow.isoformat()}T09:40"})
    await post(resolved, "resolve", k.sam_headers, outcome="rebooked")
    rated = await client.post(
        f"/api/conversations/{resolved.id}/rating", json={"score": 2, "comment": "slow"},
        headers=resolved.headers,
    )
    assert rated.status == 200
    # Maya passes this one to Sam, who resolves it: both handled it.
    old = await made("old", "a real person please")
    await post(old, "claim", agent_headers)
    sam_console = await client.ws_connect("/api/agent/ws", headers=k.sam_headers)
    await next_event(sam_console, "hello")
    await post(old, "transfer", agent_headers, agent_id=k.sam)
    await post(old, "resolve", k.sam_headers)
    await sam_console.close()

    await _times(client, k.ids["bot"], "2026-11-25T12:00:00", "2026-11-25T12:05:00")
    await _times(client, k.ids["waiting"], "2026-11-24T12:00:00", "2026-11-24T12:10:00")
    await _times(client, k.ids["agent"], "2026-11-23T12:00:00", "2026-11-23T12:10:00")
    await _times(client, k.ids["resolved"], "2026-11-20T23:30:00", "2026-11-21T00:30:00")
    await _times(client, k.ids["old"], "2026-11-01T10:00:00", "2026-11-01T10:20:00")
    return k


async def _page(client: TestClient, headers: dict[str, str], query: str) -> dict[str, Any]:
    response = await client.get(f"/api/agent/conversations?{query}", headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()  # type: ignore[no-any-return]


async def _names(client: TestClient, headers: dict[str, str], k: Known, query: str) -> list[str]:
    by_id = {v: name for name, v in k.ids.items()}
    return [by_id[c["id"]] for c in (await _page(client, headers, query))["conversations"]]


async def test_everything_newest_first_with_what_each_line_shows(
    client: TestClient, agent_headers: dict[str, str], known: Known
) -> None:
    page = await _page(client, agent_headers, "")

    assert [c["id"] for c in page["conversations"]] == [
        known.ids[n] for n in ("bot", "waiting", "agent", "resolved", "old")
    ]
    assert page["next"] is None
    lines = {c["id"]: c for c in page["conversations"]}
    assert [lines[known.ids[n]]["state"] for n in ("bot", "waiting", "agent", "resolved", "old")] \
        == ["bot", "waiting", "agent", "resolved", "resolved"]
    resolved = lines[known.ids["resolved"]]
    handoff = resolved["handoff"]
    assert {k: v for k, v in resolved.items() if k not in ("handoff", "ratings", "last_message")} == {
        "id": known.ids["resolved"], "status": "bot", "state": "resolved",
        "created_at": "2026-11-20T23:30:00+00:00", "updated_at": "2026-11-21T00:30:00+00:00",
        "agent": None, "handoffs": 1, "agents": [{"id": known.sam, "name": "Sam"}], "match": None,
    }
    assert (handoff["reason"], handoff["outcome"], handoff["context"]["booking_reference"],
            handoff["agent"], handoff["rating"], handoff["rating_comment"]) == (
        "disruption", "rebooked", "QX7P2L", {"id": known.sam, "name": "Sam"}, 2, "slow",
    )
    assert [{k: v for k, v in r.items() if k != "rated_at"} for r in resolved["ratings"]] == [
        {"handoff_id": handoff["id"], "score": 2, "comment": "slow",
         "agent": {"id": known.sam, "name": "Sam"}},
    ]
    assert resolved["ratings"][0]["rated_at"] == handoff["rated_at"] is not None
    last = resolved["last_message"]
    assert (last["sender"], last["text"]) == (
        "system",
        "Sam has marked this conversation as resolved. The Baton assistant is back: ask me "
        "anything, any time.",
    )
    bot = lines[known.ids["bot"]]
    assert (bot["handoff"], bot["handoffs"], bot["agents"], bot["ratings"]) == (None, 0, [], [])
    assert (bot["last_message"]["seq"], bot["last_message"]["text"]) == (
        2, "Answer to: is there 50% off on check in",
    )
    assert lines[known.ids["agent"]]["agent"] == {"id": 1, "name": "Maya"}
    assert lines[known.ids["old"]]["agents"] == [
        {"id": 1, "name": "Maya"}, {"id": known.sam, "name": "Sam"},
    ]


FILTERS = [
        ("status=bot", ["bot"]),
        ("status=waiting", ["waiting"]),
        ("status=agent", ["agent"]),
        ("status=resolved", ["resolved", "old"]),
        ("reason=requested", ["waiting", "old"]),
        ("reason=frustration", ["agent"]),
        ("reason=disruption", ["resolved"]),
        ("reason=bot_unavailable", []),
        ("status=resolved&reason=requested", ["old"]),
        # A whole UTC day: going on at some time of it.
        ("from=2026-11-21&to=2026-11-21", ["resolved"]),
        ("from=2026-11-22", ["bot", "waiting", "agent"]),
        ("to=2026-11-20", ["resolved", "old"]),
        ("to=2026-11-19", ["old"]),
        # Moments with their offset: 2026-11-20T23:00Z and 2026-11-21T00:00Z.
        ("to=2026-11-21T00:00:00%2B01:00", ["old"]),
        ("from=2026-11-21T01:00:00%2B01:00", ["bot", "waiting", "agent", "resolved"]),
        ("from=2026-11-21T00:31:00Z&to=2026-11-24", ["waiting", "agent"]),
        # The search: booking reference (only in the handoff's context), contact, text.
        ("q=qx7p2l", ["resolved"]),
        ("q=ANA@example.COM", ["waiting"]),
        ("q=7946 0018", ["waiting"]),
        ("q=pereira", ["waiting"]),
        # The name the bot read in what the customer said.
        ("q=schmidt", ["resolved"]),
        ("q=furious", ["agent"]),
        ("q=BA 117", ["resolved"]),
        ("q=real person", ["waiting", "old"]),
        ("q=real person&status=waiting", ["waiting"]),
        # Wildcards are plain characters.
        ("q=50%25", ["bot"]),
        ("q=%25", ["bot"]),
        ("q=_", []),
        ("q=nothing like this", []),
]


async def test_each_filter_and_the_search(
    client: TestClient, agent_headers: dict[str, str], known: Known
) -> None:
    # One set of known conversations for every case: each query and what it lists.
    got = [(query, await _names(client, agent_headers, known, query)) for query, _ in FILTERS]

    assert got == FILTERS


async def test_the_agent_who_handled_it(
    client: TestClient, agent_headers: dict[str, str], known: Known
) -> None:
    assert await _names(client, agent_headers, known, "agent=1") == ["agent", "old"]
    # Sam resolved the one Maya passed on: it is both of theirs.
    assert await _names(client, agent_headers, known, f"agent={known.sam}") == ["resolved", "old"]
    assert await _names(client, agent_headers, known, f"agent={known.sam}&status=agent") == []


async def test_a_search_by_text_shows_the_first_matching_message(
    client: TestClient, agent_headers: dict[str, str], known: Known
) -> None:
    [line] = (await _page(client, agent_headers, "q=rebooked you"))["conversations"]

    assert (line["match"]["sender"], line["match"]["text"]) == (
        "agent", "I have rebooked you on BA 117.",
    )
    [by_id] = (await _page(client, agent_headers, f"q={known.ids['old'][:8]}"))["conversations"]
    assert (by_id["id"], by_id["match"]) == (known.ids["old"], None)


async def test_pages_follow_each_other_without_gaps_or_repeats(
    client: TestClient, agent_headers: dict[str, str], known: Known
) -> None:
    first = await _page(client, agent_headers, "limit=2")
    second = await _page(client, agent_headers, f"limit=2&before={first['next']}")
    third = await _page(client, agent_headers, f"limit=2&before={second['next']}")

    ids = known.ids
    assert [c["id"] for c in first["conversations"]] == [ids["bot"], ids["waiting"]]
    assert first["next"] == ids["waiting"]
    assert [c["id"] for c in second["conversations"]] == [ids["agent"], ids["resolved"]]
    assert second["next"] == ids["resolved"]
    assert [c["id"] for c in third["conversations"]] == [ids["old"]]
    assert third["next"] is None
    # With a filter, the pages are of the filtered list.
    resolved = await _page(client, agent_headers, "status=resolved&limit=1")
    assert ([c["id"] for c in resolved["conversations"]], resolved["next"]) == (
        [ids["resolved"]], ids["resolved"],
    )
    rest = await _page(client, agent_headers, f"status=resolved&limit=1&before={ids['resolved']}")
    assert ([c["id"] for c in rest["conversations"]], rest["next"]) == ([ids["old"]], None)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=closed", "status", "'status' must be one of: bot, waiting, agent, resolved"),
        ("reason=angry", "reason",
         "'reason' must be one of: requested, frustration, disruption, bot_failure, "
         "bot_unavailable"),
        ("from=2026-13-01", "from",
         "'from' must be a date (2026-12-03) or a date and time with its offset "
         "(2026-12-03T08:00:00+01:00)"),
        ("to=yesterday", "to",
         "'to' must be a date (2026-12-03) or a date and time with its offset "
         "(2026-12-03T08:00:00+01:00)"),
        ("from=2026-11-01T10:00", "from",
         "'from' needs its time zone offset, e.g. 2026-11-01T10:00+00:00 or 2026-11-01T10:00Z"),
        ("from=2026-11-22&to=2026-11-21", "from", "'from' must be before 'to'"),
        ("limit=0", "limit", "'limit' must be a whole number from 1 to 100"),
        ("limit=101", "limit", "'limit' must be a whole number from 1 to 100"),
        ("limit=ten", "limit", "'limit' must be a whole number from 1 to 100"),
        ("agent=maya", "agent", "'agent' must be an agent's id"),
        ("agent=999", "agent", "there is no agent with id 999"),
        ("before=nope", "before",
         "'before' must be the id of a conversation (the 'next' of the page before)"),
        ("q=" + "x" * 201, "q", "'q' is longer than 200 characters"),
    ],
)
async def test_bad_filters_are_refused_in_plain_words(
    client: TestClient, agent_headers: dict[str, str], query: str, field: str, message: str
) -> None:
    response = await client.get(f"/api/agent/conversations?{query}", headers=agent_headers)

    assert response.status == 400
    assert await response.json() == {"error": {"status": 400, "message": message, "field": field}}


async def test_history_is_for_agents_only(client: TestClient, customer: Customer) -> None:
    await customer.say("hello")
    for headers in ({}, customer.headers):
        response = await client.get("/api/agent/conversations", headers=headers)
        assert response.status == 401


async def test_opening_a_past_conversation_shows_all_of_it(
    client: TestClient, agent_headers: dict[str, str], known: Known
) -> None:
    """Transcript, context, notes, actions and the rating, for any agent, read-only."""
    seen = await detail(client, known.customers["resolved"], agent_headers)

    assert [m["seq"] for m in seen["messages"]] == list(range(1, len(seen["messages"]) + 1))
    # (The action's own message to the customer follows the agent's reply.)
    assert [(m["sender"], m["text"]) for m in seen["messages"] if m["sender"] != "system"][:3] == [
        ("customer", "my flight was cancelled"),
        # Nobody was online at the handoff, so the gateway said so in the bot's place.
        ("bot", "I'm really sorry your travel plans have been disrupted. This needs a person "
                "who can look into your booking. None of my colleagues is online to chat just "
                "now. Your place in the queue is kept, and the first colleague to come online "
                "will reply here, with everything you've told me. If you'd rather not wait, "
                "leave your email and a short message and we'll get back to you."),
        ("agent", "I have rebooked you on BA 117."),
    ]
    assert seen["messages"][-1]["text"] == (
        "Sam has marked this conversation as resolved. The Baton assistant is back: ask me "
        "anything, any time."
    )
    assert (seen["status"], seen["state"]) == ("bot", "resolved")
    never = await detail(client, known.customers["bot"], agent_headers)
    assert (never["status"], never["state"], never["handoffs"]) == ("bot", "bot", [])
    assert seen["handoff"]["context"] == {
        "summary": "Flight cancelled.", "booking_reference": "QX7P2L", "customer_name": "Anna Schmidt",
    }
    assert (seen["handoff"]["rating"], seen["handoff"]["rating_comment"]) == (2, "slow")
    assert seen["handoff"]["rated_at"] is not None
    assert [n["text"] for n in seen["notes"]] == ["Wants a window seat next time."]
    assert [(r["action"], r["status"]) for r in seen["resolutions"]] == [
        ("rebook_next_flight", "done"),
    ]
    reply = await client.post(
        f"/api/agent/conversations/{known.ids['resolved']}/messages", json={"text": "hi"},
        headers=agent_headers,
    )
    assert reply.status == 409
