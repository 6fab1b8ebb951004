"""A disruption the airline's operations feed posts (issue 19, point 6): three verified
customers of the flight open the widget and read of it before they type, and ask for a
person; the agent sees the group in the queue and what operations said in the context
panel, and rebooks all three at once; each widget shows the rebooking. Runs against the
real system; see conftest.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import secrets
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..conftest import E2E_IDENTITY_SECRET, E2E_OPS_SECRET
from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, served_pages

pytestmark = pytest.mark.e2e

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAY = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
# Each run its own, so that a stack kept between runs holds no earlier group.
RUN = secrets.token_hex(2).upper()
BOOKINGS = [f"K{RUN}{n}" for n in range(1, 4)]
FLIGHT = f"BA{int(RUN, 16) % 9000 + 100}"


def post_disruption(base_url: str) -> str:
    news = {"id": f"ops-e2e-{RUN}", "flight_number": FLIGHT, "date": DAY.isoformat(),
            "type": "cancelled", "details": "Crew shortage", "bookings": BOOKINGS}
    body = json.dumps(news).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(E2E_OPS_SECRET.encode(), stamp.encode() + b"." + body,
                      hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{base_url}/api/ops/disruptions", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Baton-Timestamp": stamp,
                 "X-Baton-Signature": f"sha256={digest}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    return str(news["id"])


@pytest.fixture
def signing_site(base_url: str) -> Iterator[str]:
    """A shop whose server signs each signed-in customer's identity: /1, /2, /3."""

    def page_for(number: int) -> bytes:
        identity = {"customer_id": f"cust-{RUN}-{number}", "name": f"Traveller {number}",
                    "bookings": [BOOKINGS[number - 1]]}
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
