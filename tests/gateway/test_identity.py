"""Verified customers: a conversation opened with the identity its site signed shows the
agent who the customer is; a wrong signature opens nothing; no identity, anonymous."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, func, select

from handoff import keys
from handoff.storage.models import Conversation, CustomerIdentity

from .conftest import AGENT_EMAIL, AGENT_PASSWORD, MakeClient
from .test_resolutions import login

SECRET = "identity-test-secret"
IDENTITY = {
    "customer_id": "cust-42",
    "name": "Zoë Müller",
    "email": "zoe@example.com",
    "bookings": ["abc 123", "XYZ789"],
}


def signature(identity: dict[str, Any], *, ascii_only: bool = False, secret: str = SECRET) -> str:
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only)
    return hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()


@pytest.fixture
async def site(make_client: MakeClient) -> TestClient:
    return await make_client(identity_secret=SECRET)


async def opened(client: TestClient, body: Any) -> tuple[int, Any]:
    response = await client.post("/api/conversations", json=body)
    return response.status, await response.json()


async def customer_seen_by_agent(client: TestClient, conversation_id: str) -> Any:
    headers = await login(client, AGENT_EMAIL, AGENT_PASSWORD)
    response = await client.get(f"/api/agent/conversations/{conversation_id}", headers=headers)
    assert response.status == 200
    return (await response.json())["customer"]


async def conversations(client: TestClient) -> tuple[int, int]:
    async with client.app[keys.DB].read() as db:
        return (
            await db.scalar(select(func.count()).select_from(Conversation)) or 0,
            await db.scalar(select(func.count()).select_from(CustomerIdentity)) or 0,
        )


@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf8-as-js", "escaped-as-python"])
async def test_a_signed_identity_shows_the_agent_a_verified_customer(
    site: TestClient, ascii_only: bool
) -> None:
    status, body = await opened(site, {
        "identity": IDENTITY, "identity_signature": signature(IDENTITY, ascii_only=ascii_only),
    })

    assert status == 201
    customer = await customer_seen_by_agent(site, body["id"])
    verified_at = customer.pop("verified_at")
    assert customer == {
        "verified": True, "customer_id": "cust-42", "name": "Zoë Müller",
        "email": "zoe@example.com", "bookings": ["ABC123", "XYZ789"],
    }
    assert verified_at.endswith("+00:00")
    assert await conversations(site) == (1, 1)


async def test_only_the_fields_given_are_signed(site: TestClient) -> None:
    identity = {"customer_id": "cust-7", "name": None}

    status, body = await opened(site, {
        "identity": identity, "identity_signature": signature(identity).upper(),
    })

    assert status == 201
    customer = await customer_seen_by_agent(site, body["id"])
    del customer["verified_at"]
    assert customer == {"verified": True, "customer_id": "cust-7", "name": None,
                        "email": None, "bookings": []}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"identity": IDENTITY, "identity_signature": signature(IDENTITY, secret="other")},
         "'identity_signature' does not match the identity"),
        ({"identity": {**IDENTITY, "customer_id": "cust-1"},
          "identity_signature": signature(IDENTITY)},
         "'identity_signature' does not match the identity"),
        ({"identity": {**IDENTITY, "bookings": ["XYZ789", "abc 123"]},
          "identity_signature": signature(IDENTITY)},
         "'identity_signature' does not match the identity"),
        ({"identity": IDENTITY}, "'identity_signature' is required with 'identity'"),
        ({"identity": IDENTITY, "identity_signature": "  "},
         "'identity_signature' is required with 'identity'"),
    ],
    ids=["other-secret", "changed-customer", "reordered-bookings", "unsigned", "blank"],
)
async def test_a_wrong_or_missing_signature_opens_no_conversation(
    site: TestClient, body: dict[str, Any], message: str
) -> None:
    assert await opened(site, body) == (401, {"error": {"status": 401, "message": message}})
    assert await conversations(site) == (0, 0)


async def test_without_a_secret_an_identity_is_refused(client: TestClient) -> None:
    body = {"identity": IDENTITY, "identity_signature": signature(IDENTITY)}

    assert await opened(client, body) == (401, {"error": {
        "status": 401,
        "message": "identity verification is not configured: set BATON_IDENTITY_SECRET",
    }})
    assert await conversations(client) == (0, 0)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"identity_signature": "ab12"}, "identity_signature",
         "'identity_signature' given without 'identity'"),
        ({"identity": {"name": "Zoë"}, "identity_signature": "ab12"}, "identity",
         "'identity' must be an object with customer_id (1-128 characters) and, if given, "
         "name and email (texts or null) and bookings (at most 50 booking references), "
         "nothing else"),
        ({"identity": {**IDENTITY, "phone": "+44"}, "identity_signature": "ab12"}, "identity",
         "'identity' must be an object with customer_id (1-128 characters) and, if given, "
         "name and email (texts or null) and bookings (at most 50 booking references), "
         "nothing else"),
        ({"who": "me"}, "who", "unknown field 'who'; the fields are identity, identity_signature"),
    ],
)
async def test_a_malformed_identity_is_refused_with_what_is_wrong(
    site: TestClient, body: dict[str, Any], field: str, message: str
) -> None:
    assert await opened(site, body) == (
        400, {"error": {"status": 400, "message": message, "field": field}}
    )
    assert await conversations(site) == (0, 0)


@pytest.mark.parametrize("body", [None, {}, {"identity": None}], ids=["no-body", "empty", "null"])
async def test_without_an_identity_the_customer_is_anonymous(
    site: TestClient, body: dict[str, Any] | None
) -> None:
    response = await (site.post("/api/conversations") if body is None
                      else site.post("/api/conversations", json=body))

    assert response.status == 201
    assert await customer_seen_by_agent(site, (await response.json())["id"]) is None
    assert await conversations(site) == (1, 0)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
async def test_a_signature_made_in_node_is_taken(site: TestClient) -> None:
    """docs/contract.md's Node one-liner: JSON.stringify of the key-sorted identity."""
    script = (
        "const c=require('crypto');const id=JSON.parse(process.argv[1]);"
        "const s=JSON.stringify(Object.fromEntries(Object.entries(id).sort()));"
        "process.stdout.write(c.createHmac('sha256',process.argv[2]).update(s).digest('hex'))"
    )
    made = subprocess.run(
        ["node", "-e", script, json.dumps(IDENTITY), SECRET],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout

    assert made == signature(IDENTITY)
    status, _ = await opened(site, {"identity": IDENTITY, "identity_signature": made})
    assert status == 201


async def test_the_identity_goes_with_its_conversation(site: TestClient) -> None:
    """Deleting a conversation (data retention) deletes who its customer was too."""
    _, body = await opened(site, {"identity": IDENTITY, "identity_signature": signature(IDENTITY)})

    async with site.app[keys.DB].write() as db:
        await db.execute(delete(Conversation).where(Conversation.id == body["id"]))

    assert await conversations(site) == (0, 0)
