"""The pages under the Content-Security-Policy (tracker.web.hardening), in a real
browser: nothing is refused, the countdown's script still ticks, the dashboard's bars
still have their lengths."""

from __future__ import annotations

from datetime import date

from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db


def _violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text)
            if "Content Security Policy" in m.text else None)
    return found


def test_the_pages_work_under_the_content_security_policy(page, live, login, users, units):
    from playwright.sync_api import expect

    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    refused = _violations(page)

    login("ha_long")
    page.goto(live.url("/today"))
    clock = page.get_by_test_id("countdown")
    shown = clock.inner_text()
    expect(clock).not_to_have_text(shown, timeout=5_000)  # the script file runs

    page.context.clear_cookies()
    login("admin")
    for path in ("/dashboard", "/tasks", "/admin/users", "/admin/calendar", "/admin/policy",
                 "/reports/daily", "/supervise/red", "/account/tokens"):
        response = page.goto(live.url(path))
        assert response.status == 200, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.goto(live.url("/dashboard"))
    bars = page.locator("table.categories svg.bar rect")
    expect(bars.first).to_be_attached()
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(bars.count())]
    assert sum(widths) > 0
    drawn = page.locator("table.categories svg.bar").first.bounding_box()
    assert drawn and drawn["width"] > 20 and drawn["height"] > 0  # the bar has its room
    assert refused == [], refused
