"""In Chromium: a member logs in with the province's single sign-on (a real provider on
127.0.0.1, tests/oidc_provider.py) and lands on their page; with local passwords off the
login page offers the button alone, and an unknown person is told plainly why not."""

from __future__ import annotations

import pytest

from tests.oidc_provider import Provider


@pytest.fixture
def provider(app, clock):
    with Provider(clock) as running:
        app.config.update(running.settings())
        yield running


def test_a_member_logs_in_with_single_sign_on(page, live, users, provider, app):
    app.config["TRACKER_OIDC_LABEL"] = "Đăng nhập bằng tài khoản công vụ"
    provider.user = {"sub": "qn-0001", "preferred_username": "ha_long"}
    live.settle()
    page.goto(live.url("/login"))
    with page.expect_navigation(url=live.url("/today")):
        page.get_by_role("link", name="Đăng nhập bằng tài khoản công vụ").click()
    assert "ha_long" in page.locator(".who").inner_text()


def test_passwords_off_an_unknown_person_is_told_why(page, live, users, provider, app):
    app.config["TRACKER_LOCAL_PASSWORDS"] = False
    provider.user = {"sub": "qn-0999", "preferred_username": "nguoi.la"}
    live.settle()
    page.goto(live.url("/login"))
    assert page.locator("#password").count() == 0
    with page.expect_navigation(url=live.url("/login/sso/callback**")):
        page.get_by_role("link", name="Đăng nhập một lần (SSO)").click()
    assert "không gắn với tài khoản nào" in page.locator("main").inner_text()
