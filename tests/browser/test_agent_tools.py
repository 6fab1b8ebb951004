"""The agent's tools in a real browser: private notes, canned responses, empowered actions
within and above the limit (with a supervisor's approval), transfer and resolve.

Three browser contexts: the customer (widget), the agent Maya and the supervisor Sam
(consoles). Runs against the real system; see conftest.py.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget

pytestmark = pytest.mark.e2e

NOTE = "Frequent flyer, missed her sister's wedding - be generous"
REFERENCE = re.compile(r"BTN-\d+")


def test_notes_canned_actions_approval_transfer(
    customer: Page,
    agent: Page,
    supervisor: Page,
    agent_login: AgentLogin,
    supervisor_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    # The supervisor writes a canned response in the editor.
    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    sam_name = sam.agent_name()
    expect(supervisor.locator("#agent-role")).to_have_text("Supervisor")
    sam.view("Canned responses")
    supervisor.get_by_role("button", name="New response").click()
    form = supervisor.get_by_role("form", name="New canned response")
    # (/bags and the other demo responses are there already: ensure-agent adds them.)
    form.get_by_label("Shortcut").fill("/lounge")
    form.get_by_label("Title").fill("Lounge access")
    form.get_by_label("Text").fill("Your fare includes lounge access before your flight.")
    form.get_by_role("button", name="Save").click()
    expect(supervisor.locator('.canned-row[data-shortcut="/lounge"]')).to_contain_text("Lounge access")
    shots(supervisor, "supervisor-canned-editor")
    sam.view("Conversations")

    # A customer is handed off; the agent claims.
    maya = Console(agent).login(agent_login.email, agent_login.password)
    maya_name = maya.agent_name()
    expect(agent.locator(".view-tab").filter(has_text="Approvals")).to_be_hidden()
    widget = Widget(customer).visit("/").open()
    conversation_id = widget.hand_off("my flight was cancelled, I want to talk to a person")
    maya.take(conversation_id)
    expect(widget.notes.filter(has_text=f"{maya_name} from our team has joined")).to_be_visible()

    # A private note: marked as such, and never shown to the customer.
    note = maya.add_note(NOTE)
    expect(note).to_contain_text(maya_name)
    expect(agent.locator("#panel-notes")).to_contain_text("only agents see these")
    expect(agent.locator("#tab-notes-count")).to_have_text("1")
    shots(agent, "agent-private-note")

    # A canned response: "/lou" filters the picker, Enter inserts it for editing.
    maya.reply_box.click()
    maya.reply_box.press_sequentially("/lou")
    option = agent.get_by_role("option").filter(has_text="/lounge")
    expect(option).to_be_visible()
    expect(option).to_have_attribute("aria-selected", "true")
    shots(agent, "agent-canned-picker")
    maya.reply_box.press("Enter")
    expect(agent.locator("#canned-picker")).to_be_hidden()
    expect(maya.reply_box).to_have_value("Your fare includes lounge access before your flight.")
    maya.reply_box.press("End")
    maya.reply_box.press_sequentially(" Anything else I can check?")
    before = widget.last_seq()
    maya.reply_box.press("Enter")
    sent = "Your fare includes lounge access before your flight. Anything else I can check?"
    expect(maya.message("agent", sent)).to_be_visible()
    assert widget.wait_for_reply(before, "agent", timeout=10_000).text == sent

    # A voucher within the agent's limit: done at once, with a reference.
    form = maya.choose_action("Issue a travel voucher", "50")
    expect(form.locator("#act-limit")).to_contain_text("Within your limit")
    form.get_by_label("Note for the record").fill("Goodwill for the cancellation")
    form.get_by_role("button", name="Review").click()
    expect(form.locator("#act-summary")).to_have_text("Issue a travel voucher · 50 EUR")
    shots(agent, "agent-voucher-review")
    before = widget.last_seq()
    form.get_by_role("button", name="Confirm", exact=True).click()
    voucher = maya.resolution("Issue a travel voucher")
    expect(voucher).to_have_attribute("data-status", "done")
    expect(voucher.locator(".res-ref-code")).to_have_text(REFERENCE)
    expect(agent.locator("#audit-list")).to_contain_text("carried out Issue a travel voucher (50 EUR)")
    told = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert "travel voucher of 50 EUR" in told.text, told.text
    expect(maya.message("agent", "travel voucher of 50 EUR")).to_be_visible()
    shots(agent, "agent-voucher-done")
    shots(customer, "customer-told-voucher")

    # A refund above the agent's limit: waiting for a supervisor, and the customer is told so.
    form = maya.choose_action("Refund", "300")
    expect(form.locator("#act-limit")).to_contain_text("a supervisor must approve it")
    form.get_by_role("button", name="Review").click()
    before = widget.last_seq()
    form.get_by_role("button", name="Send for approval").click()
    refund = maya.resolution("Refund")
    expect(refund).to_have_attribute("data-status", "pending_approval")
    expect(refund).to_contain_text("Waiting for supervisor approval")
    told = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert told.text == (
        "I've asked a supervisor to approve a refund of 300 EUR to your original payment "
        "method. Nothing has been changed or charged yet; I'll tell you here as soon as it's decided."
    ), told.text
    shots(agent, "agent-refund-pending")
    shots(customer, "customer-told-refund-pending")

    # The supervisor sees it live in Approvals and approves it with a reason.
    expect(supervisor.locator("#approvals-count")).to_have_text("1")
    sam.view("Approvals")
    card = supervisor.locator(".approval").filter(has_text="Refund")
    expect(card).to_contain_text("300 EUR")
    expect(card).to_contain_text(f"Asked by {maya_name}")
    card.get_by_label("Reason").fill("Cancelled by us: full refund is due")
    shots(supervisor, "supervisor-approvals")
    before = widget.last_seq()
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_count(0)
    expect(supervisor.locator("#approvals-empty")).to_be_visible()

    # The customer is told; the agent's console updates live.
    told = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert "refunded 300 EUR" in told.text, told.text
    expect(refund).to_have_attribute("data-status", "done")
    expect(refund.locator(".res-ref-code")).to_have_text(REFERENCE)
    expect(refund).to_contain_text(f"Approved by {sam_name}")
    expect(agent.locator(".toast").filter(has_text=f"{sam_name} approved Refund")).to_be_visible()
    expect(agent.locator("#audit-list")).to_contain_text(f"{sam_name} approved Refund (300 EUR)")
    shots(agent, "agent-refund-approved")
    shots(customer, "customer-told-refund-done")

    # Transfer to the supervisor, who sees everything, including the private note.
    sam.view("Conversations")
    agent.get_by_role("button", name="Transfer").click()
    to_sam = agent.get_by_role("button", name=f"Transfer to {sam_name}")
    expect(to_sam).to_be_enabled()
    shots(agent, "agent-transfer-menu")
    to_sam.click()
    expect(widget.notes.filter(has_text=f"passed you to {sam_name}")).to_be_visible()
    expect(agent.locator("#conv-sub")).to_have_text(f"With {sam_name}")
    expect(maya.reply_box).to_be_disabled()
    expect(agent.get_by_role("button", name="Transfer")).to_be_hidden()
    expect(supervisor.locator(".toast").filter(has_text=f"{maya_name} passed a conversation to you")).to_be_visible()
    sam.open(conversation_id)
    expect(supervisor.locator("#conv-sub")).to_have_text("With you")
    expect(sam.tab("Notes").locator(".note-item")).to_contain_text(NOTE)
    expect(sam.tab("Actions").locator(".res-item[data-status=done]")).to_have_count(2)
    shots(supervisor, "supervisor-has-conversation")

    # Maya passed it on but still has it on screen (the console watches it): the customer's
    # next message appears live on both consoles.
    widget.send("Thank you both")
    expect(sam.message("customer", "Thank you both")).to_be_visible()
    expect(maya.message("customer", "Thank you both")).to_be_visible()

    # The supervisor resolves with an outcome; the conversation goes back to the bot.
    supervisor.get_by_label("Outcome").select_option("refunded")
    sam.resolve()
    expect(widget.notes.filter(has_text="resolved")).to_be_visible()
    expect(agent.locator("#audit-list")).to_contain_text("resolved it (refunded)")
    shots(customer, "customer-resolved")

    # The customer never saw the private note.
    assert all(NOTE not in line.text for line in widget.transcript())
    expect(customer.get_by_text(NOTE)).to_have_count(0)
    assert page_errors.entries == []


def test_transfer_back_to_the_queue_and_a_rejected_request(
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
    conversation_id = widget.hand_off()
    maya.take(conversation_id)

    # Keyboard only: the context tabs follow the arrow keys...
    agent.bring_to_front()
    details = agent.get_by_role("tab", name="Details")
    details.focus()
    agent.keyboard.press("ArrowRight")
    # Focus is read from the document: with three browsers open the window itself may not
    # be the active one, which to_be_focused also demands.
    agent.wait_for_function(
        "() => document.activeElement && document.activeElement.getAttribute('role') === 'tab'"
        " && document.activeElement.textContent.trim().startsWith('Actions')"
    )
    expect(agent.get_by_role("tab", name=re.compile(r"^Actions"))).to_have_attribute("aria-selected", "true")
    expect(agent.locator("#panel-actions")).to_be_visible()

    # ...and a hotel night above the agent's limit is sent for approval.
    form = maya.choose_action("Pay for a hotel night")
    form.get_by_label("Amount").press_sequentially("180")
    expect(form.locator("#act-limit")).to_contain_text("Above your limit of 150 EUR")
    form.get_by_label("Amount").press("Enter")
    agent.wait_for_function(
        "() => document.activeElement && document.activeElement.textContent.trim()"
        " === 'Send for approval'"
    )
    agent.keyboard.press("Enter")
    hotel = maya.resolution("Pay for a hotel night")
    expect(hotel).to_have_attribute("data-status", "pending_approval")

    # The supervisor rejects it; the agent learns why, the customer that it wasn't approved.
    sam.view("Approvals")
    card = supervisor.locator(".approval").filter(has_text="Pay for a hotel night")
    card.get_by_label("Reason").fill("Offer the airport lounge instead")
    before = widget.last_seq()
    card.get_by_role("button", name="Reject").click()
    expect(card).to_have_count(0)
    expect(hotel).to_have_attribute("data-status", "rejected")
    expect(hotel).to_contain_text("Offer the airport lounge instead")
    expect(agent.locator(".toast").filter(has_text="rejected Pay for a hotel night")).to_be_visible()
    customer.wait_for_timeout(1_000)
    assert widget.replies_after(before, "agent") == []
    expect(widget.notes.filter(
        has_text="I'm sorry, a hotel night for you, paid up to 180 EUR wasn't approved this time."
    )).to_be_visible()
    shots(agent, "agent-request-rejected")

    # An amount nobody may approve is refused before it is sent.
    form = maya.choose_action("Issue a travel voucher", "5000")
    expect(form.locator("#act-limit")).to_contain_text("the most anyone may approve")
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_role("alert")).to_contain_text("the most anyone may approve")
    expect(form.locator("#act-confirm")).to_be_hidden()
    form.get_by_role("button", name="Cancel").click()

    # Back to the queue: the customer keeps their place, and another agent can claim.
    agent.get_by_role("button", name="Transfer").click()
    agent.get_by_role("button", name="Back to the queue").click()
    expect(widget.notes.filter(has_text="passed you back to our team's queue")).to_be_visible()
    expect(maya.queue_item(conversation_id)).to_have_attribute("data-status", "waiting")
    expect(agent.locator("#conv-view")).to_have_attribute("data-status", "waiting")
    expect(widget.banner).to_contain_text(re.compile(r"in the queue"))
    shots(agent, "agent-back-to-queue")
    shots(customer, "customer-back-in-queue")
    expect(agent.locator("#audit-list")).to_contain_text(f"{maya_name} passed it back to the queue")

    sam.take(conversation_id)
    sam.resolve()
    assert page_errors.entries == []
