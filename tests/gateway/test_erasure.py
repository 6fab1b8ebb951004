"""A supervisor finds one customer's conversations and erases them, audited; on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from handoff import keys
from handoff.storage.models import (
    AuditEntry,
    Conversation,
    CustomerIdentity,
    Handoff,
    Message,
    UnansweredMessage,
    UnansweredTopic,
)

from .conftest import Customer, MakeClient
from .fake_rasa import FakeRasa
from .test_identity import IDENTITY, SECRET, signature
from .test_resolutions import add_agent

ERASURES = "/api/agent/privacy/erasures"
FIND = "/api/agent/privacy/conversations"


async def _customer(client: TestClient, *lines: str) -> Customer:
    body = await (await client.post("/api/conversations")).json()
    customer = Customer(client, body["id"], body["token"])
    for line in lines:
        await customer.say(line)
    return customer


async def _contact(client: TestClient, conversation_id: str, **contact: Any) -> None:
    """A resolved handoff where the customer left these details for a follow-up."""
    async with client.app[keys.DB].write() as db:
        db.add(Handoff(conversation_id=conversation_id, reason="requested", contact=contact,
                       context={"booking_reference": "QX7P2L", "flight_number": "BA117"},
                       rating=4, rating_comment="Thanks Ann here"))


async def _learned(client: TestClient, conversation_id: str) -> None:
    """The conversation's first message is an example of an assigned topic."""
    async with client.app[keys.DB].write() as db:
        topic = UnansweredTopic(vector_sum=b"\0" * 1536, size=1, decision="assigned",
                                intent="baggage_allowance")
        db.add(topic)
        await db.flush()
        db.add(UnansweredMessage(conversation_id=conversation_id, seq=1, topic_id=topic.id,
                                 intent="out_of_scope"))


async def test_a_customer_is_found_by_what_names_them(make_client: MakeClient) -> None:
    client = await make_client(retention_sweep_seconds=0)
    ann = await _customer(client, "my email is Ann.Lee@Example.com, booking qx7p2l")
    await _contact(client, ann.id, email="ann.lee@example.com", phone="+44 20 7946 0018")
    other = await _customer(client, "how do I check in?")
    await _contact(client, other.id, email="bob@example.com", phone="+44 20 7946 0019")
    supervisor = await add_agent(client, "Ines", "supervisor")

    async def found(query: str) -> list[tuple[str, list[str]]]:
        response = await client.get(f"{FIND}?{query}", headers=supervisor)
        assert response.status == 200, await response.text()
        return [(c["id"], c["matched"]) for c in (await response.json())["conversations"]]

    assert await found("email=ANN.LEE@example.com") == [
        (ann.id, ["contact email", "email in a message"])]
    assert await found("phone=0044%20(20)%207946-0018") == []  # not the same digits
    assert await found("phone=%2B44%2020%207946%200018") == [(ann.id, ["contact phone"])]
    # The other customer's handoff names the same booking in its context.
    assert sorted(await found("booking_reference=QX7%20P2L")) == sorted([
        (ann.id, ["booking reference", "booking reference in a message"]),
        (other.id, ["booking reference"]),
    ])
    assert await found("email=nobody@example.com") == []
    body = await (await client.get(f"{FIND}?email=ann.lee@example.com", headers=supervisor)).json()
    assert set(body["conversations"][0]) == {
        "id", "status", "created_at", "updated_at", "redacted_at", "redaction", "matched"}
    assert (body["conversations"][0]["status"], body["conversations"][0]["redacted_at"]) == (
        "bot", None)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 400, "give the customer's email, phone, booking_reference or customer_id"),
        ("email=%20", 400, "give the customer's email, phone, booking_reference or customer_id"),
        ("email=ann", 400, "'email' must be an email address"),
        ("phone=12345", 400, "'phone' must have at least 6 digits"),
        ("booking_reference=QX7", 400, "'booking_reference' must have at least 5 characters"),
        (f"email={'a' * 321}@x", 400, "'email' is longer than 320 characters"),
    ],
)
async def test_a_search_without_a_usable_name_is_refused(
    client: TestClient, query: str, status: int, message: str
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    response = await client.get(f"{FIND}?{query}", headers=supervisor)
    assert (response.status, (await response.json())["error"]["message"]) == (status, message)


async def test_only_supervisors_find_and_erase(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await _customer(client, "hello")
    for method, path, body in [
        ("GET", f"{FIND}?email=a@example.com", None),
        ("POST", ERASURES, {"conversation_ids": [customer.id], "reason": "asked"}),
        ("GET", "/api/agent/privacy", None),
    ]:
        for headers, status in [({}, 401), (agent_headers, 403)]:
            if not headers:
                client.session.cookie_jar.clear()  # the login's cookie
            response = await client.request(method, path, json=body, headers=headers)
            assert response.status == status, (path, await response.text())
    assert len(await customer.messages()) == 2


async def test_an_erasure_deletes_the_customers_conversations_audited(
    make_client: MakeClient, rasa: FakeRasa, tmp_path: Path
) -> None:
    learned = tmp_path / "learned_nlu.yml"
    client = await make_client(retention_sweep_seconds=0, learned_file=learned)
    ann = await _customer(client, "can I take my surfboard, Ann Lee here", "QX7P2L")
    await _contact(client, ann.id, email="ann@example.com")
    await _learned(client, ann.id)
    again = await _customer(client, "ann@example.com again about my surfboard")
    other = await _customer(client, "can I bring my skis")
    await _learned(client, other.id)
    supervisor = await add_agent(client, "Ines", "supervisor")
    ws = await ann.socket()

    response = await client.post(ERASURES, headers=supervisor, json={
        "conversation_ids": [ann.id, again.id], "reason": "Ann asked by email on 7 Dec"})

    assert response.status == 200, await response.text()
    assert await response.json() == {
        "erased": sorted([ann.id, again.id]), "already_erased": [],
        "messages_deleted": 6, "notes_deleted": 0, "assistant_forgotten": True,
        "training_examples": 1,
    }
    assert sorted(rasa.forgotten) == sorted([ann.id, again.id])
    # The learned training data no longer has Ann's question; the other customer's stays.
    assert "surfboard" not in learned.read_text() and "can I bring my skis" in learned.read_text()
    async with client.app[keys.DB].read() as db:
        left = set(await db.scalars(select(Message.conversation_id).distinct()))
        assert left == {other.id}
        handoff = await db.scalar(select(Handoff).where(Handoff.conversation_id == ann.id))
        assert (handoff.context, handoff.contact, handoff.rating, handoff.rating_comment) == (
            {"flight_number": "BA117"}, {"left_at": None}, 4, None)
        assert await db.scalar(select(func.count()).select_from(UnansweredMessage)) == 2
        audit = [(a.action, a.conversation_id, a.details, a.agent.name) for a in
                 (await db.scalars(select(AuditEntry).where(AuditEntry.action.in_(
                     ("erasure", "conversation_erased"))).order_by(AuditEntry.id))).unique()]
        conversation = await db.get(Conversation, ann.id)
        assert (conversation.redaction, conversation.assistant_forget_pending) == ("erasure", False)
    first, second = sorted([ann.id, again.id])
    reason = "Ann asked by email on 7 Dec"
    assert audit == [
        ("conversation_erased", first, {"reason": reason}, "Ines"),
        ("conversation_erased", second, {"reason": reason}, "Ines"),
        ("erasure", None, {"conversation_ids": [first, second], "already_erased": [],
                           "reason": reason, "messages": 6, "notes": 0}, "Ines"),
    ]
    closed = None
    while closed is None or closed.type.name == "TEXT":
        closed = await ws.receive()
    assert (closed.data, closed.extra) == (4404, "conversation not found")
    detail = await client.get(f"/api/agent/conversations/{ann.id}", headers=supervisor)
    assert detail.status == 410
    assert (await detail.json())["error"]["message"].endswith("(erasure)")
    assert await (await client.get(f"{FIND}?email=ann@example.com", headers=supervisor)).json() \
        == {"conversations": []}

    repeat = await client.post(ERASURES, headers=supervisor, json={
        "conversation_ids": [ann.id], "reason": "twice"})
    assert (await repeat.json())["erased"] == [] and (await repeat.json())["already_erased"] == [
        ann.id]


async def test_an_erasure_is_refused_whole_for_an_open_or_unknown_conversation(
    client: TestClient, rasa: FakeRasa
) -> None:
    calm = await _customer(client, "how do I check in?")
    waiting = await _customer(client, "I want to talk to a person")
    async with client.app[keys.DB].read() as db:
        assert (await db.get(Conversation, waiting.id)).status == "waiting"
    supervisor = await add_agent(client, "Ines", "supervisor")
    for ids, status, message in [
        ([calm.id, waiting.id], 409, f"still with the team, resolve first: {waiting.id}"),
        ([calm.id, "nope"], 404, "no such conversation: nope"),
    ]:
        response = await client.post(ERASURES, headers=supervisor,
                                     json={"conversation_ids": ids, "reason": "asked"})
        assert (response.status, (await response.json())["error"]["message"]) == (
            status, message)
    assert len(await calm.messages()) == 2
    assert rasa.forgotten == []
    async with client.app[keys.DB].read() as db:
        assert await db.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "erasure")) == 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"conversation_ids": [], "reason": "x"}, 400,
         "'conversation_ids' must be a list of 1 to 100 conversation ids"),
        ({"conversation_ids": ["a"] * 101, "reason": "x"}, 400,
         "'conversation_ids' must be a list of 1 to 100 conversation ids"),
        ({"conversation_ids": "abc", "reason": "x"}, 400,
         "'conversation_ids' must be a list of 1 to 100 conversation ids"),
        ({"conversation_ids": ["abc"]}, 400, "'reason' is required"),
        ({"conversation_ids": ["abc"], "reason": "  "}, 400, "'reason' must not be empty"),
        ({"conversation_ids": ["abc"], "reason": "x" * 501}, 413,
         "'reason' is longer than 500 characters"),
    ],
)
async def test_a_bad_erasure_body_is_refused(
    client: TestClient, body: dict[str, Any], status: int, message: str
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    response = await client.post(ERASURES, headers=supervisor, json=body)
    assert (response.status, (await response.json())["error"]["message"]) == (status, message)


async def test_rasa_down_leaves_its_copy_for_the_next_sweep(
    make_client: MakeClient, rasa: FakeRasa
) -> None:
    client = await make_client(retention_sweep_seconds=0)
    customer = await _customer(client, "hello")
    supervisor = await add_agent(client, "Ines", "supervisor")
    rasa.broken = True
    response = await client.post(ERASURES, headers=supervisor,
                                 json={"conversation_ids": [customer.id], "reason": "asked"})
    assert (await response.json())["assistant_forgotten"] is False
    async with client.app[keys.DB].read() as db:
        assert (await db.get(Conversation, customer.id)).assistant_forget_pending is True


async def test_a_verified_customer_is_found_by_what_their_site_signed_and_erased(
    make_client: MakeClient,
) -> None:
    client = await make_client(retention_sweep_seconds=0, identity_secret=SECRET)
    opened = await client.post("/api/conversations", json={
        "identity": IDENTITY, "identity_signature": signature(IDENTITY)})
    assert opened.status == 201
    body = await opened.json()
    supervisor = await add_agent(client, "Ines", "supervisor")

    async def found(query: str) -> list[tuple[str, list[str]]]:
        response = await client.get(f"{FIND}?{query}", headers=supervisor)
        assert response.status == 200, await response.text()
        return [(c["id"], c["matched"]) for c in (await response.json())["conversations"]]

    assert await found("customer_id=cust-42") == [(body["id"], ["verified customer id"])]
    assert await found("email=ZOE@example.com") == [(body["id"], ["verified email"])]
    assert await found("booking_reference=abc123") == [(body["id"], ["verified booking"])]
    assert await found("customer_id=cust-4") == []
    response = await client.post(ERASURES, headers=supervisor,
                                 json={"conversation_ids": [body["id"]], "reason": "asked"})
    assert (await response.json())["erased"] == [body["id"]]
    async with client.app[keys.DB].read() as db:
        assert await db.scalar(select(func.count()).select_from(CustomerIdentity)) == 0
    assert await found("customer_id=cust-42") == []
