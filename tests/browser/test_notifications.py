"""The console's opt-in sound and desktop notifications, in a real browser.

The page's own Notification and WebAudio are wrapped by an init script that records what
the console makes (it observes; the browser still shows and plays them).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, wait_until

pytestmark = pytest.mark.e2e

QUIET_MS = 2_500

RECORDER = """
(() => {
  window.__notifications = [];
  window.__permissionRequests = 0;
  window.__beeps = 0;
  const Real = window.Notification;
  if (Real) {
    class Recorded extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notifications.push({ title, body: (options || {}).body, tag: (options || {}).tag });
      }
    }
    Recorded.requestPermission = function () {
      window.__permissionRequests += 1;
      return Real.requestPermission.apply(Real, arguments);
    };
    window.Notification = Recorded;
  }
  const Audio = window.AudioContext;
  if (Audio) {
    const make = Audio.prototype.createOscillator;
    Audio.prototype.createOscillator = function () {
      window.__beeps += 1;
      return make.apply(this, arguments);
    };
  }
})();
"""


def _notifications(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__notifications")  # type: ignore[no-any-return]


def test_an_agent_who_turns_notifications_on_hears_and_sees_new_handoffs_and_messages(
    customer: Page,
    phone: Page,
    agent: Page,
    agent_login: AgentLogin,
    base_url: str,
    page_errors: PageErrors,
    shots: Screenshots,
) -> None:
    agent.context.add_init_script(RECORDER)
    console = Console(agent).login(agent_login.email, agent_login.password)
    toggle = agent.get_by_role("button", name="Notifications off")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    shots(agent, "notifications-off")

    # Off by default: a handoff makes no notification, and nobody asked for permission.
    first = Widget(customer).visit("/").open()
    first_id = first.hand_off()
    expect(console.queue_item(first_id)).to_be_visible()
    assert agent.evaluate("[window.__permissionRequests, window.__beeps]") == [0, 0]
    assert _notifications(agent) == []

    # Turned on: the permission is asked for then, and the choice is remembered.
    toggle.click()
    expect(agent.get_by_role("button", name="Notifications on")).to_have_attribute(
        "aria-pressed", "true"
    )
    wait_until(agent, lambda: agent.evaluate("window.__permissionRequests") == 1,
               "the permission request")
    assert agent.evaluate("localStorage.getItem('baton.agent.notify')") == "on"
    # The agent allows it in the browser's prompt (Playwright answers for them).
    agent.context.grant_permissions(["notifications"], origin=base_url)
    agent.reload()
    expect(agent.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(agent.get_by_role("button", name="Notifications on")).to_be_visible()
    assert agent.evaluate("window.__permissionRequests") == 0  # not asked again on load
    agent.get_by_role("button", name="Notifications on").focus()  # a gesture wakes the audio
    agent.keyboard.press("Shift")
    shots(agent, "notifications-on")

    # The agent takes the first conversation and keeps it on screen: its messages need
    # no notification while the tab has focus.
    console.take(first_id)
    first.send("are you there?")
    expect(console.message("customer", "are you there?")).to_be_visible()
    agent.wait_for_timeout(QUIET_MS)
    assert _notifications(agent) == []

    # A new handoff: a notification with its summary, and the chime.
    second = Widget(phone).visit("/").open()
    second_id = second.hand_off("I want to speak to a human agent")
    wait_until(agent, lambda: len(_notifications(agent)) == 1, "the handoff's notification")
    summary = console.api_get(f"/api/agent/conversations/{second_id}")["handoff"]["context"]["summary"]
    assert _notifications(agent) == [
        {"title": "New conversation in the queue", "body": summary, "tag": f"baton-{second_id}"}
    ]
    assert agent.evaluate("window.__beeps") == 2  # two tones

    # Looking at the second one, the agent hears of a message in the one they hold.
    console.open(second_id)
    first.send("my booking is QX7K2P")
    wait_until(agent, lambda: len(_notifications(agent)) == 2, "the message's notification")
    assert _notifications(agent)[1] == {
        "title": "New message from your customer", "body": "my booking is QX7K2P",
        "tag": f"baton-{first_id}",
    }
    assert agent.evaluate("window.__beeps") == 4
    shots(agent, "notified-of-a-message")

    # Turned off again: nothing more.
    agent.get_by_role("button", name="Notifications on").click()
    expect(agent.get_by_role("button", name="Notifications off")).to_be_visible()
    first.send("hello?")
    console.open(first_id)
    expect(console.message("customer", "hello?")).to_be_visible()
    console.open(second_id)
    first.send("still there?")
    agent.wait_for_timeout(QUIET_MS)
    assert len(_notifications(agent)) == 2

    console.open(first_id)
    console.resolve()
    console.take(second_id)
    console.resolve()
    assert page_errors.entries == []
