"""The supervisors' Privacy page in a real browser: a customer's conversation is found by
the email they typed and erased with a reason, after one more confirmation; the customer's
widget then starts afresh, and agents have no such page.

Runs against the real system; see conftest.py (a supervisor as in test_insights.py).
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from .axe import assert_no_violations
from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget

pytestmark = pytest.mark.e2e


def test_a_supervisor_erases_a_customers_conversation(
    customer: Page, agent: Page, supervisor: Page, agent_login: AgentLogin,
    supervisor_login: AgentLogin, page_errors: PageErrors, shots: Screenshots,
) -> None:
    email = f"ann.{secrets.token_hex(3)}@example.com"
    widget = Widget(customer).visit("/").open()
    widget.wait_for_reply(widget.send(f"my email is {email}, how do I check in online?"), "bot")
    conversation_id = widget.conversation_id()

    Console(agent).login(agent_login.email, agent_login.password)
    expect(agent.locator("#view-history")).to_be_visible()
    expect(agent.locator("#view-privacy")).to_be_hidden()

    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    sam.view("Privacy")
    view = supervisor.locator("#privacy-view")
    expect(view.locator("#privacy-policy")).to_contain_text(
        "No retention period is set (BATON_RETENTION_DAYS)")
    view.get_by_label("Customer's email").fill(email.upper())
    view.get_by_role("button", name="Find conversations").click()
    row = view.locator(f'tr[data-conversation-id="{conversation_id}"]')
    expect(row).to_contain_text("email in a message")
    expect(view.locator("tbody tr")).to_have_count(1)
    pick = row.get_by_label(f"Erase conversation {conversation_id}")
    expect(pick).to_be_checked()
    erase = view.get_by_role("button", name="Erase 1 conversation")
    expect(erase).to_be_disabled()  # no reason yet
    view.get_by_label("Reason (kept in the audit log)").fill("Ann asked by email")
    expect(erase).to_be_enabled()
    shots(supervisor, "found")
    assert_no_violations(supervisor, "the Privacy page with a customer's conversations")

    erase.click()
    expect(view.locator("#privacy-confirm-text")).to_have_text(re.compile(
        r"^Erase 1 conversation for good\? .*cannot be undone\.$"))
    shots(supervisor, "confirm")
    view.get_by_role("button", name="Erase for good").click()

    expect(view.locator("#privacy-done")).to_have_text(
        "Erased 1 conversation: 2 messages and 0 notes deleted.")
    # Searched again: the conversation no longer names her, its messages are gone.
    expect(view.locator("#privacy-results")).to_contain_text("No conversation names this customer.")
    expect(view.locator("#privacy-policy")).to_contain_text("deleted so far.")
    shots(supervisor, "erased")
    audit = sam.api_get(f"/api/agent/audit?conversation_id={conversation_id}")
    assert [(e["action"], e["details"]) for e in audit["entries"]
            if e["action"] == "conversation_erased"] == [
        ("conversation_erased", {"reason": "Ann asked by email"})]

    # The customer's widget was told (4404) and starts a new conversation: nothing of hers.
    customer.reload()
    Widget(customer).open()
    expect(customer.get_by_text(email)).to_have_count(0)
    assert page_errors.entries == []
