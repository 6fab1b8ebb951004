"""The supervisors' Disruptions tab (issue 19, point 1): the operations feed posts a
delayed flight and the supervisor reads it in plain words, with its bookings; a second
post under the same id cancels it, and the row changes while they look, without a
reload. Agents have no such tab. Runs against the real system; see conftest.py."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from playwright.sync_api import Page, expect

from .axe import assert_no_violations
from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, post_to_ops_feed

pytestmark = pytest.mark.e2e

TODAY = dt.datetime.now(dt.UTC).date()
DAY = TODAY + dt.timedelta(days=1)
# Each run its own, so that a stack kept between runs holds no earlier row of it.
RUN = secrets.token_hex(2).upper()
FLIGHT = f"LH{int(RUN, 16) % 9000 + 100}"
NEWS = {"id": f"ops-view-{RUN}", "flight_number": FLIGHT, "date": DAY.isoformat(),
        "type": "delayed", "details": "Departure now 14:20",
        "bookings": [f"V{RUN}{n}" for n in range(1, 4)]}
# As the console's labels.day writes it: "Tue 8 Dec", the year only when not this one.
SHOWN_DAY = f"{DAY:%a} {DAY.day} {DAY:%b}" + (f" {DAY.year}" if DAY.year != TODAY.year else "")


def test_a_supervisor_watches_a_disruption_change_from_delayed_to_cancelled(
    agent: Page, supervisor: Page, agent_login: AgentLogin, supervisor_login: AgentLogin,
    base_url: str, page_errors: PageErrors, shots: Screenshots,
) -> None:
    assert post_to_ops_feed(base_url, NEWS) == 201

    Console(agent).login(agent_login.email, agent_login.password)
    expect(agent.locator("#view-history")).to_be_visible()
    expect(agent.locator("#view-disruptions")).to_be_hidden()

    Console(supervisor).login(supervisor_login.email, supervisor_login.password).view(
        "Disruptions")
    view = supervisor.locator("#disruptions-view")
    row = view.locator(f'tr[data-disruption-id="{NEWS["id"]}"]')
    # Locators are read afresh at each expect: the same ones see the row after the update.
    cells = [row.locator(cell) for cell in (".dis-flight", ".dis-date", ".dis-type",
                                            ".dis-details", ".dis-bookings", ".dis-told",
                                            ".dis-waiting")]

    for cell, text in zip(cells, [FLIGHT, SHOWN_DAY, "Delayed flight", "Departure now 14:20",
                                    "3", "0", "0"]):
        expect(cell).to_have_text(text)
    expect(view.locator("th")).to_have_text(["Flight", "Date", "What happened", "Details",
                                             "Bookings", "Customers told", "Waiting",
                                             "Last updated"])
    expect(row.locator(".dis-updated")).not_to_be_empty()
    shots(supervisor, "delayed")
    assert_no_violations(supervisor, "the Disruptions tab with a delayed flight")

    supervisor.evaluate("window.notReloaded = true")
    assert post_to_ops_feed(base_url, {**NEWS, "type": "cancelled", "details": "Crew shortage",
                                       "bookings": NEWS["bookings"][:2]}) == 200

    for cell, text in zip(cells, [FLIGHT, SHOWN_DAY, "Cancelled flight", "Crew shortage",
                                    "2", "0", "0"]):
        expect(cell).to_have_text(text)
    # The latest news first, and the same page: no reload brought it.
    expect(view.locator("tbody tr").first).to_have_attribute("data-disruption-id", NEWS["id"])
    assert supervisor.evaluate("window.notReloaded") is True
    shots(supervisor, "cancelled")
    assert page_errors.entries == []
