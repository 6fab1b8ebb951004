"""Accessibility in a real browser: axe-core finds nothing on the customer's, the agent's
and the supervisor's pages in the states they are used in; keyboard paths; text size on
phones; the console at 1024x768.

Runs against the real system; see conftest.py.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .axe import assert_no_violations
from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget

pytestmark = pytest.mark.e2e

QUICK_REPLIES = ".quick .chip"


def hand_off(widget: Widget, text: str = "can I talk to a real person") -> str:
    """The customer asks for a person; returns the conversation's id once it is queued."""
    conversation_id = widget.hand_off(text)
    expect(widget.panel).to_have_attribute("data-status", "waiting")
    return conversation_id


def contact_form(page: Page) -> Locator:
    """The widget's "Leave a message" form: it opens by itself when nobody is online (or
    the wait is long), otherwise from the banner's offer."""
    form = page.get_by_role("form", name="Leave a message")
    offer = page.locator(".banner-action")
    expect(form.or_(offer).first).to_be_visible()
    if not form.is_visible():
        offer.click()
    expect(form).to_be_visible()
    return form


def check(page: Page, shots: Screenshots, name: str, where: str) -> None:
    shots(page, name)
    assert_no_violations(page, where)


def test_demo_page_and_widget_have_no_axe_violations(
    customer: Page, agent: Page, agent_login: AgentLogin, page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    console = Console(agent).login(agent_login.email, agent_login.password)
    widget = Widget(customer).visit("/")
    check(customer, shots, "demo-page", "the demo page")

    widget.open()
    check(customer, shots, "widget-open", "the widget, just opened")
    asked = widget.send("how do I check in online")
    widget.wait_for_reply(asked, "bot")
    expect(customer.locator(QUICK_REPLIES).first).to_be_visible()
    check(customer, shots, "widget-suggested-replies", "the widget with suggested replies")

    conversation_id = hand_off(widget)
    expect(widget.banner).to_be_visible()
    check(customer, shots, "widget-waiting", "the widget waiting for an agent")
    contact = contact_form(customer)
    check(customer, shots, "widget-contact-form", "the widget's contact form")
    contact.get_by_role("button", name="Cancel").click()
    expect(contact).to_have_count(0)

    console.take(conversation_id)
    expect(widget.notes.filter(has_text="from our team has joined")).to_be_visible()
    before = widget.last_seq()
    console.reply("Hi, I'm Maya. Let me look at your booking.")
    widget.wait_for_reply(before, "agent", timeout=10_000)
    check(customer, shots, "widget-with-agent", "the widget with a system note and an agent")

    console.resolve()
    rating = customer.get_by_role("group", name="Rate this conversation")
    expect(rating).to_be_visible()
    check(customer, shots, "widget-rating", "the widget asking for a rating")
    rating.get_by_role("button", name="5 of 5: Excellent").click()
    expect(rating.get_by_label("Anything to add? (optional)")).to_be_visible()
    check(customer, shots, "widget-rating-comment", "the widget's rating comment form")
    assert page_errors.entries == []


def test_console_has_no_axe_violations(
    customer: Page, agent: Page, agent_login: AgentLogin, page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    agent.goto("/agent")
    expect(agent.get_by_role("button", name="Sign in")).to_be_visible()
    check(agent, shots, "console-sign-in", "the console's sign-in page")
    console = Console(agent).login(agent_login.email, agent_login.password)
    check(agent, shots, "console-empty", "the console with nothing selected")

    widget = Widget(customer).visit("/").open()
    conversation_id = hand_off(widget, "my flight BA117 was cancelled, I want to talk to a person")
    expect(console.queue_item(conversation_id)).to_be_visible()
    check(agent, shots, "console-queue", "the console's queue")

    console.open(conversation_id)
    expect(console.context.locator("#ctx-reason")).not_to_be_empty()
    check(agent, shots, "console-conversation-waiting", "a waiting conversation in the console")

    console.claim()
    console.reply("Hi, I'm here to help with your flight.")
    widget.send("Thank you")
    expect(console.message("customer", "Thank you")).to_be_visible()
    check(agent, shots, "console-conversation-claimed", "a claimed conversation in the console")

    form = console.choose_action("Issue a travel voucher", "50")
    form.get_by_role("button", name="Review").click()
    expect(form.locator("#act-confirm")).to_be_visible()
    check(agent, shots, "console-action-review", "the console's action review")
    form.get_by_role("button", name="Confirm", exact=True).click()
    expect(console.resolution("Issue a travel voucher")).to_have_attribute("data-status", "done")
    expect(agent.locator("#audit-list li").first).to_be_visible()
    check(agent, shots, "console-actions-audit", "actions taken and the audit log")

    console.add_note("Rebooked on BA119, voucher sent")
    check(agent, shots, "console-notes", "the console's private notes")

    agent.get_by_role("button", name="Transfer").click()
    expect(agent.locator("#transfer-menu")).to_be_visible()
    check(agent, shots, "console-transfer-menu", "the console's transfer menu")
    agent.keyboard.press("Escape")
    console.resolve()
    assert page_errors.entries == []


def test_supervisor_views_have_no_axe_violations(
    customer: Page, agent: Page, supervisor: Page, agent_login: AgentLogin,
    supervisor_login: AgentLogin, page_errors: PageErrors, shots: Screenshots,
) -> None:
    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    maya = Console(agent).login(agent_login.email, agent_login.password)
    widget = Widget(customer).visit("/").open()
    conversation_id = hand_off(widget)
    maya.take(conversation_id)
    card = refund_card(maya, sam)
    expect(card).to_be_visible()
    check(supervisor, shots, "supervisor-approvals", "the supervisor's approvals")

    sam.view("Canned responses")
    check(supervisor, shots, "supervisor-canned", "the supervisor's canned responses")
    supervisor.get_by_role("button", name="New response").click()
    editor = supervisor.get_by_role("form", name="New canned response")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).to_be_visible()
    check(supervisor, shots, "supervisor-canned-editor", "the canned response editor with an error")
    editor.get_by_role("button", name="Cancel").click()

    sam.view("Conversations")
    sam.open(conversation_id)
    sam.tab("Actions")
    expect(supervisor.locator("#audit-list li").first).to_be_visible()
    check(supervisor, shots, "supervisor-audit", "the audit log, seen by a supervisor")

    sam.view("Approvals")
    card.get_by_role("button", name="Reject").click()
    expect(card).to_have_count(0)
    maya.resolve()
    assert page_errors.entries == []


def test_insights_view_has_no_axe_violations(
    customer: Page, supervisor: Page, supervisor_login: AgentLogin, page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    """Insights with its tiles, charts (a canvas labelled by its caption) and tables, for
    a period with something in it (and a topic's decision refused) and for one with
    nothing."""
    widget = Widget(customer).visit("/").open()
    widget.wait_for_reply(widget.send("what is the meaning of life and the universe"), "bot")
    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    sam.view("Insights")
    insights = supervisor.locator("#insights-view")
    expect(insights.locator("[data-chart] canvas")).to_have_count(4)
    expect(insights.locator("#insights-body")).to_have_attribute("aria-busy", "false")
    for chart in insights.locator("[data-chart] canvas").all():
        caption = chart.get_attribute("aria-labelledby")
        expect(supervisor.locator(f"#{caption} .chart-summary")).not_to_be_empty()
    check(supervisor, shots, "supervisor-insights", "the supervisor's insights")
    # A decision refused (a new topic needs a name): the row shows the gateway's message.
    page_errors.allow(r"status of 400")
    topic = insights.locator('[data-table="unanswered"] tbody tr').first
    topic.get_by_role("button", name="New topic", exact=True).click()
    expect(topic.get_by_role("alert")).to_have_text("'name' is required for a new topic")
    check(supervisor, shots, "supervisor-insights-refused", "the supervisor's insights with a refused decision")

    insights.get_by_label("Period", exact=True).select_option(label="From … to …")
    insights.get_by_label("From", exact=True).fill("2001-01-01")
    insights.get_by_label("To", exact=True).fill("2001-01-07")
    insights.get_by_role("button", name="Show", exact=True).click()
    expect(insights).to_have_attribute("data-from", "2001-01-01")
    expect(insights.locator("#insights-body")).to_have_attribute("aria-busy", "false")
    expect(insights.locator(".insight-table .empty")).to_have_count(5)
    check(supervisor, shots, "supervisor-insights-empty", "the supervisor's insights of a quiet week")
    assert page_errors.entries == []


def refund_card(maya: Console, sam: Console) -> Locator:
    """Maya asks for a refund above her limit; returns its card in Sam's approvals."""
    form = maya.choose_action("Refund", "300")
    form.get_by_role("button", name="Review").click()
    form.get_by_role("button", name="Send for approval").click()
    refund = maya.resolution("Refund")
    expect(refund).to_have_attribute("data-status", "pending_approval")
    resolution_id = refund.get_attribute("data-resolution-id")
    sam.view("Approvals")
    return sam.page.locator(f'.approval[data-resolution-id="{resolution_id}"]')


def tab_reaches(page: Page, target: Locator, what: str, presses: int = 120) -> None:
    """Tab, from wherever the focus is, until the target control has it."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("n => n === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {what}")


def test_new_console_views_have_no_axe_violations(
    customer: Page, agent: Page, supervisor: Page, agent_login: AgentLogin,
    supervisor_login: AgentLogin, base_url: str, page_errors: PageErrors, shots: Screenshots,
) -> None:
    """The views issue #15 added: the notification toggle, the context panel updated live
    with the score's drivers and the days dates mean, the rebooking fields, the approval
    card with its facts, History with its filters and an opened past conversation rated."""
    agent.context.grant_permissions(["notifications"], origin=base_url)
    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    maya = Console(agent).login(agent_login.email, agent_login.password)
    agent.bring_to_front()
    toggle = agent.get_by_role("button", name="Notifications off")
    agent.locator("#agent-name").focus()
    tab_reaches(agent, toggle, "the notifications toggle")
    agent.keyboard.press("Enter")
    expect(agent.get_by_role("button", name="Notifications on")).to_have_attribute("aria-pressed", "true")
    check(agent, shots, "console-notifications-on", "the console with notifications on")

    widget = Widget(customer).visit("/").open()
    conversation_id = hand_off(
        widget, "My name is Anna Schmidt. I've been on hold for three hours about my flight "
        "LH400 on friday, this is ridiculous, I want to talk to a person",
    )
    maya.take(conversation_id)
    widget.send("my booking reference is QX7K2P and I fly tomorrow")
    expect(maya.context.locator("#ctx-booking")).to_have_text("QX7K2P", timeout=20_000)
    expect(maya.context.locator("#ctx-dates")).to_contain_text("tomorrow (")
    expect(maya.context.locator("#ctx-frustration")).to_contain_text("Raised by: ")
    check(agent, shots, "console-context-updated-live", "the context panel after a live update")

    form = maya.choose_action("Rebook on the next flight")
    flight = form.get_by_label("New flight number")
    departs = form.get_by_label("Departure (local time)")
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_role("alert")).to_have_text("Enter the new flight number.")
    check(agent, shots, "console-rebooking-error", "the rebooking form with an error")
    form.locator(".act-option").filter(has_text="Rebook on the next flight").locator("input").focus()
    tab_reaches(agent, flight, "the new flight number", presses=20)
    tab_reaches(agent, departs, "the departure", presses=5)
    flight.fill("BA119")
    departs.fill(f"{(dt.date.today() + dt.timedelta(days=2)).isoformat()}T09:40")
    form.get_by_role("button", name="Review").click()
    expect(form.locator("#act-confirm")).to_be_visible()
    check(agent, shots, "console-rebooking-review", "the rebooking's review")
    form.get_by_role("button", name="Confirm", exact=True).click()
    expect(maya.resolution("Rebook on the next flight")).to_have_attribute("data-status", "done")

    form = maya.choose_action("Refund", "300")
    form.get_by_role("button", name="Review").click()
    form.get_by_role("button", name="Send for approval").click()
    refund = maya.resolution("Refund")
    expect(refund).to_have_attribute("data-status", "pending_approval")
    resolution_id = refund.get_attribute("data-resolution-id")
    sam.view("Approvals")
    card = supervisor.locator(f'.approval[data-resolution-id="{resolution_id}"]')
    expect(card.locator('[data-fact="booking"]')).to_have_text("QX7K2P")
    expect(card.locator('[data-fact="given"]')).to_contain_text("BA119")
    supervisor.bring_to_front()
    supervisor.locator("#view-approvals").focus()
    tab_reaches(supervisor, card.get_by_role("button", name="Approve"), "the card's Approve")
    check(supervisor, shots, "supervisor-approval-card-facts", "the approval card with its facts")
    card.get_by_role("button", name="Reject").click()
    expect(card).to_have_count(0)

    agent.bring_to_front()
    maya.tab("Details")
    maya.resolve()
    rating = customer.get_by_role("group", name="Rate this conversation")
    rating.get_by_role("button", name="4 of 5: Good").click()
    expect(rating).to_contain_text("Your rating is saved")
    expect(agent.locator("#ctx-rating")).to_contain_text("4 / 5")
    check(agent, shots, "console-rating-live", "the console with the customer's rating")

    maya.view("History")
    history = agent.locator("#history-view")
    expect(history).to_be_visible()
    check(agent, shots, "history-list", "History as it opens")
    agent.locator("#view-history").focus()
    for name in ("Search", "Status", "Reason", "Agent", "From", "To"):
        tab_reaches(agent, history.get_by_label(name, exact=True), f"History's {name}", presses=10)
    history.get_by_label("Search", exact=True).fill("QX7K2P")
    history.get_by_label("Status", exact=True).select_option(label="Resolved")
    search = history.get_by_role("button", name="Search")
    tab_reaches(agent, search, "History's Search button", presses=25)
    agent.keyboard.press("Enter")
    found = history.locator(f'.history-item[data-id="{conversation_id}"]')
    expect(found).to_contain_text("4 / 5")
    tab_reaches(agent, found, "the conversation found", presses=10)
    check(agent, shots, "history-results", "History's results with a rating")
    history.get_by_label("From", exact=True).fill("2001-01-01")
    history.get_by_label("To", exact=True).fill("2001-01-02")
    search.click()
    expect(history.locator("#history-empty")).to_be_visible()
    check(agent, shots, "history-nothing-found", "History finding nothing")
    history.get_by_label("From", exact=True).fill("")
    history.get_by_label("To", exact=True).fill("")
    search.click()
    found.click()
    expect(agent.locator("#conv-view")).to_have_attribute("data-status", "bot")
    expect(agent.locator("#ctx-rating")).to_contain_text("4 / 5")
    expect(agent.locator("#ctx-requested-label")).to_have_text("Handed off")
    check(agent, shots, "history-opened", "a past conversation opened from History")
    maya.tab("Actions")
    expect(maya.resolution("Refund")).to_have_attribute("data-status", "rejected")
    check(agent, shots, "history-opened-actions", "a past conversation's actions")
    assert page_errors.entries == []


def test_offline_notice_and_contact_form_error_have_no_axe_violations(
    customer: Page, page_errors: PageErrors, shots: Screenshots
) -> None:
    if os.environ.get("BATON_BASE_URL", "").strip():
        pytest.skip("needs the session's own Baton, outside its opening hours")
    # No console is open and the session's Baton is outside its opening hours: one offline
    # notice, and the contact form opens by itself.
    widget = Widget(customer).visit("/").open()
    told = widget.wait_for_reply(widget.send("can I talk to a real person"), "bot")
    assert "offline" in told.text, told.text
    form = customer.get_by_role("form", name="Leave a message")
    expect(form).to_be_visible()
    assert widget.panel.inner_text().count("offline") == 1
    check(customer, shots, "widget-offline-notice", "the widget's offline notice")

    page_errors.allow(r"status of 400")  # the wrong address below, refused by the gateway
    email = form.get_by_label("Email")
    email.fill("traveller.example.com")
    form.get_by_role("button", name="Send").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error:visible")).to_have_count(1)
    check(customer, shots, "widget-contact-field-error", "the contact form with a field error")
    assert page_errors.entries == []


def _widget_focus(page: Page) -> str:
    """What has the keyboard focus: inside the widget, its accessible label or text."""
    return page.evaluate(
        """() => {
          const host = document.querySelector('[data-baton-widget]');
          if (document.activeElement !== host) return 'outside: ' + (document.activeElement || {}).tagName;
          const a = host.shadowRoot.activeElement;
          if (!a) return 'outside: widget host';
          return (a.getAttribute('aria-label') || a.textContent || a.tagName).trim();
        }"""
    )


def test_tab_from_the_message_box_reaches_suggested_replies_and_minimise(
    customer: Page, page_errors: PageErrors, shots: Screenshots
) -> None:
    widget = Widget(customer).visit("/").open()
    asked = widget.send("how do I check in online")
    widget.wait_for_reply(asked, "bot")
    chips = customer.locator(QUICK_REPLIES)
    expect(chips.first).to_be_visible()
    titles = chips.all_inner_texts()

    customer.bring_to_front()
    widget.input.focus()
    reached: list[str] = []
    for _ in range(30):
        customer.keyboard.press("Tab")
        now = _widget_focus(customer)
        reached.append(now)
        if now == "Message":
            break
        if customer.locator(QUICK_REPLIES).first.evaluate("n => n.matches(':focus')"):
            shots(customer, "widget-suggested-reply-focused")
    # Tab goes round the open panel: from the message box to the minimise button and every
    # suggested reply, and back to the message box, never leaving it on the way.
    assert reached[-1] == "Message", reached
    assert "Minimise chat" in reached, reached
    assert [r for r in reached if r in titles] == titles, reached
    assert not [r for r in reached if r.startswith("outside")], reached

    # Enter on a suggested reply sends it, as a click would.
    for _ in range(30):
        customer.keyboard.press("Tab")
        if _widget_focus(customer) == titles[0]:
            break
    else:
        pytest.fail(f"Tab never reached the suggested reply {titles[0]!r}")
    before = widget.last_seq()
    customer.keyboard.press("Enter")
    widget.wait_for_reply(before, "customer")
    assert widget.replies_after(before, "customer")[0].text == titles[0]
    assert page_errors.entries == []


def test_enter_on_a_queue_item_moves_focus_into_the_conversation(
    customer: Page, agent: Page, agent_login: AgentLogin, page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    console = Console(agent).login(agent_login.email, agent_login.password)
    widget = Widget(customer).visit("/").open()
    conversation_id = hand_off(widget)
    item = console.queue_item(conversation_id)
    expect(item).to_be_visible()

    agent.bring_to_front()
    item.focus()
    agent.keyboard.press("Enter")
    expect(agent.locator("#conv-view")).to_be_visible()
    # The conversation's heading takes the focus (a waiting one has no reply box yet), so
    # a screen reader says which conversation opened and Tab goes on to Claim.
    agent.wait_for_function("() => document.activeElement && document.activeElement.id === 'conv-title'")
    shots(agent, "console-opened-with-enter")
    agent.keyboard.press("Tab")
    agent.wait_for_function("() => document.activeElement && document.activeElement.id === 'claim'")
    agent.keyboard.press("Enter")
    expect(agent.locator("#conv-view")).to_have_attribute("data-status", "agent")
    agent.wait_for_function("() => document.activeElement && document.activeElement.id === 'reply-input'")

    # Opened again from the queue with Enter, a conversation the agent holds puts the
    # cursor straight in the reply box.
    console.queue_item(conversation_id).focus()
    agent.keyboard.press("Enter")
    agent.wait_for_function("() => document.activeElement && document.activeElement.id === 'reply-input'")
    console.resolve()
    assert page_errors.entries == []


def test_message_box_text_is_16px_on_a_phone(
    phone: Page, page_errors: PageErrors, shots: Screenshots
) -> None:
    # iOS zooms the page into any text field under 16 px when it takes the focus.
    widget = Widget(phone).visit("/").open()
    font_size = widget.input.evaluate("n => parseFloat(getComputedStyle(n).fontSize)")
    assert font_size >= 16, f"the message box's text is {font_size}px on a phone"
    check(phone, shots, "phone-widget-open", "the widget on a phone")
    hand_off(widget)
    contact = contact_form(phone)
    for label in ("Name (optional)", "Email", "Phone", "Message (optional)"):
        size = contact.get_by_label(label).evaluate("n => parseFloat(getComputedStyle(n).fontSize)")
        assert size >= 16, f"{label!r} is {size}px on a phone"
    check(phone, shots, "phone-contact-form", "the widget's contact form on a phone")
    assert page_errors.entries == []


def test_console_at_1024x768_collapses_the_context_panel(
    browser: Browser, base_url: str, customer: Page, agent_login: AgentLogin,
    page_errors: PageErrors, shots: Screenshots,
) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 768})
    context.set_default_timeout(15_000)
    try:
        page = page_errors.watch(context.new_page())
        console = Console(page).login(agent_login.email, agent_login.password)
        widget = Widget(customer).visit("/").open()
        conversation_id = hand_off(widget)
        console.take(conversation_id)

        # The transcript keeps most of the height; the context panel waits behind its toggle.
        toggle = page.get_by_role("button", name="Details", exact=True)
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(console.context).to_be_hidden()
        box = console.transcript.bounding_box()
        assert box is not None and box["height"] >= 0.6 * 768, box
        shots(page, "console-1024-collapsed")
        assert_no_violations(page, "the console at 1024x768")

        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(console.context).to_be_visible()
        expect(console.context.locator("#ctx-reason")).to_have_text("Asked for a person")
        # Over the transcript, which keeps its size, and inside the window.
        panel = console.context.bounding_box()
        assert panel is not None and panel["x"] + panel["width"] <= 1024, panel
        assert console.transcript.bounding_box() == box
        expect(page.get_by_role("tab", name="Details")).to_be_focused()
        shots(page, "console-1024-context-open")
        assert_no_violations(page, "the console at 1024x768 with its context panel open")

        # Escape, or its own Hide button, folds it away again and gives the toggle the focus.
        console.tab("Notes")
        page.keyboard.press("Escape")
        expect(console.context).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()
        page.keyboard.press("Enter")
        expect(console.context).to_be_visible()
        expect(page.get_by_role("tab", name="Notes")).to_be_focused()
        page.get_by_role("button", name="Hide details").click()
        expect(console.context).to_be_hidden()
        expect(toggle).to_be_focused()

        # Where there is room, the panel stays beside the transcript and needs no toggle.
        page.set_viewport_size({"width": 1440, "height": 900})
        expect(console.context).to_be_visible()
        expect(toggle).to_be_hidden()
        shots(page, "console-1440")
        console.resolve()
        assert page_errors.entries == []
    finally:
        context.close()
