"""A member on a phone: logs in, sees today's duties and the live countdown, posts an
update and sees today's status change."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.updates.models import ProgressUpdate


@pytest.fixture
def red_task(users, units):
    """A Hạ Long task silent since it was assigned: red at Tuesday 17/11's cutoff."""
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                     title="Sắp xếp, tổ chức lại thôn, tổ dân phố")
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return {"id": task.id, "code": task.code}


@pytest.mark.viewport(360, 740)
def test_a_member_posts_an_update_on_a_phone_and_sees_today_turn_green(
        page, live, login, red_task):
    from playwright.sync_api import expect

    login("ha_long")
    page.get_by_test_id("menu-button").click()  # on a phone the header's links are behind it
    page.click("a[href='/today']")
    row = page.locator(f"#task-{red_task['id']}")
    expect(row.locator(".badge")).to_have_class("badge badge-red")
    expect(row.get_by_test_id("duty")).to_have_class("duty duty-missing")
    # The server writes 06:00:00 to the 16:00 cutoff (the page works without script);
    # in the browser it ticks down from there.
    assert ">06:00:00<" in page.request.get(live.url("/today")).text()
    clock = page.get_by_test_id("countdown")
    expect(clock).to_have_text(re.compile(r"^(06:00:00|05:5\d:\d\d)$"))
    shown = clock.inner_text()
    expect(clock).not_to_have_text(shown, timeout=5_000)
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    row.locator("summary").first.click()
    row.locator(f"#t{red_task['id']}-progress").fill("25")
    row.locator(f"#t{red_task['id']}-work_done").fill("Đã họp lấy ý kiến cử tri 3 thôn")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()

    row = page.locator(f"#task-{red_task['id']}")
    expect(row.get_by_test_id("duty")).to_have_class("duty duty-reported")
    expect(row.get_by_test_id("duty")).to_contain_text("10:00")
    expect(row.locator(".badge")).to_have_class("badge badge-green")
    expect(page.locator(".flash-success")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    update = db.session.scalar(db.select(ProgressUpdate))
    assert (update.task_id, update.progress) == (red_task["id"], 25)
    assert update.created_at == ict(2026, 11, 18, 10, 0)  # the server's clock
    db.session.rollback()
