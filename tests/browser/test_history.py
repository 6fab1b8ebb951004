"""History and ratings in a real browser: an agent resolves a conversation, sees the
customer's rating arrive live, then finds the conversation again in History by its
booking reference and by what was said, and opens it: transcript, context, note, action
and rating, read-only. Runs against the real system; see conftest.py.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget

pytestmark = pytest.mark.e2e

NOTE = "Prefers the morning flight; checked bag already paid."


def test_find_a_resolved_conversation_in_history_with_its_rating(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    # Unique per run, so the search finds this conversation and nothing else.
    booking = "Q" + secrets.token_hex(3).upper()[:5]
    seat = f"seat {secrets.randbelow(40) + 1}{secrets.choice('ACDF')}"
    maya = Console(agent).login(agent_login.email, agent_login.password)
    maya_name = maya.agent_name()
    widget = Widget(customer).visit("/").open()
    conversation_id = widget.hand_off(f"my flight was cancelled, booking {booking}, I want to talk to a person")

    maya.take(conversation_id)
    reply = f"You are on tomorrow's 09:40 flight instead, {seat}."
    maya.reply(reply)
    maya.add_note(NOTE)
    form = maya.choose_action("Issue a travel voucher", "50")
    form.get_by_role("button", name="Review").click()
    form.get_by_role("button", name="Confirm", exact=True).click()
    expect(maya.resolution("Issue a travel voucher")).to_have_attribute("data-status", "done")
    maya.tab("Details")
    maya.resolve()
    # The console reloads the conversation after a resolve; once that is over, only the
    # rating event can bring the rating to this screen.
    agent.wait_for_timeout(1500)
    rating_block = agent.locator("#ctx-rating-block")
    expect(rating_block).to_be_hidden()

    # The customer rates while the agent still has the conversation open: it shows live.
    card = customer.get_by_role("group", name="Rate this conversation")
    card.get_by_role("button", name="4 of 5: Good").click()
    expect(card).to_contain_text("Your rating is saved")
    card.get_by_label("Anything to add? (optional)").fill("Quick and kind")
    card.get_by_role("button", name="Send").click()
    expect(card).to_contain_text("Thank you for your feedback!")
    expect(rating_block).to_be_visible()
    expect(agent.locator("#ctx-rating")).to_contain_text("4 / 5")
    expect(agent.locator("#ctx-rating")).to_contain_text("“Quick and kind”")
    expect(agent.locator("#ctx-rating")).to_contain_text(f"For {maya_name}")
    shots(agent, "agent-sees-rating-live")

    # Later, in a fresh console: the conversation is no longer in the queue; History has it.
    agent.reload()
    expect(agent.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(maya.queue_item(conversation_id)).to_have_count(0)
    maya.view("History")
    history = agent.locator("#history-view")
    expect(history).to_be_visible()
    expect(agent.locator("#conv-view")).to_be_hidden()
    history.get_by_label("Search", exact=True).fill(booking.lower())
    history.get_by_role("button", name="Search").click()
    found = history.locator(".history-item")
    expect(found).to_have_count(1)
    line = found.first
    expect(line).to_have_attribute("data-id", conversation_id)
    expect(line).to_have_attribute("data-state", "resolved")
    expect(line).to_contain_text("Resolved")
    expect(line).to_contain_text("4 / 5 “Quick and kind”")
    expect(line).to_contain_text(maya_name)
    shots(agent, "history-found-by-booking-reference")
    # The period, in the agent's own days: today has it, the days before do not.
    today = agent.evaluate("() => new Date().toLocaleDateString('en-CA')")
    yesterday = agent.evaluate(
        "() => { const d = new Date(); d.setDate(d.getDate() - 1); return d.toLocaleDateString('en-CA'); }"
    )
    history.get_by_label("From", exact=True).fill(today)
    history.get_by_label("To", exact=True).fill(today)
    history.get_by_role("button", name="Search").click()
    expect(history.locator("#history-summary")).to_have_text("Showing 1 conversation, newest first.")
    expect(found).to_have_count(1)
    history.get_by_label("From", exact=True).fill(yesterday)
    history.get_by_label("To", exact=True).fill(yesterday)
    history.get_by_role("button", name="Search").click()
    expect(found).to_have_count(0)
    expect(history.locator("#history-empty")).to_be_visible()
    history.get_by_label("From", exact=True).fill("")
    history.get_by_label("To", exact=True).fill("")

    # By what was said, with the status filter: the matching line is shown.
    history.get_by_label("Search", exact=True).fill(seat)
    history.get_by_label("Status", exact=True).select_option(label="Resolved")
    history.get_by_role("button", name="Search").click()
    expect(found).to_have_count(1)
    expect(line).to_have_attribute("data-id", conversation_id)
    expect(line.locator(".history-match")).to_have_text(f"Matched: {reply}")
    shots(agent, "history-found-by-text")
    # A status it does not have finds nothing.
    history.get_by_label("Status", exact=True).select_option(label="Waiting")
    history.get_by_role("button", name="Search").click()
    expect(found).to_have_count(0)
    expect(history.locator("#history-empty")).to_be_visible()
    history.get_by_label("Status", exact=True).select_option(label="Resolved")
    history.get_by_role("button", name="Search").click()
    expect(found).to_have_count(1)

    # Opening it: transcript, context, rating, note and action; nothing to reply with.
    line.click()
    expect(agent.locator("#history-view")).to_be_hidden()
    expect(agent.locator("#conv-view")).to_have_attribute("data-status", "bot")
    expect(maya.message("customer", f"booking {booking}")).to_be_visible()
    expect(maya.message("agent", reply)).to_be_visible()
    expect(agent.locator("#ctx-reason")).not_to_have_text("—")
    expect(agent.locator("#ctx-rating")).to_contain_text("4 / 5")
    expect(agent.locator("#ctx-rating")).to_contain_text("“Quick and kind”")
    expect(maya.reply_box).to_be_disabled()
    expect(maya.claim_button).to_be_hidden()
    expect(maya.resolve_button).to_be_hidden()
    # When it was handed off, claimed and resolved: no wait that runs on ("just now").
    expect(agent.locator("#ctx-requested-label")).to_have_text("Handed off")
    clock = r"\d{1,2}:\d{2}(?:\s?[AP]M)?"
    expect(agent.locator("#ctx-requested")).to_have_text(re.compile(
        rf"^{clock}, claimed after (?:under a minute|\d+ min), resolved {clock}$"
    ))
    shots(agent, "history-opened-details")
    notes = maya.tab("Notes")
    expect(notes.locator(".note-item").filter(has_text=NOTE)).to_contain_text(maya_name)
    shots(agent, "history-opened-notes")
    maya.tab("Actions")
    expect(maya.resolution("Issue a travel voucher")).to_have_attribute("data-status", "done")
    shots(agent, "history-opened-actions")

    # The tab takes the agent back to the list as they left it.
    maya.view("History")
    expect(found).to_have_count(1)
    expect(history.get_by_label("Search", exact=True)).to_have_value(seat)
    assert page_errors.entries == []


def test_a_conversation_never_handed_off_says_so_and_shows_no_wait(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    word = "Z" + secrets.token_hex(3).upper()
    maya = Console(agent).login(agent_login.email, agent_login.password)
    widget = Widget(customer).visit("/").open()
    said = f"how many bags can I check on booking {word}"
    widget.wait_for_reply(widget.send(said), "bot")
    conversation_id = widget.conversation_id()

    maya.view("History")
    history = agent.locator("#history-view")
    history.get_by_label("Search", exact=True).fill(said)
    history.get_by_role("button", name="Search").click()
    line = history.locator(f'.history-item[data-id="{conversation_id}"]')
    expect(line).to_have_attribute("data-state", "bot")
    line.click()
    expect(agent.locator("#conv-view")).to_have_attribute("data-status", "bot")
    expect(maya.message("customer", said)).to_be_visible()
    expect(agent.locator("#conv-sub")).to_have_text("With the bot — never handed off")
    expect(agent.locator("#ctx-requested-label")).to_have_text("Handed off")
    expect(agent.locator("#ctx-requested")).to_have_text("Not handed off")
    shots(agent, "history-never-handed-off")
    assert page_errors.entries == []
