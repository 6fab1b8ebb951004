"""The whole path in a real browser: a customer in the widget, an agent in the console.

Runs against the real system (gateway, Rasa, action server); see conftest.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, WebSocketRoute, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, wait_until

pytestmark = pytest.mark.e2e

QUIET_MS = 2_500  # how long the bot gets to (wrongly) say something during a handoff


def test_teach_handoff_agent_reply_resolve(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    widget = Widget(customer).visit("/")
    shots(customer, "customer-demo-page")

    # Teach: the bot answers a how-to question.
    widget.open()
    shots(customer, "customer-widget-open")
    asked = widget.send("how do I check in online")
    answer = widget.wait_for_reply(asked, "bot")
    assert re.search(r"check", answer.text, re.I), answer.text
    assert widget.status() in (None, "bot")
    shots(customer, "customer-bot-answer")

    # Handoff, in the same turn: the bot says a colleague is coming, the widget says so too.
    asked = widget.send("can I talk to a real person")
    widget.wait_for_reply(asked, "bot")
    expect(widget.banner).to_contain_text("colleague is on the way")
    assert widget.status() == "waiting"
    conversation_id = widget.conversation_id()
    shots(customer, "customer-handoff-waiting")

    # The agent sees it in the queue with its reason, opens it, sees context and transcript.
    console = Console(agent).login(agent_login.email, agent_login.password)
    agent_name = console.agent_name()
    item = console.queue_item(conversation_id)
    expect(item).to_be_visible()
    expect(item.locator("[data-reason]")).to_have_attribute("data-reason", "requested")
    expect(item).to_have_attribute("data-status", "waiting")
    shots(agent, "agent-queue")
    console.open(conversation_id)
    expect(console.context.locator("#ctx-reason")).to_have_text("Asked for a person")
    expect(console.message("customer", "how do I check in online")).to_be_visible()
    expect(console.message("customer", "can I talk to a real person")).to_be_visible()
    expect(console.message("customer", "how do I check in online").locator(".tm-nlu")).not_to_be_empty()
    expect(console.context.locator("#ctx-summary")).not_to_be_empty()
    shots(agent, "agent-context")

    # Claim: the customer is told who joined.
    console.claim()
    expect(widget.notes.filter(has_text=f"{agent_name} from our team has joined")).to_be_visible()
    assert widget.status() == "agent"
    shots(agent, "agent-claimed")
    shots(customer, "customer-agent-joined")

    # Reply both ways, live.
    before = widget.last_seq()
    console.reply("Hi, I'm here to help")
    line = widget.wait_for_reply(before, "agent", timeout=10_000)
    assert line.text == "Hi, I'm here to help"
    shots(customer, "customer-sees-agent-reply")

    markup = "Thanks! Booking <b>ABC123</b> <img src=x>"
    asked = widget.send(markup)
    expect(console.message("customer", markup)).to_be_visible()
    # Shown as text in the console, never parsed as HTML.
    assert console.transcript.locator("b, img").count() == 0
    assert customer.locator(".msg b, .msg img").count() == 0
    shots(agent, "agent-sees-customer-reply")

    # The bot stays silent while the agent has the conversation.
    customer.wait_for_timeout(QUIET_MS)
    assert widget.replies_after(asked, "bot") == []

    # A reload keeps the same conversation and history.
    history = widget.transcript()
    customer.reload()
    widget.open()
    expect(customer.locator(".log > [data-seq]")).to_have_count(len(history))
    assert widget.transcript() == history
    assert widget.conversation_id() == conversation_id
    expect(customer.locator(".subtitle")).to_contain_text(agent_name)
    shots(customer, "customer-after-reload")

    # Resolve: back to the bot, which answers again.
    console.resolve()
    expect(console.queue_item(conversation_id)).to_have_count(0)
    expect(widget.notes.filter(has_text="resolved")).to_be_visible()
    assert widget.status() == "bot"
    shots(agent, "agent-resolved")
    asked = widget.send("how do I check in online")
    answer = widget.wait_for_reply(asked, "bot")
    assert answer.text
    shots(customer, "customer-bot-again")

    assert page_errors.entries == []


def test_keyboard_only_on_a_phone_sized_screen(
    browser_phone: Page, page_errors: PageErrors, shots: Screenshots
) -> None:
    page = browser_phone
    widget = Widget(page).visit("/")

    # Tab to the launcher, open with Enter: focus lands in the message box.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.matches('[data-baton-widget]')"):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.input).to_be_focused()

    # The panel fills the narrow screen without horizontal scrolling.
    box = widget.panel.bounding_box()
    assert box is not None and box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shots(page, "phone-open")

    page.keyboard.type("how do I check in online")
    page.keyboard.press("Enter")
    widget.wait_for_reply(0, "bot")
    expect(page.locator("[role=log]")).to_have_attribute("aria-live", "polite")
    shots(page, "phone-bot-answer")

    # Escape closes the panel and gives focus back to the launcher.
    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    assert page_errors.entries == []


def test_network_drop_and_lost_response_lose_nothing(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    widget = Widget(customer).visit("/").open()
    asked = widget.send("can I talk to a real person")
    widget.wait_for_reply(asked, "bot")
    conversation_id = widget.conversation_id()
    console = Console(agent).login(agent_login.email, agent_login.password)
    console.open(conversation_id)
    console.claim()
    expect(widget.notes.filter(has_text="has joined")).to_be_visible()

    # Drop the widget's socket and keep it down while the agent writes.
    sockets: list[WebSocketRoute] = []
    down = {"value": False}

    def proxy(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        if down["value"]:
            ws.close(code=1013, reason="test: still down")
        else:
            ws.connect_to_server()

    customer.route_web_socket(re.compile(r"/api/conversations/[^/]+/ws"), proxy)
    customer.reload()
    widget.open()
    wait_until(customer, lambda: len(sockets) > 0, "the widget's socket")
    down["value"] = True
    sockets[-1].close(code=1001, reason="test: drop")
    expect(customer.locator(".connection")).to_be_visible()
    shots(customer, "customer-connection-lost")
    console.reply("Sent while your connection was down")
    assert widget.replies_after(asked, "agent") == []
    down["value"] = False
    line = widget.wait_for_reply(asked, "agent", timeout=20_000)
    assert line.text == "Sent while your connection was down"
    expect(customer.locator(".connection")).to_be_hidden()
    assert re.search(r"after=[1-9]", sockets[-1].url), sockets[-1].url
    shots(customer, "customer-reconnected")

    # A reply whose HTTP answer is lost is retried with the same client_message_id
    # and stored once.
    lost = {"count": 0}

    def lose_first_answer(route: Route) -> None:
        if route.request.method == "POST" and lost["count"] == 0:
            lost["count"] += 1
            route.fetch()  # the gateway stores the message...
            route.abort("connectionreset")  # ...but the widget never hears back
            return
        route.continue_()

    page_errors.allow(r"ERR_CONNECTION_RESET|Failed to load resource")
    customer.route(re.compile(r"/api/conversations/[^/]+/messages$"), lose_first_answer)
    widget.send("my booking is ABC123")
    expect(console.message("customer", "my booking is ABC123")).to_have_count(1)
    customer.wait_for_timeout(1_000)
    expect(console.message("customer", "my booking is ABC123")).to_have_count(1)
    texts = [line.text for line in widget.transcript()]
    assert texts.count("my booking is ABC123") == 1
    assert lost["count"] == 1
    shots(customer, "customer-retried-once")

    console.resolve()
    assert page_errors.entries == []


@pytest.fixture
def browser_phone(browser: Browser, base_url: str, page_errors: PageErrors) -> Iterator[Page]:
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    yield page_errors.watch(context.new_page())
    context.close()

