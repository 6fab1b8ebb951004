"""The whole path in a real browser: a customer in the widget, an agent in the console.

Runs against the real system (gateway, Rasa, action server); see conftest.py.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Request, Route, WebSocketRoute, expect

from ..conftest import E2E_OPENING_DAY
from .conftest import ROOT, AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, served_pages, wait_until

pytestmark = pytest.mark.e2e

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
QUIET_MS = 2_500  # how long the bot gets to (wrongly) say something during a handoff


def test_teach_handoff_agent_reply_resolve(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    # An agent is on duty, watching the live queue.
    console = Console(agent).login(agent_login.email, agent_login.password)
    agent_name = console.agent_name()

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

    # Quick replies: a button sends its title as the customer's words.
    # (The check-in answer offers follow-ups, e.g. "Baggage allowance".)
    last_answer = widget.replies_after(asked, "bot")[-1]
    chips = customer.locator(f'.msg[data-seq="{last_answer.seq}"] .quick .chip')
    expect(chips.first).to_be_visible()
    _, chosen = widget.choose_quick_reply(chips.first)
    widget.wait_for_reply(chosen, "bot")
    expect(chips).to_have_count(0)  # spent once the conversation moved on
    shots(customer, "customer-quick-reply")

    # Handoff, in the same turn: the bot says a colleague is coming, the widget says so too.
    asked = widget.send("can I talk to a real person")
    widget.wait_for_reply(asked, "bot")
    expect(widget.banner).to_contain_text("colleague is on the way")
    assert widget.status() == "waiting"
    conversation_id = widget.conversation_id()
    shots(customer, "customer-handoff-waiting")

    expect(widget.banner).to_contain_text(re.compile(r"You're (next|number \d+) in the queue"))

    # The handoff appears live in the agent's queue with its reason; the agent opens it
    # and sees the context and the transcript.
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

    # Typing indicators both ways.
    widget.input.press_sequentially("Hel")
    expect(agent.locator("#customer-typing")).to_be_visible()
    widget.input.fill("")
    console.reply_box.press_sequentially("One mo")
    expect(customer.locator(".typing")).to_be_visible()
    shots(customer, "customer-sees-agent-typing")
    console.reply_box.fill("")

    # Reply both ways, live. The console's socket carries the reply: no HTTP request.
    posts: list[str] = []

    def note_post(request: Request) -> None:
        if request.method == "POST":
            posts.append(request.url)

    agent.on("request", note_post)
    before = widget.last_seq()
    console.reply("Hi, I'm here to help")
    line = widget.wait_for_reply(before, "agent", timeout=10_000)
    agent.remove_listener("request", note_post)
    assert line.text == "Hi, I'm here to help"
    assert posts == []
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

    # The end of the chat asks how it went, and a reload asks again (once) until answered.
    rating = customer.get_by_role("group", name="Rate this conversation")
    expect(rating).to_contain_text(f"How was your chat with {agent_name}?")
    history = widget.transcript()
    customer.reload()
    widget.open()
    # The card comes with the history, in the same step: once it is there, so is the card.
    expect(customer.locator(".log > [data-seq]")).to_have_count(len(history))
    expect(rating).to_have_count(1)
    expect(rating).to_contain_text(f"How was your chat with {agent_name}?")
    shots(customer, "customer-rating-after-reload")

    # One tap rates the chat, and an optional comment follows; both are stored.
    rating.get_by_role("button", name="4 of 5: Good").click()
    expect(rating).to_contain_text("Your rating is saved")
    rating.get_by_label("Anything to add? (optional)").fill("Quick and kind")
    rating.get_by_role("button", name="Send").click()
    expect(rating).to_contain_text("Thank you for your feedback!")
    shots(customer, "customer-rated")
    handoff = console.api_get(f"/api/agent/conversations/{conversation_id}")["handoff"]
    assert (handoff["rating"], handoff["rating_comment"]) == (4, "Quick and kind")

    # Rated: a reload does not ask again.
    customer.reload()
    widget.open()
    expect(customer.locator(".log > [data-seq]")).to_have_count(len(history))
    expect(rating).to_have_count(0)

    asked = widget.send("how do I check in online")
    answer = widget.wait_for_reply(asked, "bot")
    assert answer.text
    shots(customer, "customer-bot-again")

    assert page_errors.entries == []


def test_nobody_online_leave_a_message(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    if os.environ.get("BATON_BASE_URL", "").strip():
        pytest.skip("needs the session's own Baton, whose opening hours the test knows")
    # No console is open, outside the opening hours: the handoff says so once, in one
    # message, and the header and the banner agree with it.
    widget = Widget(customer).visit("/").open()
    asked = widget.send("can I talk to a real person")
    told = widget.wait_for_reply(asked, "bot")
    form = customer.get_by_role("form", name="Leave a message")
    expect(form).to_be_visible()
    back = f"on {DAY_NAMES[E2E_OPENING_DAY]} at 08:00 (UTC)"
    expect(customer.locator(".subtitle")).to_have_text(f"Back {back}")
    assert told.text == (
        f"Of course! Our team is offline right now. We're back {back} and will e-mail you: "
        "leave your email and a short message below, and a colleague will get back to you "
        "with everything you've told me so far."
    )
    assert [(line.sender, line.text) for line in widget.transcript() if line.seq > asked] == [
        ("bot", told.text)
    ]
    shown = widget.panel.inner_text()
    assert shown.count("offline") == 1, shown
    for contradiction in ("bringing in", "Connecting you", "on the way", "online right now"):
        assert contradiction not in shown, shown
    shots(customer, "customer-nobody-online")

    # A wrong e-mail: the error is about the e-mail, next to it, and nothing typed is lost.
    page_errors.allow(r"status of 400")  # the invalid address below, refused by the gateway
    email = form.get_by_label("Email")
    form.get_by_label("Name (optional)").fill("Alex")
    email.fill("traveller.example.com")
    form.get_by_label("Message (optional)").fill("Please call me about my refund")
    form.get_by_role("button", name="Send").click()
    email_error = form.locator("label.field:has(input[name=email]) .field-error")
    expect(email_error).to_have_text(
        "That e-mail address doesn't look right: it needs an @, like name@example.com."
    )
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(form.locator(".field-error:visible")).to_have_count(1)
    expect(email).to_have_value("traveller.example.com")
    expect(form.get_by_label("Name (optional)")).to_have_value("Alex")
    expect(form.get_by_label("Message (optional)")).to_have_value("Please call me about my refund")
    shots(customer, "customer-wrong-email")

    email.fill("traveller@example.com")
    form.get_by_role("button", name="Send").click()
    expect(form).to_have_count(0)
    expect(widget.notes.filter(has_text="traveller@example.com")).to_be_visible()
    expect(widget.banner).to_contain_text("We have your details")
    shots(customer, "customer-left-a-message")

    # The agent who logs in later finds the details and the message with the handoff.
    conversation_id = widget.conversation_id()
    console = Console(agent).login(agent_login.email, agent_login.password)
    expect(console.queue_item(conversation_id)).to_contain_text("Left contact")
    console.open(conversation_id)
    expect(agent.locator("#ctx-contact")).to_contain_text("traveller@example.com")
    expect(console.message("customer", "Please call me about my refund")).to_be_visible()
    shots(agent, "agent-sees-contact")
    console.claim()
    console.resolve()
    assert page_errors.entries == []


def test_keyboard_only_on_a_phone_sized_screen(
    phone: Page, page_errors: PageErrors, shots: Screenshots
) -> None:
    page = phone
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
    console.take(conversation_id)
    expect(widget.notes.filter(has_text="has joined")).to_be_visible()

    # Drop the widget's socket and keep it down while the agent writes.
    sockets: list[WebSocketRoute] = []
    down = {"value": False}
    lost = {"posts": 0, "acks": 0, "lose_ack": False}
    sent_on_socket: list[str] = []

    def proxy(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        if down["value"]:
            ws.close(code=1013, reason="test: still down")
            return
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if '"type": "message"' in str(message) or '"type":"message"' in str(message):
                sent_on_socket.append(str(message))
            server.send(message)

        def to_page(message: str | bytes) -> None:
            if lost["lose_ack"] and re.search(r'"type": ?"ack"', str(message)):
                # Stored, but the connection drops before the widget hears back.
                lost["lose_ack"] = False
                lost["acks"] += 1
                ws.close(code=4000, reason="test: dropped before the ack")
                server.close()
                return
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

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

    # While the socket is down the widget sends over HTTP. A reply whose HTTP answer is
    # lost is retried with the same client_message_id and stored once.
    def lose_first_answer(route: Route) -> None:
        if route.request.method == "POST" and lost["posts"] == 0:
            lost["posts"] += 1
            route.fetch()  # the gateway stores the message...
            route.abort("connectionreset")  # ...but the widget never hears back
            return
        route.continue_()

    page_errors.allow(r"ERR_CONNECTION_RESET|Failed to load resource")
    customer.route(re.compile(r"/api/conversations/[^/]+/messages$"), lose_first_answer)
    widget.send("my booking is ABC123")
    expect(console.message("customer", "my booking is ABC123")).to_have_count(1)
    assert lost["posts"] == 1

    # The reply written while the socket was down has an earlier seq than the message
    # just sent over HTTP; the widget still resumes from before it.
    down["value"] = False
    line = widget.wait_for_reply(asked, "agent", timeout=20_000)
    assert line.text == "Sent while your connection was down"
    expect(customer.locator(".connection")).to_be_hidden()
    assert re.search(r"after=[1-9]", sockets[-1].url), sockets[-1].url
    shots(customer, "customer-reconnected")

    # With the socket back, messages go on it. One whose ack is lost (the connection drops
    # right after the gateway stored it) is retried with the same id and stored once.
    lost["lose_ack"] = True
    widget.send("and my seat is 12A")
    expect(console.message("customer", "and my seat is 12A")).to_have_count(1)
    wait_until(customer, lambda: lost["acks"] == 1, "the ack that was lost")
    assert sum("and my seat is 12A" in frame for frame in sent_on_socket) >= 1
    expect(customer.locator(".connection")).to_be_hidden(timeout=20_000)
    widget.send("no more drops")
    expect(console.message("customer", "no more drops")).to_have_count(1)
    customer.wait_for_timeout(1_000)
    for text in ("my booking is ABC123", "and my seat is 12A", "no more drops"):
        expect(console.message("customer", text)).to_have_count(1)
    texts = [line.text for line in widget.transcript()]
    assert [texts.count(t) for t in ("my booking is ABC123", "and my seat is 12A")] == [1, 1]
    assert sum("no more drops" in frame for frame in sent_on_socket) == 1
    shots(customer, "customer-retried-once")

    console.resolve()
    assert page_errors.entries == []



def test_any_site_embeds_the_widget_with_one_script_tag(
    customer: Page, other_site: str, page_errors: PageErrors, shots: Screenshots
) -> None:
    """A page on another origin loads widget.js from the gateway and talks to it (CORS)."""
    widget = Widget(customer).visit(other_site)
    widget.open()
    expect(customer.locator(".title")).to_have_text("Shop help")
    asked = widget.send("how do I check in online")
    widget.wait_for_reply(asked, "bot")
    shots(customer, "other-site-widget")
    assert page_errors.entries == []


@pytest.fixture
def other_site(base_url: str) -> Iterator[str]:
    """Another web site (another origin on loopback) whose page embeds the widget."""
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop</title>"
        '<link rel="icon" href="data:,"></head><body><h1>Another site</h1>'
        f'<script src="{base_url}/widget.js" data-title="Shop help" data-color="#0f766e">'
        "</script></body></html>"
    ).encode()

    with served_pages({"/": page}) as site:
        yield site + "/"


def test_the_widget_script_is_small() -> None:
    source = (ROOT / "handoff" / "static" / "widget.js").read_bytes()
    assert len(gzip.compress(source, 9)) <= 30 * 1024
