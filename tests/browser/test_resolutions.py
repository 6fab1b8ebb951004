"""Empowered actions in a real browser, as the customer and the supervisor see them: a
rebooking with the new flight and departure the agent enters, a voucher split that goes
past the agent's authority in the conversation, and the supervisor's approval card with
the booking, the reason and what was already given.

Three browser contexts: the customer (widget), the agent and the supervisor (consoles).
Runs against the real system; see conftest.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget

pytestmark = pytest.mark.e2e

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def test_rebooking_details_customer_texts_and_the_approval_card(
    customer: Page,
    agent: Page,
    supervisor: Page,
    agent_login: AgentLogin,
    supervisor_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    maya = Console(agent).login(agent_login.email, agent_login.password)
    maya_name = maya.agent_name()
    widget = Widget(customer).visit("/").open()
    conversation_id = widget.hand_off("my flight LH400 got cancelled and my booking is ABC123, can I talk to a person")
    maya.take(conversation_id)
    handoff = maya.api_get(f"/api/agent/conversations/{conversation_id}")["handoff"]
    assert (handoff["reason"], handoff["context"]["booking_reference"],
            handoff["context"]["flight_number"]) == ("disruption", "ABC123", "LH400")

    # Rebooking asks for the new flight and its departure; nothing is sent without them.
    form = maya.choose_action("Rebook on the next flight")
    flight = form.get_by_label("New flight number")
    departs = form.get_by_label("Departure (local time)")
    expect(flight).to_be_visible()
    expect(departs).to_have_attribute("type", "datetime-local")
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_role("alert")).to_have_text("Enter the new flight number.")
    flight.fill("BA 11")
    flight.press("Enter")
    expect(form.get_by_role("alert")).to_have_text("Enter the departure (local time).")
    day = dt.date.today() + dt.timedelta(days=2)
    departs.fill(f"{day.isoformat()}T09:40")
    flight.fill("ba 119x9")
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_role("alert")).to_have_text("Enter a flight number like BA119.")
    flight.fill("ba 119")
    form.get_by_role("button", name="Review").click()
    told_as = f"{day.day} {MONTHS[day.month - 1]} at 09:40"
    expect(form.locator("#act-summary")).to_have_text(
        f"Rebook on the next flight · BA119 · departs {told_as}"
    )
    shots(agent, "agent-rebooking-review")
    before = widget.last_seq()
    form.get_by_role("button", name="Confirm", exact=True).click()
    rebooking = maya.resolution("Rebook on the next flight")
    expect(rebooking).to_have_attribute("data-status", "done")
    expect(rebooking.locator(".res-fields")).to_have_text(f"BA119 · departs {told_as}")
    reference = rebooking.locator(".res-ref-code").inner_text()
    assert re.fullmatch(r"BTN-\d{6}", reference), reference
    told = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert told.text == (
        f"I've rebooked you on BA119, departing {told_as}, at no cost. Your reference is "
        f"{reference}; your new e-ticket arrives by email within 15 minutes."
    ), told.text
    shots(agent, "agent-rebooking-done")
    shots(customer, "customer-told-rebooking")

    # 170 at once, then 170 more: past the agent's 200 in this conversation, so approval.
    form = maya.choose_action("Issue a travel voucher", "170")
    expect(form.locator("#act-limit")).to_have_text("Within your limit (200 EUR): done at once.")
    form.get_by_role("button", name="Review").click()
    before = widget.last_seq()
    form.get_by_role("button", name="Confirm", exact=True).click()
    first = agent.locator("#res-list .res-item").filter(has_text="Issue a travel voucher").first
    expect(first).to_have_attribute("data-status", "done")
    voucher_ref = first.locator(".res-ref-code").inner_text()
    told = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert told.text == (
        f"I've issued a travel voucher of 170 EUR for you. Your reference is {voucher_ref}; "
        "the voucher arrives by email within 15 minutes."
    ), told.text

    form = maya.choose_action("Issue a travel voucher")
    expect(form.locator("#act-limit")).to_have_text(
        "Already given in this conversation: 170 EUR. You may give 30 EUR more at once; "
        "above it, a supervisor approves (up to 1,000 EUR)."
    )
    form.get_by_label("Amount").fill("170")
    expect(form.locator("#act-limit")).to_have_text(
        "Above what you may still give here (30 EUR of your 200 EUR per conversation): "
        "a supervisor must approve it."
    )
    form.get_by_label("Note for the record").fill("Second cancellation this month")
    shots(agent, "agent-voucher-past-the-cap")
    form.get_by_role("button", name="Review").click()
    before = widget.last_seq()
    form.get_by_role("button", name="Send for approval").click()
    expect(agent.locator('#res-list .res-item[data-status="pending_approval"]')).to_have_count(1)
    told = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert told.text == (
        "I've asked a supervisor to approve a travel voucher of 170 EUR for you. Nothing has "
        "been changed or charged yet; I'll tell you here as soon as it's decided."
    ), told.text
    shots(customer, "customer-told-voucher-pending")

    # The supervisor's card: booking, flight, reason, who asks for what, what was given.
    expect(supervisor.locator("#approvals-count")).to_have_text("1")
    sam.view("Approvals")
    card = supervisor.locator(".approval").filter(has_text="Second cancellation this month")
    facts = {
        key: card.locator(f'[data-fact="{key}"]')
        for key in ("booking", "flight", "reason", "requested-by", "asked", "given")
    }
    expect(facts["booking"]).to_have_text("ABC123")
    expect(facts["flight"]).to_have_text("LH400")
    expect(facts["reason"]).to_have_text("Travel disruption · Cancelled flight")
    expect(facts["requested-by"]).to_have_text(maya_name)
    expect(facts["asked"]).to_have_text("Issue a travel voucher: 170 EUR")
    expect(facts["given"]).to_have_text(
        f"Rebook on the next flight, BA119 · departs {told_as} ({reference}); Issue a travel "
        f"voucher 170 EUR ({voucher_ref}) — 170 EUR of this kind in this conversation"
    )
    shots(supervisor, "supervisor-approval-card")
    before = widget.last_seq()
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_count(0)
    approved = agent.locator('#res-list .res-item[data-status="done"]').filter(has_text="Approved by")
    expect(approved).to_have_count(1)
    approved_ref = approved.locator(".res-ref-code").inner_text()
    assert approved_ref not in (voucher_ref, reference)
    told = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert told.text == (
        f"I've issued a travel voucher of 170 EUR for you. Your reference is {approved_ref}; "
        "the voucher arrives by email within 15 minutes."
    ), told.text
    shots(customer, "customer-told-voucher-approved")

    # No customer text pastes an agent's button label.
    labels = ("Rebook on the next flight", "Issue a travel voucher")
    assert [line.text for line in widget.transcript() if any(x in line.text for x in labels)] == []
    sam.view("Conversations")
    maya.resolve()
    assert page_errors.entries == []
