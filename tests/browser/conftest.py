"""Fixtures for the browser tests: Debian's chromium driven by Playwright (sync API).

The tests run against the real system (gateway, Rasa, action server): by default the
session's `baton` fixture (tests/conftest.py) starts it on free ports. To point them at
a Baton that is already running instead, set all three of

    BATON_BASE_URL=http://127.0.0.1:8000 BATON_AGENT_EMAIL=... BATON_AGENT_PASSWORD=...

Setting only some of them fails loudly rather than falling back or skipping.
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


EXTERNAL_ENV = ("BATON_BASE_URL", "BATON_AGENT_EMAIL", "BATON_AGENT_PASSWORD")


@dataclass(frozen=True)
class Target:
    base_url: str
    agent_email: str
    agent_password: str


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    given = {name: os.environ.get(name, "").strip() for name in EXTERNAL_ENV}
    if any(given.values()):
        missing = [name for name, value in given.items() if not value]
        if missing:
            pytest.fail(f"set all of {', '.join(EXTERNAL_ENV)} or none; missing: {missing}",
                        pytrace=False)
        return Target(given["BATON_BASE_URL"].rstrip("/"), given["BATON_AGENT_EMAIL"],
                      given["BATON_AGENT_PASSWORD"])
    baton = request.getfixturevalue("baton")  # starts the real processes
    return Target(baton.base_url.rstrip("/"), baton.agent_email, baton.agent_password)


@pytest.fixture(scope="session")
def base_url(target: Target) -> str:
    return target.base_url


@dataclass(frozen=True)
class AgentLogin:
    email: str
    password: str


@pytest.fixture(scope="session")
def agent_login(target: Target) -> AgentLogin:
    return AgentLogin(target.agent_email, target.agent_password)


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


@pytest.fixture
def phone(browser: Browser, base_url: str, page_errors: PageErrors) -> Iterator[Page]:
    """A customer on a phone-sized touch screen (375 px wide)."""
    context = _new_context(
        browser, base_url, viewport={"width": 375, "height": 740}, device_scale_factor=2,
        is_mobile=True, has_touch=True,
    )
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


SUPERVISOR_ENV = ("BATON_SUPERVISOR_EMAIL", "BATON_SUPERVISOR_PASSWORD")
E2E_SUPERVISOR = AgentLogin("sam@baton.example", "e2e-password-2")
E2E_SUPERVISOR_NAME = "Sam"


@pytest.fixture(scope="session")
def supervisor_login(target: Target, request: pytest.FixtureRequest) -> AgentLogin:
    """A supervisor account: made with `ensure-agent --role supervisor` in the session's
    own stack; against an external Baton, given by BATON_SUPERVISOR_EMAIL/_PASSWORD."""
    if os.environ.get("BATON_BASE_URL", "").strip():
        given = [os.environ.get(name, "").strip() for name in SUPERVISOR_ENV]
        if not all(given):
            pytest.skip(f"set {' and '.join(SUPERVISOR_ENV)} to test against an external Baton")
        return AgentLogin(given[0], given[1])
    baton = request.getfixturevalue("baton")
    baton.stack.ensure_agent(E2E_SUPERVISOR.email, E2E_SUPERVISOR.password, E2E_SUPERVISOR_NAME,
                             role="supervisor")
    return E2E_SUPERVISOR


@pytest.fixture
def supervisor(browser: Browser, base_url: str, page_errors: PageErrors) -> Iterator[Page]:
    """A supervisor in the console: a third browser context of their own."""
    context = _new_context(browser, base_url, viewport={"width": 1440, "height": 900})
    yield page_errors.watch(context.new_page())
    context.close()
