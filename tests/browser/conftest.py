"""Fixtures for the browser tests: Debian's chromium driven by Playwright (sync API).

The tests run against a running Baton (gateway + Rasa + action server). Until the
end-to-end fixture that starts those processes is wired in here, the address and an
agent's credentials come from the environment; a missing variable fails the test
loudly rather than skipping it:

    BATON_BASE_URL=http://127.0.0.1:8000 BATON_AGENT_EMAIL=... BATON_AGENT_PASSWORD=... \
        .venv/gateway/bin/pytest tests/browser
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("BATON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set: the browser tests need a running Baton "
            "(BATON_BASE_URL, BATON_AGENT_EMAIL, BATON_AGENT_PASSWORD)",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def base_url() -> str:
    return _required_env("BATON_BASE_URL").rstrip("/")


@dataclass(frozen=True)
class AgentLogin:
    email: str
    password: str


@pytest.fixture(scope="session")
def agent_login() -> AgentLogin:
    return AgentLogin(_required_env("BATON_AGENT_EMAIL"), _required_env("BATON_AGENT_PASSWORD"))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        subprocess.run([str(ROOT / "scripts" / "install_chromium.sh")], check=True, timeout=600)
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class PageErrors:
    """Console errors and uncaught exceptions seen on a page; tests assert it stays empty."""

    entries: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.entries.append(f"{page.url}: uncaught {exc}"))
        return page

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if any(p.search(message.text) for p in self.allowed):
            return
        self.entries.append(f"{message.location.get('url', '')}: {message.text}")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


def _new_context(browser: Browser, base_url: str, **options: object) -> BrowserContext:
    context = browser.new_context(base_url=base_url, **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def customer(browser: Browser, base_url: str, page_errors: PageErrors) -> Iterator[Page]:
    """A customer on the demo page, in a desktop-sized window of their own."""
    context = _new_context(browser, base_url, viewport={"width": 1280, "height": 800})
    yield page_errors.watch(context.new_page())
    context.close()


@pytest.fixture
def agent(browser: Browser, base_url: str, page_errors: PageErrors) -> Iterator[Page]:
    """An agent in the console, in a separate browser context (own cookies and storage)."""
    context = _new_context(browser, base_url, viewport={"width": 1440, "height": 900})
    yield page_errors.watch(context.new_page())
    context.close()


class Screenshots:
    """Saves numbered screenshots of a test's steps under artifacts/screenshots/<test>/."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.png"):
            old.unlink()

    def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.directory / f"{self.count:02d}-{name}.png"))


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(SCREENSHOTS / request.node.name)
