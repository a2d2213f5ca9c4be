"""One loop end to end on two phones (issue 13): a member submits a completion; the
supervisor sees it in the inbox (with the count in the header) and returns it with a
reason from the list; the member sees "Bị trả lại" with the reason on /today and in the
notifications."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.harness import PHONE, log_in
from tests.factories import PASSWORD, ict, make_task
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.models import Status, Task

REASON = "Thiếu biên bản nghiệm thu của UBND xã"


@pytest.fixture
def task(users, units):
    made = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                     title="Sắp xếp, tổ chức lại thôn, tổ dân phố")
    return {"id": made.id, "code": made.code}


def _fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.viewport(360, 740)
def test_submit_return_and_the_member_sees_why_on_a_phone(page, live, login, browser, task):
    from playwright.sync_api import expect

    # The member submits the completion from the task page.
    login("ha_long")
    page.goto(live.url("/today"))
    page.locator(f"#task-{task['id']} a").first.click()
    page.get_by_role("link", name="Đề nghị xác nhận hoàn thành").first.click()
    page.locator("textarea[name=result]").fill("Đã sắp xếp xong 12 thôn, tổ dân phố")
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    expect(page.get_by_test_id("request-state")).to_contain_text("Đang chờ xác nhận")

    # The supervisor, on another phone, sees it waiting and returns it with a reason.
    live.settle()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    try:
        chief = context.new_page()
        log_in(chief, live, "supervisor", PASSWORD)
        menu = chief.get_by_test_id("menu-button")  # on a phone the links are behind it
        expect(menu.get_by_test_id("menu-waiting")).to_have_text("1")
        menu.click()
        badge = chief.get_by_test_id("nav-inbox")
        expect(badge).to_contain_text("Chờ xử lý")
        expect(badge.locator(".count")).to_have_text("1")
        badge.click()
        row = chief.get_by_test_id("inbox-completion")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(task["code"])
        assert _fits(chief)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        chief.screenshot(path=str(SCREENSHOTS / "loop_inbox_phone.png"), full_page=True)
        row.locator("textarea").fill(REASON)
        with chief.expect_navigation():
            row.get_by_role("button", name="Trả lại đề nghị").click()
        expect(chief.locator(".flash-success")).to_be_visible()
        expect(chief.get_by_test_id("inbox-completion")).to_have_count(0)
        expect(chief.get_by_test_id("count-completion")).to_have_text("0")
    finally:
        context.close()

    assert db.session.get(Task, task["id"]).status == Status.RETURNED
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification)
                             .where(Notification.kind == "returned")) == 1
    live.settle()

    # The member sees why, on /today and in the notifications.
    page.goto(live.url("/today"))
    row = page.locator(f"#task-{task['id']}")
    expect(row.get_by_test_id("request-state")).to_contain_text("Bị trả lại")
    expect(row.get_by_test_id("request-state")).to_contain_text(REASON)
    expect(row).not_to_contain_text("Hôm nay không cần báo cáo tiến độ")
    assert _fits(page)
    page.screenshot(path=str(SCREENSHOTS / "loop_today_returned_phone.png"), full_page=True)
    page.goto(live.url("/notifications"))
    expect(page.get_by_test_id("notification").first).to_contain_text(
        f"Hoàn thành bị trả lại: {REASON}")
    assert _fits(page)


def test_an_extension_rejected_on_the_task_page_reaches_the_member_on_a_desktop(
        page, live, login, browser, task):
    """The other loop, on a desktop: the member asks for an extension; the supervisor,
    told by a notification, rejects it on the task page with a reason; the member sees
    the rejection and the reason on /today and the task page."""
    from playwright.sync_api import expect

    login("ha_long")
    page.goto(live.url(f"/tasks/{task['id']}"))
    page.get_by_role("link", name="Đề nghị gia hạn").first.click()
    page.locator("input[name=requested_deadline]").fill("2027-01-31")  # a date input
    page.locator("textarea[name=reason]").fill("Chờ bố trí kinh phí")
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    expect(page.get_by_test_id("extension-state")).to_contain_text("Đang chờ duyệt gia hạn")

    live.settle()
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    try:
        chief = context.new_page()
        log_in(chief, live, "supervisor", PASSWORD)
        chief.goto(live.url("/notifications"))
        notice = chief.get_by_test_id("notification").first
        expect(notice).to_contain_text("31/01/2027")
        notice.locator("a").click()
        decision = chief.locator("#extension-decision")
        decision.locator("textarea").fill("Chưa đủ căn cứ gia hạn")
        with chief.expect_navigation():
            decision.get_by_role("button", name="Không đồng ý").click()
        expect(chief.locator(".flash-success")).to_be_visible()
    finally:
        context.close()

    live.settle()
    for url in ("/today", f"/tasks/{task['id']}"):
        page.goto(live.url(url))
        state = page.get_by_test_id("extension-state").first
        expect(state).to_contain_text("Không đồng ý gia hạn")
        expect(state).to_contain_text("Chưa đủ căn cứ gia hạn")
