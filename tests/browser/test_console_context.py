"""The agent's context panel in a real browser (issue #15, points 8 and 11): it follows
what the customer says after the handoff without a reload, reads as words (labels, the
score's drivers, the day "tomorrow" means), names the customer, and a mistyped canned
shortcut is never sent. Runs against the real system; see conftest.py."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget

pytestmark = pytest.mark.e2e

LABELS = json.loads(
    (Path(__file__).resolve().parents[2] / "handoff" / "static" / "labels.json").read_text()
)
FIRST = ("My name is Anna Schmidt. I've been on hold for three hours about my flight on "
         "friday, this is ridiculous, I want to talk to a person")
LATER = "my booking reference is QX7K2P and I fly tomorrow"
QUIET_MS = 2_500  # how long a message that must not be sent gets to arrive anyway


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def test_context_follows_the_customer_reads_as_words_and_names_them(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    maya = Console(agent).login(agent_login.email, agent_login.password)
    widget = Widget(customer).visit("/").open()
    widget.wait_for_reply(widget.send("how many bags can I check"), "bot")
    conversation_id = widget.hand_off(FIRST)
    maya.take(conversation_id)
    panel = maya.context

    # The header names the customer (a name they gave in the chat), not an id.
    expect(agent.locator("#conv-title")).to_have_text("Anna Schmidt")
    expect(agent.locator("#conv-sub")).to_have_text(f"With you · conversation {conversation_id[:8]}")
    expect(panel.locator("#ctx-booking")).to_have_text("—")
    # A date said to the bot reads as the day it means (the test stack's zone is UTC).
    said_on = dt.datetime.now(dt.timezone.utc).date()
    friday = _day(said_on + dt.timedelta(days=(4 - said_on.weekday()) % 7))
    expect(panel.locator("#ctx-dates")).to_have_text(f"friday ({friday})")

    # Labels, not identifiers; and what drove the score.
    handoff = maya.api_get(f"/api/agent/conversations/{conversation_id}")["handoff"]
    frustration = handoff["context"]["frustration"]
    assert frustration["signals"] and frustration["drivers"], frustration
    score = frustration["score"]
    level = " — high" if score >= 0.6 else " — moderate" if score >= 0.3 else " — calm"
    drivers = [LABELS["drivers"].get(d["name"]) or LABELS["signals"][d["name"]]
               for d in frustration["drivers"]]
    expect(panel.locator("#ctx-frustration")).to_have_text(
        f"Score {score:.2f}{level}. Raised by: {', '.join(drivers)}"
    )
    signals = [LABELS["signals"][s] for s in frustration["signals"]]
    assert "Long wait" in signals, signals
    expect(panel.locator("#ctx-signals li")).to_have_text(signals)
    intents = [LABELS["intents"][i] for i in handoff["context"]["intents_seen"]]
    assert "Baggage allowance" in intents, handoff["context"]
    expect(panel.locator("#ctx-intents li")).to_have_text(intents)
    for shown in (panel.locator("#panel-details").inner_text(),
                  maya.transcript.locator(".tm-nlu").first.inner_text()):
        assert not re.search(r"[a-z]+_[a-z]+", shown), shown
    shots(agent, "agent-context-named-labels-drivers")

    # The customer gives their booking and a date: the open console shows both, no reload.
    reloads: list[str] = []
    agent.on("framenavigated", lambda frame: reloads.append(frame.url))
    widget.send(LATER)
    expect(panel.locator("#ctx-booking")).to_have_text("QX7K2P", timeout=20_000)
    expect(panel.locator("#ctx-dates")).to_have_text(
        f"friday ({friday}), tomorrow ({_day(said_on + dt.timedelta(days=1))})"
    )
    assert reloads == []
    shots(agent, "agent-context-updated-live")
    context = maya.api_get(f"/api/agent/conversations/{conversation_id}")["handoff"]["context"]
    assert (context["booking_reference"], context["customer_name"]) == ("QX7K2P", "Anna Schmidt")

    # Unknown ids are humanised, never shown raw; dates read as days.
    # The console's own modules, as the page loaded them (the same instances).
    assert agent.evaluate("""async () => {
        const labels = await import("/static/console/labels.js");
        return [labels.label("intents", "rebook_train"), labels.label("intents", "change_booking"),
        labels.label("drivers", "long_wait"), labels.dateText("march 3", "2031-03-03"),
        labels.dateText("next week", null)]; }""") == [
        "Rebook train", "Change a booking", "Long wait", "march 3 (Mon 3 Mar 2031)", "next week",
    ]
    # The name the customer left in the contact form comes first.
    assert agent.evaluate("""async () => {
        const { customerName } = await import("/static/console/core.js");
        return [customerName({contact: {name: "Ines Duarte"}, context: {customer_name: "Anna"}}),
        customerName({contact: null, context: {customer_name: "Anna"}}),
        customerName({contact: {email: "a@example.com"}, context: {}})]; }""") == [
        "Ines Duarte", "Anna", None,
    ]
    assert page_errors.entries == []


def test_a_mistyped_canned_shortcut_is_never_sent(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    maya = Console(agent).login(agent_login.email, agent_login.password)
    widget = Widget(customer).visit("/").open()
    maya.take(widget.hand_off())
    error = agent.locator("#conv-error")
    before = widget.last_seq()

    # "/zzz" matches nothing: Enter does not send it, says so, and keeps the text.
    maya.reply_box.press_sequentially("/zzz")
    expect(agent.locator("#canned-none")).to_have_text("No canned response /zzz.")
    maya.reply_box.press("Enter")
    expect(error).to_have_text("No canned response /zzz. Not sent: correct the shortcut, "
                               "or press Enter again to send the text as it is.")
    expect(maya.reply_box).to_have_value("/zzz")
    shots(agent, "agent-mistyped-shortcut-held-back")
    # Corrected to "/ba": the demo company's /bags response (shipped, not written by a
    # supervisor) is inserted, not "/ba" sent.
    maya.reply_box.fill("")
    expect(error).to_be_hidden()
    maya.reply_box.press_sequentially("/ba")
    expect(agent.get_by_role("option").filter(has_text="/bags")).to_have_attribute("aria-selected", "true")
    maya.reply_box.press("Enter")
    expect(maya.reply_box).to_have_value(re.compile(r"^Your fare includes one cabin bag of up to 8 kg"))
    agent.wait_for_timeout(QUIET_MS)
    assert widget.replies_after(before, "agent") == []
    expect(maya.transcript.locator(".tm-agent")).to_have_count(0)
    shots(agent, "agent-demo-canned-inserted")

    # A reply that starts with "/" on purpose: Enter again sends it as typed.
    maya.reply_box.fill("/help is our help page")
    maya.reply_box.press("Enter")
    expect(error).to_contain_text("No canned response /help.")
    maya.reply_box.press("Enter")
    expect(maya.message("agent", "/help is our help page")).to_be_visible()
    assert widget.wait_for_reply(before, "agent", timeout=10_000).text == "/help is our help page"
    expect(error).to_be_hidden()
    assert page_errors.entries == []
