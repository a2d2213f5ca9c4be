"""The pieces of the browser tests that the README screenshot script shares: the app
served on a free localhost port from a background thread, and Debian's Chromium driven by
Playwright (never a downloaded browser: `playwright install` is not used)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("TRACKER_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def browser_missing(chromium: Path = CHROMIUM) -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not chromium.exists():
        return (f"Chromium not found at {chromium}: install Debian's `chromium` package "
                "to run the browser tests (they are skipped outside CI, and fail in CI)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` Python package is not installed (pip install playwright)"
    return None


def require_browser(chromium=None) -> None:
    """Skip (outside CI) or fail (in CI) when the browser tests cannot run."""
    reason = browser_missing(chromium) if chromium else browser_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


class LiveServer:
    """The app on 127.0.0.1:<free port>, served by werkzeug in a background thread.

    Each request runs in its own app context and database session, as in production; the
    app's clock (`app.config["CLOCK"]`) is shared, so a test's fixed clock rules both.
    """

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="tracker-live-server", daemon=True)

    def url(self, path: str = "/") -> str:
        return self.base + path

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def log_in(page, live: LiveServer, username: str, password: str) -> None:
    page.goto(live.url("/login"))
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
