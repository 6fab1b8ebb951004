"""A busy bot in a real browser: the widget shows it typing, then offers a person.

Rasa is stopped (SIGSTOP), not killed: it still accepts connections, so the gateway sees
a bot that is slow, not one that is down, as a bot behind a surge is.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from ..conftest import RunningBaton
from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, wait_until

pytestmark = pytest.mark.e2e

# The widget's PERSON_OFFER_MS, and some room for the page to react.
PERSON_OFFER_MS = 5_000
QUIET_MS = 2_500  # how long Rasa's late answer gets to (wrongly) appear


@contextmanager
def _paused_rasa(baton: RunningBaton) -> Iterator[None]:
    """Every Rasa process stopped inside the block, then running and ready again for the
    next tests."""
    pids = [baton.stack.processes[name].pid for name in baton.stack.rasa_names]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        _wait_until_rasa_answers(baton.base_url)


def _wait_until_rasa_answers(base_url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=5) as answer:
                if json.load(answer)["checks"]["rasa"]:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"Rasa was not ready within {seconds:g} s of SIGCONT")
        time.sleep(0.2)


def test_a_busy_bot_is_shown_typing_and_a_person_is_offered(
    baton: RunningBaton,
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    console = Console(agent).login(agent_login.email, agent_login.password)
    widget = Widget(customer).visit("/").open()
    widget.wait_for_reply(widget.send("hello"), "bot")  # the conversation exists, live
    typing = customer.locator(".typing")
    offer = customer.get_by_role("button", name="Talk to a person")
    expect(typing).to_be_hidden()

    with _paused_rasa(baton):
        asked_at = time.monotonic()
        asked = widget.send("how do I check in online")
        expect(typing).to_be_visible()
        expect(typing).to_contain_text("Assistant is typing")
        expect(offer).to_be_hidden()
        shots(customer, "customer-bot-busy")
        expect(offer).to_be_visible(timeout=PERSON_OFFER_MS + 5_000)
        offered_after = time.monotonic() - asked_at
        shots(customer, "customer-person-offered")
        offer.click()

        wait_until(customer, lambda: widget.status() == "waiting", "the handoff")
        expect(offer).to_be_hidden()
        conversation_id = widget.conversation_id()
        item = console.queue_item(conversation_id)
        expect(item.locator("[data-reason]")).to_have_attribute("data-reason", "requested")
        # The customer's words are there; the bot said nothing after its question.
        assert [(line.sender, line.text) for line in widget.transcript() if line.seq >= asked][
            :2
        ] == [("customer", "how do I check in online"), ("customer", "Talk to a person")]

    assert PERSON_OFFER_MS / 1000 - 0.5 <= offered_after < PERSON_OFFER_MS / 1000 + 5
    # Rasa runs again; the turn it was given was dropped with the handoff, unanswered.
    customer.wait_for_timeout(QUIET_MS)
    assert widget.replies_after(asked, "bot") == []
    assert page_errors.entries == []
