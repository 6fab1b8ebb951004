"""A site that signs its customer's identity (issue 19, point 2): the widget on its page
opens a conversation the console shows as verified, with the name and bookings the site
vouched for; another customer signed in on the same browser does not get it. Runs
against the real system; see conftest.py."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from ..conftest import E2E_IDENTITY_SECRET
from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, served_pages

pytestmark = pytest.mark.e2e

IDENTITY = {"customer_id": "cust-e2e-42", "name": "Zoë Müller", "email": "zoe@example.com",
            "bookings": ["qx7 k2p", "LM4NOP"]}


@pytest.fixture(scope="session")
def identity_secret() -> str:
    """The session's own stack signs with E2E_IDENTITY_SECRET; an external Baton's secret
    comes from BATON_IDENTITY_SECRET."""
    if os.environ.get("BATON_BASE_URL", "").strip():
        secret = os.environ.get("BATON_IDENTITY_SECRET", "").strip()
        if not secret:
            pytest.skip("set BATON_IDENTITY_SECRET to test against an external Baton")
        return secret
    return E2E_IDENTITY_SECRET


OTHER = {"customer_id": "cust-e2e-43", "name": "Max Weber"}


@pytest.fixture
def signing_site(base_url: str, identity_secret: str) -> Iterator[str]:
    """A shop on another origin whose server signs the signed-in customer's identity into
    the widget's script tag, as docs/contract.md shows: Zoë at /, Max at /max."""

    def page_for(identity: dict[str, object]) -> bytes:
        # What the site's server does: sorted keys, no spaces, UTF-8 (as JSON.stringify).
        canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)
        signature = hmac.new(identity_secret.encode(), canonical.encode(),
                             hashlib.sha256).hexdigest()
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop</title>"
            f'<link rel="icon" href="data:,"></head><body><h1>Signed in as {identity["name"]}</h1>'
            f'<script src="{base_url}/widget.js" data-title="Shop help"'
            f' data-identity="{html.escape(canonical, quote=True)}"'
            f' data-identity-signature="{signature}"></script></body></html>'
        ).encode()

    pages = {"/": page_for(IDENTITY), "/max": page_for(OTHER)}

    with served_pages(pages) as site:
        yield site + "/"


def test_a_signed_identity_shows_in_the_console_as_verified(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    signing_site: str,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    console = Console(agent).login(agent_login.email, agent_login.password)

    widget = Widget(customer).visit(signing_site)
    widget.open()
    conversation_id = widget.hand_off()
    console.open(conversation_id)

    block = agent.locator("#ctx-customer-block")
    expect(block).to_be_visible()
    expect(agent.locator("#ctx-verified")).to_have_text("Verified")
    expect(agent.locator("#ctx-customer")).to_have_text(
        "Zoë Müller · zoe@example.com · Customer cust-e2e-42"
    )
    expect(agent.locator("#ctx-customer-bookings li")).to_have_text(
        ["Booking QX7K2P", "Booking LM4NOP"]
    )
    expect(agent.locator("#conv-title")).to_have_text("Zoë Müller")
    shots(agent, "console-verified-customer")
    detail = console.api_get(f"/api/agent/conversations/{conversation_id}")
    assert {k: v for k, v in detail["customer"].items() if k != "verified_at"} == {
        "verified": True, "customer_id": "cust-e2e-42", "name": "Zoë Müller",
        "email": "zoe@example.com", "bookings": ["QX7K2P", "LM4NOP"],
    }

    # Another customer signs in on the same browser: Zoë's conversation is not theirs.
    other = Widget(customer).visit(signing_site + "max")
    other.open()
    assert other.transcript() == []
    other_id = other.hand_off()
    assert other_id != conversation_id
    seen = console.api_get(f"/api/agent/conversations/{other_id}")["customer"]
    assert (seen["customer_id"], seen["name"], seen["bookings"]) == ("cust-e2e-43", "Max Weber", [])
    assert page_errors.entries == []
