"""The console's queue follows the live context (issue #15, point 11, with History's and
the header's names): what the bot reads in a waiting customer's later message, their
name and booking, shows on the queue item at once, for every agent who has not opened
it yet. Runs against the real system; see conftest.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget

pytestmark = pytest.mark.e2e


def test_a_waiting_queue_item_shows_the_name_and_booking_given_later(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    # The console's clock stands still, so its 15-second redraw of the queue cannot be
    # what brings the update: only the context event can.
    agent.clock.install()
    maya = Console(agent).login(agent_login.email, agent_login.password)
    agent.clock.pause_at(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))
    widget = Widget(customer).visit("/").open()
    item = maya.queue_item(widget.hand_off())
    expect(item).to_be_visible()
    expect(item.locator(".qi-name")).to_have_count(0)
    expect(item.locator(".qi-booking")).to_have_count(0)

    widget.send("My name is Anna Schmidt and my booking reference is QX7K2P")
    expect(item.locator(".qi-name")).to_have_text("Anna Schmidt", timeout=20_000)
    expect(item.locator(".qi-booking")).to_have_text("Booking QX7K2P")
    shots(agent, "queue-item-updated-live")
    maya.open(widget.conversation_id())
    expect(agent.locator("#conv-title")).to_have_text("Anna Schmidt")
    maya.claim()
    maya.resolve()
    assert page_errors.entries == []
