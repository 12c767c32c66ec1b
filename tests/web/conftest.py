"""Browser fixtures: Debian's Chromium driven by Playwright, axe-core, screenshots.

The browser is `/usr/bin/chromium` (`make test` installs Debian's package when it
is missing); Playwright never downloads one. A failed browser test leaves a
screenshot of its page in `test-artifacts/`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from catalogage.config import PROJECT_DIR
from catalogage.web.assets import MANIFEST
from tests.conftest import TestDatabase
from tests.factories import PASSWORD, World

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = PROJECT_DIR / "test-artifacts"
EXPECTED_STATUS = re.compile(r"Failed to load resource: .* status of (401|403|404|409|422|429)")
AXE = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"


class ThreadedDatabase(TestDatabase):
    """The test database, used from a worker thread: Playwright's sync API keeps an
    event loop running in the main thread, where `asyncio.run` is not allowed."""

    def run(self, statements: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=1) as worker:
            rows: list[Any] = worker.submit(super().run, statements).result()
            return rows


@pytest.fixture(scope="session")
def db(database_url: str) -> TestDatabase:
    return ThreadedDatabase(database_url)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module: Playwright's event loop runs in the main thread
    while it lives, so it is stopped before tests of other directories run."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make test` (installs Debian's chromium)")
    if not MANIFEST.exists():
        pytest.fail("static assets are not built: run `make assets`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Pages:
    """Opens pages in fresh browser contexts (each one a separate person)."""

    def __init__(self, browser: Browser, server: str) -> None:
        self.browser = browser
        self.server = server
        self.opened: list[Page] = []
        self.console_errors: list[str] = []

    def new(self, *, locale: str = "fr-FR") -> Page:
        context = self.browser.new_context(
            base_url=self.server, locale=locale, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.on("console", lambda message: self._console(page, message))
        self.opened.append(page)
        return page

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        # Forms answered with 422 or 409 are logged as failed loads: they are meant.
        if message.type == "error" and not EXPECTED_STATUS.match(message.text):
            self.console_errors.append(f"{page.url}: {message.text}")

    def close(self) -> None:
        for page in self.opened:
            page.context.close()


@pytest.fixture
def pages(browser: Browser, server: str, request: pytest.FixtureRequest) -> Iterator[Pages]:
    opened = Pages(browser, server)
    yield opened
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for index, page in enumerate(opened.opened):
            page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
    opened.close()
    # The Content-Security-Policy forbids inline scripts and styles: a page breaking it
    # (or any script error) shows up here.
    assert opened.console_errors == []


@pytest.fixture
def page(pages: Pages) -> Page:
    return pages.new()


def sign_in(page: Page, world: World, role: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(world.email(role))
    page.get_by_label("Mot de passe", exact=False).first.fill(PASSWORD)
    page.locator("#formulaire-connexion").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/$"))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP does not apply.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}));
        }"""
    )
    violations: list[dict[str, Any]] = results
    return violations


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)
