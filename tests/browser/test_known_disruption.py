"""A disruption the airline's operations feed posts (issue 19, point 6): three verified
customers of the flight open the widget and read of it before they type, and ask for a
person; the agent sees the group in the queue and what operations said in the context
panel, and rebooks all three at once; each widget shows the rebooking. Then a second
flight's three customers: a voucher for all of them is above the agent's authority in
sum, so it goes to a supervisor as one request, approved with one click. Runs against the
real system; see conftest.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..conftest import E2E_IDENTITY_SECRET
from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, post_to_ops_feed, served_pages

pytestmark = pytest.mark.e2e

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAY = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
# Each run its own, so that a stack kept between runs holds no earlier group; the
# second flight's (SECOND) apart from the first's, its customers in a group of their own.
RUN = secrets.token_hex(2).upper()
SECOND = f"{(int(RUN, 16) + 1) % 0x10000:04X}"


def bookings(run: str) -> list[str]:
    return [f"K{run}{n}" for n in range(1, 4)]


def flight(run: str) -> str:
    return f"BA{int(run, 16) % 9000 + 100}"


BOOKINGS = bookings(RUN)
FLIGHT = flight(RUN)


def post_disruption(base_url: str, run: str = RUN) -> str:
    news = {"id": f"ops-e2e-{run}", "flight_number": flight(run), "date": DAY.isoformat(),
            "type": "cancelled", "details": "Crew shortage", "bookings": bookings(run)}
    assert post_to_ops_feed(base_url, news) == 201
    return str(news["id"])


@pytest.fixture
def signing_site(base_url: str) -> Iterator[str]:
    """A shop whose server signs each signed-in customer's identity: /1, /2, /3 for the
    first flight's customers, /2-1, /2-2, /2-3 for the second's."""

    def page_for(number: int, run: str = RUN) -> bytes:
        identity = {"customer_id": f"cust-{run}-{number}", "name": f"Traveller {number}",
                    "bookings": [bookings(run)[number - 1]]}
        canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        signature = hmac.new(E2E_IDENTITY_SECRET.encode(), canonical.encode(),
                             hashlib.sha256).hexdigest()
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop</title>"
            '<link rel="icon" href="data:,"></head><body><h1>Your trips</h1>'
            f'<script src="{base_url}/widget.js" data-title="Shop help"'
            f' data-identity="{html.escape(canonical, quote=True)}"'
            f' data-identity-signature="{signature}"></script></body></html>'
        ).encode()

    pages = {f"/{n}": page_for(n) for n in (1, 2, 3)}
    pages.update({f"/2-{n}": page_for(n, SECOND) for n in (1, 2, 3)})

    with served_pages(pages) as site:
        yield site


@pytest.fixture
def travellers(browser: Browser, base_url: str, page_errors: PageErrors) -> Iterator[list[Page]]:
    """Three customers, each in a browser context of their own."""
    contexts = [browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
                for _ in range(3)]
    for context in contexts:
        context.set_default_timeout(15_000)
    yield [page_errors.watch(context.new_page()) for context in contexts]
    for context in contexts:
        context.close()


def test_a_known_disruption_is_told_claimed_with_its_context_and_resolved_for_all(
    travellers: list[Page],
    agent: Page,
    agent_login: AgentLogin,
    base_url: str,
    signing_site: str,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    disruption_id = post_disruption(base_url)
    console = Console(agent).login(agent_login.email, agent_login.password)
    offer = (f"I can see flight {FLIGHT} on {DAY.day} {MONTHS[DAY.month - 1]} was "
             "cancelled. Crew shortage. I'm sorry")

    widgets = []
    for number, page in enumerate(travellers, start=1):
        widget = Widget(page).visit(f"{signing_site}/{number}").open()
        told = page.locator(".msg.from-bot .bubble").filter(has_text=offer)
        expect(told).to_be_visible()  # before they typed anything
        if number == 1:
            shots(page, "widget-told-of-the-disruption")
        chip = page.locator(".quick .chip").filter(has_text="Talk to a person now")
        widget.choose_quick_reply(chip)
        expect(widget.panel).to_have_attribute("data-status", "waiting")
        widgets.append(widget)

    group = agent.locator(f'.queue-group[data-disruption="{disruption_id}"]')
    expect(group.locator(".qg-title")).to_have_text(
        f"{FLIGHT} · {DAY.day} {MONTHS[DAY.month - 1][:3]} · Cancelled flight · 3 waiting"
    )
    shots(agent, "console-queue-group")

    first = widgets[0].conversation_id()
    console.take(first)
    expect(agent.locator("#ctx-known")).to_have_text(
        f"Flight {FLIGHT} · {DAY.isoformat()} · Cancelled flight · Crew shortage"
    )
    expect(agent.locator("#ctx-reason")).to_have_text("Travel disruption")
    expect(agent.locator("#ctx-booking")).to_have_text(BOOKINGS[0])
    shots(agent, "console-claimed-with-known-disruption")

    expect(group.locator(".qg-title")).to_have_text(
        f"{FLIGHT} · {DAY.day} {MONTHS[DAY.month - 1][:3]} · Cancelled flight · 2 waiting"
    )
    group.get_by_role("button", name="Act for all 2").click()
    group.get_by_label("Action for all").select_option(label="Rebook on the next flight")
    group.get_by_label("New flight number").fill("BA119")
    group.get_by_label("Departure (local time)").fill(f"{DAY.isoformat()}T18:40")
    group.get_by_role("button", name="Apply to all 2").click()

    told_as = f"{DAY.day} {MONTHS[DAY.month - 1]} at 18:40"
    for number, widget in enumerate(widgets, start=1):
        rebooked = widget.page.locator(".msg.from-agent .bubble").filter(
            has_text=f"I've rebooked you on BA119, departing {told_as}, at no cost."
        )
        expect(rebooked).to_be_visible()
        if number == 3:
            shots(widget.page, "widget-rebooked")
    shots(agent, "console-after-acting-for-all")
    assert page_errors.entries == []


def test_a_voucher_for_all_above_the_agents_authority_is_approved_as_one(
    travellers: list[Page],
    agent: Page,
    supervisor: Page,
    agent_login: AgentLogin,
    supervisor_login: AgentLogin,
    base_url: str,
    signing_site: str,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    disruption_id = post_disruption(base_url, SECOND)
    Console(agent).login(agent_login.email, agent_login.password)
    sam = Console(supervisor).login(supervisor_login.email, supervisor_login.password)
    widgets = []
    for number, page in enumerate(travellers, start=1):
        widget = Widget(page).visit(f"{signing_site}/2-{number}").open()
        chip = page.locator(".quick .chip").filter(has_text="Talk to a person now")
        widget.choose_quick_reply(chip)
        expect(widget.panel).to_have_attribute("data-status", "waiting")
        widgets.append(widget)

    group = agent.locator(f'.queue-group[data-disruption="{disruption_id}"]')
    group.get_by_role("button", name="Act for all 3").click()
    group.get_by_label("Action for all").select_option(label="Issue a travel voucher")
    expect(group.locator(".qg-hint")).to_have_text(
        "Up to 200 EUR for all of them together at once; above that it goes to a "
        "supervisor as one request."
    )
    group.get_by_label("Amount each (EUR)").fill("70")
    group.get_by_role("button", name="Apply to all 3").click()

    expect(agent.locator(".toast").filter(has_text="sent to a supervisor")).to_have_text(
        "Issue a travel voucher for 3 customers: sent to a supervisor as one request (3 × "
        "70 EUR is 210 EUR, above your authority of 200 EUR at once). Each customer was "
        "told it's being approved."
    )
    for widget in widgets:
        expect(widget.page.locator(".msg.from-agent .bubble").filter(
            has_text="I've asked a supervisor to approve a travel voucher of 70 EUR for you."
        )).to_be_visible()

    # three requests, one decision: the badge counts the card
    expect(supervisor.locator("#approvals-count")).to_have_text("1")
    expect(supervisor.locator("#view-approvals")).to_have_attribute("aria-label", "Approvals, 1 waiting")
    sam.view("Approvals")
    card = supervisor.locator(".approval-batch")
    expect(card).to_have_count(1)
    expect(card.locator(".approval-title")).to_have_text("Issue a travel voucher for 3 customers")
    expect(card.locator(".approval-amount")).to_have_text("210 EUR in all")
    expect(card.locator(".approval-batch-list li")).to_have_count(3)
    expect(card).to_contain_text(
        f"one request for the customers of {flight(SECOND)} · {DAY.day} "
        f"{MONTHS[DAY.month - 1][:3]} · Cancelled flight"
    )
    shots(supervisor, "supervisor-batch-approval")
    card.get_by_label("Reason").fill("Goodwill for the cancellation")
    card.get_by_role("button", name="Approve all 3").click()

    expect(supervisor.locator(".approval-batch")).to_have_count(0)
    for widget in widgets:
        expect(widget.page.locator(".msg.from-agent .bubble").filter(
            has_text="I've issued a travel voucher of 70 EUR for you."
        )).to_be_visible()
    shots(widgets[0].page, "widget-voucher-approved")
    assert page_errors.entries == []
