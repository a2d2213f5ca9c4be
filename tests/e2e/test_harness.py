"""Without Chromium the browser tests are skipped with a clear message — but not in CI."""

from pathlib import Path

import pytest

from tests.e2e.harness import require_browser

NOWHERE = Path("/nonexistent/chromium")


def test_a_missing_browser_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install Debian's `chromium`"):
        require_browser(NOWHERE)


def test_a_missing_browser_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI"):
        require_browser(NOWHERE)
