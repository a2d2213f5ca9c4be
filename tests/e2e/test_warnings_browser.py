"""A supervisor opens the early warning ("Sắp chuyển đỏ") from the header, reads why each
task is likely to turn red, narrows the list to one unit and opens a task, whose page
carries the same line."""

from __future__ import annotations

import pytest

from tests.factories import ict, make_task
from tracker.extensions import db
from tracker.updates.service import post_update


@pytest.fixture
def soon(users, units):
    at = ict(2026, 11, 13, 9, 0)
    ha_long = make_task(users["admin"], units["ha_long"], at=at, title="Kiểm kê tài sản",
                        deadline="2026-11-20")
    post_update(users["ha_long"], ha_long, {"progress": 30, "work_done": "Đã kiểm kê"},
                now=ict(2026, 11, 17, 10, 0))
    co_to = make_task(users["admin"], units["co_to"], at=at, title="Bàn giao hồ sơ",
                      deadline="2026-11-19")
    post_update(users["co_to"], co_to, {"progress": 0, "work_done": "Đã lập danh mục"},
                now=ict(2026, 11, 17, 10, 0))
    db.session.commit()
    return {"ha_long": ha_long.code, "co_to": co_to.code, "unit": units["ha_long"].id,
            "ha_long_id": ha_long.id}


def test_a_supervisor_reads_the_warnings_filters_by_unit_and_opens_a_task(
        page, live, login, soon):
    from playwright.sync_api import expect

    login("supervisor")
    page.get_by_test_id("nav-warnings").click()
    expect(page.locator("h1")).to_contain_text("Sắp chuyển đỏ")
    rows = page.get_by_test_id("warning-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(soon["co_to"])  # the nearer deadline first
    expect(rows.filter(has_text=soon["ha_long"])).to_contain_text(
        "hạn còn 2 ngày làm việc, tiến độ 30 %, tốc độ 10 %/ngày → dự kiến 50 % khi đến hạn")

    page.select_option("#warning-unit", str(soon["unit"]))
    with page.expect_navigation():
        page.locator("form.filters button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("warning-count")).to_contain_text("1 nhiệm vụ")
    with page.expect_navigation():
        rows.first.locator("a").first.click()
    expect(page.get_by_test_id("warning-line")).to_contain_text("Sắp chuyển đỏ (khả năng 90 %)")
