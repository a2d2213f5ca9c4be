"""Browser tests: the app served on a free localhost port against the test database of
the `app` fixture, driven in Debian's headless Chromium through Playwright.

Without Chromium the tests are skipped with a clear message — or fail when CI=true, since
CI must run them. Each test saves a screenshot of its last page under
`artifacts/screenshots/` (git-ignored).

Database discipline: the test thread and the server's threads share the database. On
SQLite every transaction takes the write lock at BEGIN, so the test must end its own
transaction before the browser acts — `live.settle()` commits and closes the session —
and again after reading what the browser did.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import DESKTOP, ROOT, LiveServer, launch, log_in, require_browser
from tests.factories import PASSWORD
from tracker.extensions import db

SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def pytest_configure(config):
    config.addinivalue_line("markers", "viewport(width, height): the browser page's size")


@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


class Live(LiveServer):
    def settle(self) -> None:
        """End the test's own transaction so that the server's requests can write."""
        db.session.commit()
        db.session.close()


@pytest.fixture
def live(app, browser):
    with Live(app) as server:
        yield server
        db.session.rollback()


@pytest.fixture
def page(browser, live, request):
    marker = request.node.get_closest_marker("viewport")
    size = {"width": marker.args[0], "height": marker.args[1]} if marker else DESKTOP
    context = browser.new_context(viewport=size, is_mobile=bool(marker), has_touch=bool(marker),
                                  locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  accept_downloads=True)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
        try:
            shot = tab if not tab.is_closed() else (context.pages or [None])[-1]
            if shot is not None:  # a test may close its first tab and go on in another
                shot.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        finally:
            context.close()


@pytest.fixture
def login(page, live):
    """Log in through the form as one of the `users` fixture's users."""
    def _login(username: str) -> None:
        live.settle()
        log_in(page, live, username, PASSWORD)
    return _login
