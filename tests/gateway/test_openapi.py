"""Every response the API gives in a whole conversation matches the OpenAPI document."""

from __future__ import annotations

from typing import Any

import jsonschema
from aiohttp.test_utils import TestClient
from referencing import Registry, Resource

from handoff import keys
from handoff.access.agents import ensure_agent
from handoff.web.openapi import openapi_document

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, widget_socket

DOC = openapi_document()
REGISTRY = Registry().with_resource("urn:baton", Resource.from_contents({**DOC, "$schema": "https://json-schema.org/draft/2020-12/schema"}))


def _schema(template: str, method: str, status: int, content_type: str) -> dict[str, Any]:
    response = DOC["paths"][template][method.lower()]["responses"][str(status)]
    schema = response["content"][content_type]["schema"]
    return _rebase(schema)


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: ("urn:baton" + value if key == "$ref" else _rebase(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


class CheckedClient:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.seen: set[tuple[str, str]] = set()

    async def call(self, method: str, template: str, expected: int, **kwargs: Any) -> Any:
        path = kwargs.pop("path", template)
        response = await self.client.request(method, path, **kwargs)
        assert response.status == expected, (method, path, await response.text())
        # JSON, but for the training data's YAML (documented as a string of its type).
        kind = response.content_type
        body = await response.json() if kind == "application/json" else await response.text()
        validator = jsonschema.Draft202012Validator(
            _schema(template, method, expected, kind), registry=REGISTRY,
            format_checker=jsonschema.FormatChecker(),
        )
        validator.validate(body)
        self.seen.add((method.lower(), template))
        return body


async def test_responses_match_the_document_and_every_endpoint_is_covered(
    client: TestClient,
) -> None:
    api = CheckedClient(client)
    conv = await api.call("POST", "/api/conversations", 201)
    cid, auth = conv["id"], {"Authorization": f"Bearer {conv['token']}"}
    one = "/api/conversations/{id}"
    msgs = "/api/conversations/{id}/messages"
    await api.call("GET", one, 200, path=f"/api/conversations/{cid}", headers=auth)
    await api.call("GET", one, 401, path=f"/api/conversations/{cid}")
    await api.call("GET", one, 404, path="/api/conversations/nope", headers=auth)
    await api.call("POST", msgs, 200, path=f"/api/conversations/{cid}/messages", headers=auth,
                   json={"text": "hello", "client_message_id": "a"})
    await api.call("POST", msgs, 400, path=f"/api/conversations/{cid}/messages", headers=auth,
                   json={"text": ""})
    await api.call("POST", msgs, 413, path=f"/api/conversations/{cid}/messages", headers=auth,
                   json={"text": "x" * 5000})
    await api.call("POST", msgs, 200, path=f"/api/conversations/{cid}/messages", headers=auth,
                   json={"text": "can I talk to a real person"})
    await api.call("GET", msgs, 200, path=f"/api/conversations/{cid}/messages?after=1", headers=auth)
    contact = "/api/conversations/{id}/contact"
    await api.call("POST", contact, 400, path=f"/api/conversations/{cid}/contact", headers=auth,
                   json={"name": "Ana"})
    await api.call("POST", contact, 200, path=f"/api/conversations/{cid}/contact", headers=auth,
                   json={"email": "ana@example.com", "message": "call me back"})
    rating = "/api/conversations/{id}/rating"
    await api.call("POST", rating, 409, path=f"/api/conversations/{cid}/rating", headers=auth,
                   json={"score": 5})
    await api.call("GET", msgs, 400, path=f"/api/conversations/{cid}/messages?after=x", headers=auth)

    await api.call("GET", "/api/agent/queue", 401)
    await api.call("POST", "/api/agent/login", 401, json={"email": AGENT_EMAIL, "password": "no"})
    await api.call("POST", "/api/agent/login", 400, json={"email": AGENT_EMAIL})
    login = await api.call("POST", "/api/agent/login", 200,
                           json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
    agent = {"Authorization": f"Bearer {login['token']}"}
    await api.call("GET", "/api/agent/me", 200, headers=agent)
    await api.call("GET", "/api/agent/queue", 200, headers=agent)
    detail = "/api/agent/conversations/{id}"
    await api.call("GET", detail, 200, path=f"/api/agent/conversations/{cid}", headers=agent)
    await api.call("GET", detail, 404, path="/api/agent/conversations/nope", headers=agent)
    reply = detail + "/messages"
    await api.call("POST", reply, 409, path=f"/api/agent/conversations/{cid}/messages",
                   headers=agent, json={"text": "hi"})
    await api.call("POST", detail + "/claim", 200, path=f"/api/agent/conversations/{cid}/claim",
                   headers=agent)
    await api.call("POST", reply, 201, path=f"/api/agent/conversations/{cid}/messages",
                   headers=agent, json={"text": "hi"})
    await api.call("POST", reply, 400, path=f"/api/agent/conversations/{cid}/messages",
                   headers=agent, json={})
    await api.call("GET", detail, 200, path=f"/api/agent/conversations/{cid}", headers=agent)
    await _agent_tools(api, client, cid, agent)
    await api.call("GET", detail, 200, path=f"/api/agent/conversations/{cid}", headers=agent)
    await api.call("POST", detail + "/resolve", 200,
                   path=f"/api/agent/conversations/{cid}/resolve", headers=agent,
                   json={"outcome": "answered"})
    asked = await api.call("GET", one, 200, path=f"/api/conversations/{cid}", headers=auth)
    assert asked["rating"]["agent"] == {"name": "Maya"}
    await api.call("POST", rating, 200, path=f"/api/conversations/{cid}/rating", headers=auth,
                   json={"score": 4, "comment": "quick"})
    await api.call("POST", rating, 400, path=f"/api/conversations/{cid}/rating", headers=auth,
                   json={"score": 6})
    history = "/api/agent/conversations"
    found = await api.call("GET", history, 200, path=f"{history}?status=resolved&q={cid[:8]}",
                           headers=agent)
    assert [c["id"] for c in found["conversations"]] == [cid]
    assert found["conversations"][0]["ratings"][0]["score"] == 4
    await api.call("GET", history, 400, path=f"{history}?status=closed", headers=agent)
    await api.call("POST", detail + "/resolve", 409,
                   path=f"/api/agent/conversations/{cid}/resolve", headers=agent)
    await api.call("GET", "/healthz", 200)
    await api.call("GET", "/readyz", 200)
    await api.call("POST", "/api/agent/logout", 200, headers=agent)

    documented = {(m, p) for p, ops in DOC["paths"].items() for m in ops}
    assert documented - api.seen == set()


async def _privacy(
    api: CheckedClient, cid: str, agent: dict[str, str], boss: dict[str, str]
) -> None:
    """The retention policy, a customer found by their email, an erasure."""
    privacy = "/api/agent/privacy"
    await api.call("GET", privacy, 200, headers=boss)
    await api.call("GET", privacy, 403, headers=agent)
    find = f"{privacy}/conversations"
    found = await api.call("GET", find, 200, path=f"{find}?email=ana@example.com", headers=boss)
    assert [c["id"] for c in found["conversations"]] == [cid]
    await api.call("GET", find, 400, headers=boss)
    erasures = f"{privacy}/erasures"
    await api.call("POST", erasures, 409, headers=boss,
                   json={"conversation_ids": [cid], "reason": "asked"})
    await api.call("POST", erasures, 404, headers=boss,
                   json={"conversation_ids": ["nope"], "reason": "asked"})
    await api.call("POST", erasures, 400, headers=boss, json={"conversation_ids": []})
    await api.call("POST", erasures, 413, headers=boss,
                   json={"conversation_ids": [cid], "reason": "x" * 501})
    other = await api.call("POST", "/api/conversations", 201)
    erased = await api.call("POST", erasures, 200, headers=boss,
                            json={"conversation_ids": [other["id"]], "reason": "asked"})
    assert erased["erased"] == [other["id"]]
    await api.call("GET", "/api/agent/conversations/{id}", 410,
                   path=f"/api/agent/conversations/{other['id']}", headers=agent)


async def _agent_tools(api: CheckedClient, client: TestClient, cid: str, agent: dict[str, str]) -> None:
    """Notes, canned responses, empowered actions and approvals, audit, transfer."""
    await ensure_agent(client.app[keys.SETTINGS].database_url, "ines@example.com",
                       "pw-ines-123", "Ines", "supervisor")
    login = await api.call("POST", "/api/agent/login", 200,
                           json={"email": "ines@example.com", "password": "pw-ines-123"})
    boss = {"Authorization": f"Bearer {login['token']}"}
    base = f"/api/agent/conversations/{cid}"
    await api.call("GET", "/api/agent/agents", 200, headers=agent)

    notes = "/api/agent/conversations/{id}/notes"
    await api.call("POST", notes, 201, path=f"{base}/notes", headers=agent,
                   json={"text": "Prefers e-mail"})
    await api.call("POST", notes, 400, path=f"{base}/notes", headers=agent, json={})
    await api.call("GET", notes, 200, path=f"{base}/notes", headers=agent)
    await api.call("GET", notes, 404, path="/api/agent/conversations/nope/notes", headers=agent)

    canned, one = "/api/agent/canned", "/api/agent/canned/{id}"
    bags = {"shortcut": "/bags", "title": "Baggage", "text": "One 23 kg bag."}
    await api.call("POST", canned, 403, headers=agent, json=bags)
    created = (await api.call("POST", canned, 201, headers=boss, json=bags))["canned"]
    await api.call("POST", canned, 409, headers=boss, json=bags)
    await api.call("POST", canned, 400, headers=boss, json={**bags, "shortcut": "bags"})
    await api.call("GET", canned, 200, headers=agent)
    path = f"/api/agent/canned/{created['id']}"
    await api.call("PATCH", one, 200, path=path, headers=boss, json={"title": "Bags"})
    await api.call("PATCH", one, 404, path="/api/agent/canned/999", headers=boss, json={"title": "x"})
    await api.call("DELETE", one, 403, path=path, headers=agent)
    await api.call("DELETE", one, 200, path=path, headers=boss)

    await api.call("GET", "/api/agent/resolutions", 200, headers=agent)
    act = "/api/agent/conversations/{id}/resolutions"
    await api.call("POST", act, 201, path=f"{base}/resolutions", headers=agent,
                   json={"action": "voucher", "amount": 100})
    await api.call("POST", act, 400, path=f"{base}/resolutions", headers=agent,
                   json={"action": "voucher", "amount": -1})
    await api.call("POST", act, 403, path=f"{base}/resolutions", headers=boss,
                   json={"action": "voucher", "amount": 10})
    pending = (await api.call("POST", act, 201, path=f"{base}/resolutions", headers=agent,
                              json={"action": "refund", "amount": 300, "note": "Paid twice"}))
    approvals = "/api/agent/approvals"
    await api.call("GET", approvals, 403, headers=agent)
    await api.call("GET", approvals, 200, headers=boss)
    approve, reject = approvals + "/{id}/approve", approvals + "/{id}/reject"
    decide = f"/api/agent/approvals/{pending['resolution']['id']}"
    await api.call("POST", approve, 403, path=f"{decide}/approve", headers=agent)
    await api.call("POST", approve, 200, path=f"{decide}/approve", headers=boss)
    await api.call("POST", approve, 409, path=f"{decide}/approve", headers=boss)
    second = await api.call("POST", act, 201, path=f"{base}/resolutions", headers=agent,
                            json={"action": "voucher", "amount": 600})
    await api.call("POST", reject, 200, path=f"/api/agent/approvals/{second['resolution']['id']}/reject",
                   headers=boss, json={"reason": "Offer 200"})
    await api.call("POST", reject, 404, path="/api/agent/approvals/999/reject", headers=boss)
    batch = "/api/agent/approvals/batches/{batch}"
    await api.call("POST", batch + "/approve", 404, path=f"{batch[:-7]}nope/approve", headers=boss)
    await api.call("POST", batch + "/reject", 403, path=f"{batch[:-7]}nope/reject", headers=agent)
    await api.call("GET", "/api/agent/audit", 200, path=f"/api/agent/audit?conversation_id={cid}",
                   headers=boss)
    await api.call("GET", "/api/agent/audit", 403, headers=agent)
    insights = "/api/agent/insights"
    report = await api.call("GET", insights, 200, path=f"{insights}?days=7", headers=boss)
    assert report["period"]["days"] == 7
    await api.call("GET", insights, 400, path=f"{insights}?days=0", headers=boss)
    await api.call("GET", insights, 403, headers=agent)
    decision = "/api/agent/insights/topics/{id}/decision"
    await api.call("POST", decision, 404, path=f"{insights}/topics/1/decision", headers=boss,
                   json={"decision": "ignore"})
    await api.call("POST", decision, 400, path=f"{insights}/topics/1/decision", headers=boss,
                   json={"decision": "keep"})
    await api.call("POST", decision, 403, path=f"{insights}/topics/1/decision", headers=agent,
                   json={"decision": "ignore"})
    learned = await api.call("GET", f"{insights}/training-data", 200, headers=boss)
    assert learned.endswith('version: "3.1"\nnlu: []\n')
    await api.call("GET", f"{insights}/training-data", 403, headers=agent)
    await _privacy(api, cid, agent, boss)
    await api.call("GET", "/api/agent/disruptions", 200, headers=boss)
    await api.call("GET", "/api/agent/disruptions", 403, headers=agent)
    await api.call("POST", "/api/agent/disruptions/{id}/resolutions", 404,
                   path="/api/agent/disruptions/nope/resolutions", headers=agent,
                   json={"action": "waive_change_fee"})
    # This client has no BATON_OPS_SECRET (tests/gateway/test_disruptions.py signs posts).
    await api.call("POST", "/api/ops/disruptions", 503, json={"id": "ops-1"})

    transfer = "/api/agent/conversations/{id}/transfer"
    await api.call("POST", transfer, 400, path=f"{base}/transfer", headers=agent, json={})
    await api.call("POST", transfer, 409, path=f"{base}/transfer", headers=agent,
                   json={"agent_id": login["agent"]["id"]})
    await api.call("POST", transfer, 200, path=f"{base}/transfer", headers=agent,
                   json={"to": "queue"})
    await api.call("POST", "/api/agent/conversations/{id}/claim", 200, path=f"{base}/claim",
                   headers=agent)


def test_every_api_route_is_documented(client: TestClient) -> None:
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
        and not route.resource.canonical.endswith("/ws")
        and route.resource.canonical != "/api/openapi.json"
    }
    documented = {(m, p) for p, ops in DOC["paths"].items() for m in ops}
    assert routes - documented == set()


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        _rebase({"$ref": f"#/components/schemas/{name}"}), registry=REGISTRY,
        format_checker=jsonschema.FormatChecker(),
    )


async def test_socket_frames_match_the_document(client: TestClient) -> None:
    conv = await (await client.post("/api/conversations")).json()
    ws = await widget_socket(client, conv["id"], conv["token"])
    sent = [
        {"type": "message", "text": "hello", "client_message_id": "a"},
        {"type": "message", "text": "can I talk to a real person", "client_message_id": "b"},
        {"type": "message", "text": "hello", "client_message_id": "a"},
        {"type": "message", "text": "", "client_message_id": "c"},
        {"type": "message", "text": "no id"},
    ]
    for frame in sent[:3]:
        _validator("SocketMessage").validate(frame)
    answers = []
    for frame in sent:
        await ws.send_json(frame)
        while True:
            event = await ws.receive_json(timeout=5)
            if event["type"] in ("ack", "error"):
                answers.append(event)
                break
    await ws.close()

    assert [a["type"] for a in answers] == ["ack", "ack", "ack", "error", "error"]
    for answer in answers:
        _validator("Ack" if answer["type"] == "ack" else "SocketError").validate(answer)
    _validator("SocketTyping").validate({"type": "typing", "typing": True})
    # What widget_socket sent first, as widget.js and console.js do.
    _validator("SocketAuth").validate({"type": "auth", "token": conv["token"]})


def test_every_socket_is_documented(client: TestClient) -> None:
    sockets = {
        route.resource.canonical
        for route in client.app.router.routes()
        if route.resource is not None and route.resource.canonical.endswith("/ws")
    }
    assert sockets == set(DOC["x-websockets"]) == {"/api/conversations/{id}/ws", "/api/agent/ws"}
