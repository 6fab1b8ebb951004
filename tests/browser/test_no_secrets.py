"""Issue 15, point 1: after a customer and an agent use the real pages, no conversation
token and no session token is in any URL the pages asked for, nor in any file the running
system wrote (logs, databases, Rasa's trackers)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocket, expect

from .conftest import ROOT, AgentLogin, PageErrors, Screenshots
from .pages import Console, Widget, wait_until

pytestmark = pytest.mark.e2e


def files_holding(directories: list[Path], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(file, which secret) for every file under these directories that holds one."""
    found = []
    for directory in directories:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            data = path.read_bytes()
            found += [(str(path), name) for name, value in secrets.items() if value.encode() in data]
    return found


def test_no_token_in_any_url_or_file_of_the_running_system(
    customer: Page,
    agent: Page,
    agent_login: AgentLogin,
    page_errors: PageErrors,
    shots: Screenshots,
    request: pytest.FixtureRequest,
) -> None:
    if os.environ.get("BATON_BASE_URL", "").strip():
        pytest.skip("reads the files of the test session's own Baton, not an external one")
    var_dir: Path = request.getfixturevalue("baton").stack.var_dir
    urls: list[str] = []
    for page in (customer, agent):
        page.on("request", lambda r: urls.append(r.url))
        page.on("websocket", lambda ws: urls.append(ws.url))
    # Each page's latest socket and whether the gateway has spoken on it (it does only
    # once the first frame's token is accepted).
    spoken: dict[str, bool] = {}

    def track(name: str, ws: WebSocket) -> None:
        spoken[name] = False
        ws.on("framereceived", lambda _payload: spoken.__setitem__(name, True))

    customer.on("websocket", lambda ws: track("customer", ws))
    agent.on("websocket", lambda ws: track("agent", ws))
    # Messages posted over HTTP: the widget's and the console's fallback when a socket is
    # not open, so none after a reconnect means both sockets authenticated again.
    posted: list[str] = []
    for page in (customer, agent):
        page.on("request", lambda r: posted.append(r.url) if r.method == "POST"
                and r.url.endswith("/messages") else None)

    console = Console(agent).login(agent_login.email, agent_login.password)
    session_token = agent.evaluate("sessionStorage.getItem('baton.agent.token')")

    widget = Widget(customer).visit("/").open()
    asked = widget.send("how do I check in online")
    widget.wait_for_reply(asked, "bot")
    conversation_id = widget.hand_off()
    [conversation_token] = customer.evaluate(
        """() => Object.keys(localStorage)
             .filter(k => k.startsWith('baton:conversation:'))
             .map(k => JSON.parse(localStorage.getItem(k)).token)"""
    )
    assert isinstance(session_token, str) and isinstance(conversation_token, str)

    console.take(conversation_id)
    both_spoke = lambda: spoken == {"customer": True, "agent": True}  # noqa: E731
    wait_until(customer, both_spoke, "both sockets to authenticate")
    before_reply = len(posted)
    console.reply("Hi, I'm here to help")
    expect(customer.locator(".msg.from-agent").filter(has_text="I'm here to help")).to_be_visible()
    widget.send("Thanks, my booking is ABC123")
    expect(console.message("customer", "Thanks, my booking is ABC123")).to_be_visible()
    assert posted[before_reply:] == []
    shots(agent, "agent-replied")

    # Both reconnect after a reload and resume: the sockets authenticate again.
    spoken.clear()
    customer.reload()
    widget.open()
    agent.reload()
    expect(agent.locator("#live-state")).to_have_attribute("data-state", "live")
    console.open(conversation_id)
    wait_until(customer, both_spoke, "both sockets to authenticate again")
    before_reconnect = len(posted)
    widget.send("Still there?")
    expect(console.message("customer", "Still there?")).to_be_visible()
    console.reply("Yes, all done")
    expect(customer.locator(".msg.from-agent").filter(has_text="Yes, all done")).to_be_visible()
    assert posted[before_reconnect:] == []
    console.resolve()
    shots(customer, "customer-after-resolve")

    # A client that still puts the session token in a URL gets nowhere and leaves no trace.
    old_form = agent.request.get(f"/api/agent/ws?token={session_token}")
    assert old_form.status == 400

    secrets = {"conversation token": conversation_token, "session token": session_token}
    written = files_holding([var_dir, ROOT / "var" / "rasa"], secrets)
    assert (var_dir / "logs" / "gateway.log").stat().st_size > 0
    assert written == []
    assert [url for url in urls if conversation_token in url or session_token in url] == []
    assert page_errors.entries == []
