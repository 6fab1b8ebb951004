"""Private notes, canned responses, transfers, the agents list and the audit log."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, Customer, MakeClient
from .test_resolutions import _audit, add_agent, claimed, detail, login
from .test_sockets import next_event


async def test_notes_are_private_to_agents_and_pushed_to_consoles(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    widget = await customer.socket()
    await next_event(widget, "status")
    transcript = await customer.messages()
    base = f"/api/agent/conversations/{customer.id}/notes"

    added = await client.post(base, json={"text": "  Nervous flyer; travels with a cat. "},
                              headers=agent_headers)

    assert added.status == 201
    note = (await added.json())["note"]
    assert {k: v for k, v in note.items() if k != "created_at"} == {
        "id": 1, "conversation_id": customer.id, "text": "Nervous flyer; travels with a cat.",
        "author": {"id": 1, "name": "Maya"},
    }
    event = await next_event(console, "note")
    assert {k: v for k, v in event.items() if k != "id"} == {
        "type": "note", "conversation_id": customer.id, "note": note,
    }
    assert await (await client.get(base, headers=agent_headers)).json() == {"notes": [note]}
    assert await customer.messages() == transcript
    # The widget's next event is the agent's reply: the note never reached it.
    await client.post(f"/api/agent/conversations/{customer.id}/messages", json={"text": "Hello"},
                      headers=agent_headers)
    assert (await next_event(widget))["message"]["text"] == "Hello"
    seen = await detail(client, customer, agent_headers)
    assert seen["notes"] == [note]
    assert _audit(seen["audit"])[-1] == ("note_added", "Maya", {"note_id": 1})
    await widget.close()
    await console.close()


async def test_note_errors(client: TestClient, customer: Customer, agent_headers: dict[str, str]) -> None:
    base = f"/api/agent/conversations/{customer.id}/notes"
    empty = await client.post(base, json={"text": " "}, headers=agent_headers)
    assert (empty.status, (await empty.json())["error"]["message"]) == (400, "'text' must not be empty")
    missing = "/api/agent/conversations/nope/notes"
    assert (await client.post(missing, json={"text": "x"}, headers=agent_headers)).status == 404
    assert (await client.get(missing, headers=agent_headers)).status == 404


NEW_ENDPOINTS = [
    ("GET", "/api/agent/agents"),
    ("GET", "/api/agent/conversations/x/notes"),
    ("POST", "/api/agent/conversations/x/notes"),
    ("GET", "/api/agent/canned"),
    ("POST", "/api/agent/canned"),
    ("PATCH", "/api/agent/canned/1"),
    ("DELETE", "/api/agent/canned/1"),
    ("GET", "/api/agent/resolutions"),
    ("POST", "/api/agent/conversations/x/resolutions"),
    ("POST", "/api/agent/conversations/x/transfer"),
    ("GET", "/api/agent/approvals"),
    ("POST", "/api/agent/approvals/1/approve"),
    ("POST", "/api/agent/approvals/1/reject"),
    ("GET", "/api/agent/audit"),
]


async def test_every_new_endpoint_refuses_without_a_valid_token(make_client: MakeClient) -> None:
    client = await make_client()
    for method, path in NEW_ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            response = await client.request(method, path, headers=headers, json={})
            assert response.status == 401, (method, path, headers)


async def test_supervisors_edit_canned_responses_and_every_agent_reads_them(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    console = await client.ws_connect("/api/agent/ws", headers=agent_headers)
    bags = {"shortcut": "/Bags", "title": "Baggage allowance",
            "text": "Economy includes one 23 kg bag."}

    refused = await client.post("/api/agent/canned", json=bags, headers=agent_headers)
    assert (refused.status, (await refused.json())["error"]["message"]) == (
        403, "only a supervisor may do this",
    )
    created = await client.post("/api/agent/canned", json=bags, headers=supervisor)
    assert created.status == 201
    canned = (await created.json())["canned"]
    assert {k: v for k, v in canned.items() if k != "updated_at"} == {
        "id": 1, "shortcut": "/bags", "title": "Baggage allowance",
        "text": "Economy includes one 23 kg bag.",
    }
    event = await next_event(console, "canned")
    assert (event["change"], event["canned"]) == ("created", canned)
    duplicate = await client.post("/api/agent/canned", json=bags, headers=supervisor)
    assert (duplicate.status, (await duplicate.json())["error"]["message"]) == (
        409, "the shortcut /bags is already used",
    )
    for bad in ({**bags, "shortcut": "bags"}, {**bags, "shortcut": "/two words"},
                {"shortcut": "/x", "title": "X"}):
        assert (await client.post("/api/agent/canned", json=bad, headers=supervisor)).status == 400
    await client.post("/api/agent/canned", headers=supervisor,
                      json={"shortcut": "/refund", "title": "Refunds", "text": "5-10 days."})

    changed = await client.patch("/api/agent/canned/1", json={"text": "One 23 kg bag, plus hand luggage."},
                                 headers=supervisor)
    assert changed.status == 200
    assert (await changed.json())["canned"]["text"] == "One 23 kg bag, plus hand luggage."
    assert (await client.patch("/api/agent/canned/1", json={"text": "x"},
                               headers=agent_headers)).status == 403
    clash = await client.patch("/api/agent/canned/1", json={"shortcut": "/refund"}, headers=supervisor)
    assert clash.status == 409
    assert (await client.patch("/api/agent/canned/1", json={}, headers=supervisor)).status == 400
    assert (await client.patch("/api/agent/canned/99", json={"text": "x"},
                               headers=supervisor)).status == 404

    listed = await (await client.get("/api/agent/canned", headers=agent_headers)).json()
    assert [(c["shortcut"], c["text"]) for c in listed["canned"]] == [
        ("/bags", "One 23 kg bag, plus hand luggage."), ("/refund", "5-10 days."),
    ]
    assert (await client.delete("/api/agent/canned/2", headers=agent_headers)).status == 403
    deleted = await client.delete("/api/agent/canned/2", headers=supervisor)
    assert await deleted.json() == {"id": 2, "deleted": True}
    assert (await client.delete("/api/agent/canned/2", headers=supervisor)).status == 404

    log = await (await client.get("/api/agent/audit", headers=supervisor)).json()
    actions = [(a, who, d.get("canned", {}).get("shortcut") or d.get("after"))
               for a, who, d in _audit(log["entries"])]
    assert actions == [
        ("canned_created", "Ines", "/bags"),
        ("canned_created", "Ines", "/refund"),
        ("canned_updated", "Ines", {"text": "One 23 kg bag, plus hand luggage."}),
        ("canned_deleted", "Ines", "/refund"),
    ]
    assert log["entries"][2]["details"]["before"] == {"text": "Economy includes one 23 kg bag."}
    assert log["entries"][2]["conversation_id"] is None
    await console.close()


async def test_transfer_to_another_agent_who_takes_it_from_there(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    sam = await add_agent(client, "Sam")
    base = f"/api/agent/conversations/{customer.id}"
    offline = await client.post(f"{base}/transfer", json={"agent_id": 2}, headers=agent_headers)
    assert (offline.status, (await offline.json())["error"]["message"]) == (409, "Sam is not online")
    sams_console = await client.ws_connect("/api/agent/ws", headers=sam)

    moved = await client.post(f"{base}/transfer", json={"agent_id": 2}, headers=agent_headers)

    assert moved.status == 200
    assert await moved.json() == {"id": customer.id, "status": "agent",
                                  "agent": {"id": 2, "name": "Sam"}}
    told = (await customer.messages())[-1]
    assert (told["sender"], told["text"]) == (
        "system", "Maya has passed you to Sam, who can see everything so far.",
    )
    event = await next_event(sams_console, "transfer")
    assert (event["from"], event["to"]) == ({"id": 1, "name": "Maya"}, {"id": 2, "name": "Sam"})
    assert (await next_event(sams_console, "handoff"))["conversation"]["agent"]["name"] == "Sam"
    late = await client.post(f"{base}/messages", json={"text": "hi"}, headers=agent_headers)
    assert late.status == 409
    assert (await client.post(f"{base}/messages", json={"text": "Sam here."}, headers=sam)).status == 201
    audit = _audit((await detail(client, customer, sam))["audit"])
    assert audit[-1] == ("transfer", "Maya", {"handoff_id": 1, "from": {"id": 1, "name": "Maya"},
                                              "to": {"id": 2, "name": "Sam"}})
    await sams_console.close()


async def test_transfer_back_to_the_queue_keeps_priority_and_place(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    disrupted = await claimed(client, agent_headers, "my flight was cancelled")
    other = await (await client.post("/api/conversations")).json()
    await Customer(client, other["id"], other["token"]).say("a person please")

    moved = await client.post(f"/api/agent/conversations/{disrupted.id}/transfer",
                              json={"to": "queue"}, headers=agent_headers)

    assert await moved.json() == {"id": disrupted.id, "status": "waiting", "agent": None}
    assert (await disrupted.messages())[-1]["text"] == (
        "Maya has passed you back to our team's queue. You keep your place, and the next "
        "colleague will see everything so far."
    )
    queue = await (await client.get("/api/agent/queue", headers=agent_headers)).json()
    assert [(c["id"], c["status"], c["handoff"]["priority"], c["handoff"]["claimed_at"])
            for c in queue["conversations"]] == [
        (disrupted.id, "waiting", 2, None), (other["id"], "waiting", 0, None),
    ]
    assert _audit((await detail(client, disrupted, agent_headers))["audit"])[-1] == (
        "transfer", "Maya", {"handoff_id": 1, "from": {"id": 1, "name": "Maya"}, "to": None},
    )
    again = await client.post(f"/api/agent/conversations/{disrupted.id}/claim", headers=agent_headers)
    assert again.status == 200


async def test_transfer_errors(client: TestClient, agent_headers: dict[str, str]) -> None:
    customer = await claimed(client, agent_headers)
    sam = await add_agent(client, "Sam")
    path = f"/api/agent/conversations/{customer.id}/transfer"
    for body, status, message in (
        ({}, 400, 'give either {"agent_id": <id>} or {"to": "queue"}'),
        ({"to": "bot"}, 400, 'give either {"agent_id": <id>} or {"to": "queue"}'),
        ({"agent_id": "2"}, 400, 'give either {"agent_id": <id>} or {"to": "queue"}'),
        ({"agent_id": True}, 400, 'give either {"agent_id": <id>} or {"to": "queue"}'),
        ({"agent_id": 2, "to": "queue"}, 400, 'give either {"agent_id": <id>} or {"to": "queue"}'),
        ({"to": "queue", "note": "x"}, 400, 'give either {"agent_id": <id>} or {"to": "queue"}'),
        ([2], 400, "body must be a JSON object"),
        ({"agent_id": 99}, 400, "no such agent"),
        ({"agent_id": 1}, 400, "the conversation is already yours"),
    ):
        response = await client.post(path, json=body, headers=agent_headers)
        assert (response.status, (await response.json())["error"]["message"]) == (status, message)
    not_holder = await client.post(path, json={"to": "queue"}, headers=sam)
    assert not_holder.status == 409


async def test_the_agents_list_shows_roles_and_who_is_online(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    console = await client.ws_connect("/api/agent/ws", headers=supervisor)
    await next_event(console, "hello")
    body = await (await client.get("/api/agent/agents", headers=agent_headers)).json()
    assert body == {"agents": [
        {"id": 2, "name": "Ines", "role": "supervisor", "online": True},
        {"id": 1, "name": "Maya", "role": "agent", "online": False},
    ]}
    await console.close()


async def test_claim_and_resolve_are_audited_and_only_supervisors_read_the_whole_log(
    client: TestClient, agent_headers: dict[str, str]
) -> None:
    customer = await claimed(client, agent_headers)
    await client.post(f"/api/agent/conversations/{customer.id}/resolve", json={"outcome": "rebooked"},
                      headers=agent_headers)
    supervisor = await add_agent(client, "Ines", "supervisor")

    assert (await client.get("/api/agent/audit", headers=agent_headers)).status == 403
    log = await (await client.get(f"/api/agent/audit?conversation_id={customer.id}",
                                  headers=supervisor)).json()
    assert _audit(log["entries"]) == [
        ("claim", "Maya", {"handoff_id": 1}),
        ("resolve", "Maya", {"handoff_id": 1, "outcome": "rebooked"}),
    ]
    assert all(e["conversation_id"] == customer.id for e in log["entries"])
    other = await (await client.get("/api/agent/audit?conversation_id=nope", headers=supervisor)).json()
    assert other == {"entries": []}
    bad = await client.get("/api/agent/audit?limit=x", headers=supervisor)
    assert bad.status == 400


async def test_a_requeue_after_the_grace_period_is_audited_as_the_gateway(
    make_client: MakeClient,
) -> None:
    client = await make_client(agent_grace_seconds=0.2)
    headers = await login(client, AGENT_EMAIL, AGENT_PASSWORD)
    console = await client.ws_connect("/api/agent/ws", headers=headers)
    customer = await claimed(client, headers)
    await console.close()
    for _ in range(50):
        await asyncio.sleep(0.1)
        entries = (await detail(client, customer, headers))["audit"]
        if entries[-1]["action"] == "requeue":
            break
    assert _audit(entries)[-1] == (
        "requeue", None, {"handoff_id": 1, "from": {"id": 1, "name": "Maya"}},
    )
