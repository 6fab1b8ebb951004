"""Page objects: what a customer does in the widget and an agent in the console.

Playwright's CSS locators pierce the widget's open shadow root, so `.msg` etc. reach
inside it; JavaScript helpers go through `shadowRoot` explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Locator, Page, expect

from ..conftest import E2E_OPS_SECRET

BOT_TURN_MS = 30_000  # a bot turn goes through Rasa; the first one can be slow

_TRANSCRIPT_JS = """
() => {
  const root = document.querySelector('[data-baton-widget]').shadowRoot;
  return [...root.querySelectorAll('.log > [data-seq]')].map(n => ({
    seq: Number(n.dataset.seq),
    sender: n.classList.contains('note') ? 'system'
      : [...n.classList].find(c => c.startsWith('from-')).slice(5),
    text: n.querySelector('.bubble').textContent,
  }));
}
"""


@contextmanager
def served_pages(pages: dict[str, bytes]) -> Iterator[str]:
    """Another web site on loopback (another origin than Baton's) serving these HTML pages
    by path; yields its base URL, without a trailing slash."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            page = pages[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def post_to_ops_feed(base_url: str, news: dict[str, Any]) -> int:
    """What the airline's operations systems do: post a disruption, signed with the
    stack's BATON_OPS_SECRET; returns the answer's status (201 new, 200 replaced)."""
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
        return int(response.status)


def wait_until(page: Page, predicate: Callable[[], bool], what: str, timeout_ms: int = 10_000) -> None:
    """Polls a Python-side condition (e.g. one fed by a Playwright route handler)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


@dataclass(frozen=True)
class Line:
    seq: int
    sender: str
    text: str


class Widget:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name=re.compile(r"^(Open|Close) chat"))
        self.panel = page.locator(".panel")
        self.input = page.get_by_role("textbox", name="Message")
        self.banner = page.locator(".banner")
        self.notes = page.locator(".note")

    def visit(self, path: str = "/") -> "Widget":
        self.page.goto(path)
        expect(self.launcher).to_be_visible()
        return self

    def open(self) -> "Widget":
        if self.panel.is_hidden():
            self.launcher.click()
        expect(self.panel).to_be_visible()
        return self

    def send(self, text: str) -> int:
        """Sends text and returns the seq the gateway gave the customer's message."""
        before = self.last_seq()
        self.input.fill(text)
        self.input.press("Enter")
        return self._confirmed(text, before)

    def choose_quick_reply(self, chip: Locator) -> tuple[str, int]:
        """Clicks a quick-reply button; returns its title and the seq of what it sent."""
        before = self.last_seq()
        title = chip.inner_text()
        chip.click()
        return title, self._confirmed(title, before)

    def _confirmed(self, text: str, before: int) -> int:
        handle = self.page.wait_for_function(
            """([after, text]) => {
                const root = document.querySelector('[data-baton-widget]').shadowRoot;
                const mine = [...root.querySelectorAll('.msg.from-customer[data-seq]')].find(
                  n => Number(n.dataset.seq) > after && n.querySelector('.bubble').textContent === text);
                return mine ? Number(mine.dataset.seq) : 0;
            }""",
            arg=[before, text],
        )
        return int(handle.json_value())

    def transcript(self) -> list[Line]:
        return [Line(**item) for item in self.page.evaluate(_TRANSCRIPT_JS)]

    def last_seq(self) -> int:
        lines = self.transcript()
        return max((line.seq for line in lines), default=0)

    def replies_after(self, seq: int, sender: str) -> list[Line]:
        return [line for line in self.transcript() if line.seq > seq and line.sender == sender]

    def wait_for_reply(self, after_seq: int, sender: str, timeout: float = BOT_TURN_MS) -> Line:
        self.page.wait_for_function(
            """([after, sender]) => {
                const root = document.querySelector('[data-baton-widget]').shadowRoot;
                const selector = sender === 'system' ? '.note[data-seq]' : '.msg.from-' + sender + '[data-seq]';
            return [...root.querySelectorAll(selector)]
                  .some(n => Number(n.dataset.seq) > after);
            }""",
            arg=[after_seq, sender],
            timeout=timeout,
        )
        return self.replies_after(after_seq, sender)[0]

    def hand_off(self, text: str = "can I talk to a real person") -> str:
        """Asks for a person and waits for the bot's answer; returns the conversation's id."""
        self.wait_for_reply(self.send(text), "bot")
        return self.conversation_id()

    def status(self) -> str | None:
        return self.panel.get_attribute("data-status")

    def conversation_id(self) -> str:
        stored = self.page.evaluate(
            """() => Object.keys(localStorage)
                 .filter(k => k.startsWith('baton:conversation:'))
                 .map(k => JSON.parse(localStorage.getItem(k)).id)"""
        )
        assert len(stored) == 1, f"expected one stored conversation, found {stored}"
        return str(stored[0])


class Console:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.transcript = page.locator("#transcript")
        self.reply_box = page.get_by_label("Reply to the customer")
        self.claim_button = page.get_by_role("button", name="Claim")
        self.resolve_button = page.get_by_role("button", name="Resolve")
        self.context = page.locator("#context")

    def login(self, email: str, password: str) -> "Console":
        self.page.goto("/agent")
        self.page.get_by_label("Email", exact=True).fill(email)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#live-state")).to_have_attribute("data-state", "live")
        return self

    def agent_name(self) -> str:
        name = self.page.locator("#agent-name")
        expect(name).not_to_be_empty()
        return name.inner_text().strip()

    def queue_item(self, conversation_id: str) -> Locator:
        return self.page.locator(f'.queue-item[data-id="{conversation_id}"]')

    def open(self, conversation_id: str) -> "Console":
        self.queue_item(conversation_id).click()
        expect(self.page.locator("#conv-view")).to_be_visible()
        expect(self.transcript.locator("li").first).to_be_visible()
        return self

    def message(self, sender: str, text: str) -> Locator:
        return self.transcript.locator(f".tm-{sender}").filter(has_text=text)

    def claim(self) -> None:
        self.claim_button.click()
        expect(self.page.locator("#conv-view")).to_have_attribute("data-status", "agent")
        # The claim is finished when the console has put the cursor in the reply box; a test
        # that moves focus before that would have it taken away.
        self.page.wait_for_function("() => document.activeElement && document.activeElement.id === 'reply-input'")

    def take(self, conversation_id: str) -> "Console":
        """Opens a waiting conversation from the queue and claims it."""
        self.open(conversation_id)
        self.claim()
        return self

    def reply(self, text: str) -> None:
        self.reply_box.fill(text)
        self.reply_box.press("Enter")
        expect(self.message("agent", text)).to_be_visible()

    def api_get(self, path: str) -> dict[str, Any]:
        """Reads the agent API with the console's own session."""
        token = self.page.evaluate("sessionStorage.getItem('baton.agent.token')")
        response = self.page.request.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.ok, response.status
        return response.json()  # type: ignore[no-any-return]

    def resolve(self) -> None:
        self.resolve_button.click()
        expect(self.page.locator("#conv-view")).to_have_attribute("data-status", "bot")

    # ---- the agent's tools -------------------------------------------------------------
    def tab(self, name: str) -> Locator:
        """Shows one of the context panel's tabs (Details, Actions, Notes); returns its panel."""
        tab = self.page.get_by_role("tab", name=re.compile(rf"^{name}\b"))
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
        return self.page.locator(f"#{tab.get_attribute('aria-controls')}")

    def add_note(self, text: str) -> Locator:
        panel = self.tab("Notes")
        panel.get_by_label("Add a private note").fill(text)
        panel.get_by_role("button", name="Add note").click()
        note = panel.locator(".note-item").filter(has_text=text)
        expect(note).to_be_visible()
        return note

    def choose_action(self, label: str, amount: str | None = None) -> Locator:
        """Picks an action in "Take care of it" (and types its amount); returns the form."""
        panel = self.tab("Actions")
        form = panel.locator("#act-form")
        form.locator(".act-option").filter(has_text=label).click()
        if amount is not None:
            form.get_by_label("Amount").fill(amount)
        return form

    def resolution(self, label: str) -> Locator:
        return self.page.locator("#res-list .res-item").filter(has_text=label)

    def view(self, name: str) -> None:
        tab = self.page.locator(".view-tab").filter(has_text=name)
        tab.click()
        expect(tab).to_have_attribute("aria-pressed", "true")
