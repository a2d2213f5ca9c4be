"""An admin changes a task on the page, on a phone and on a desktop: edits its deadline;
a second admin, who opened the edit page before, is told that the task changed, with
their input kept, and saves knowingly; the task is reassigned to another commune, then
cancelled — with a reason, which is asked for."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.e2e.harness import DESKTOP, log_in
from tests.factories import PASSWORD, ict, make_task, make_user
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.models import Task


def _task(task_id: int) -> SimpleNamespace:
    db.session.rollback()
    task = db.session.get(Task, task_id)
    seen = SimpleNamespace(title=task.title, deadline=task.deadline, status=task.status,
                           lead_unit_id=task.lead_unit_id)
    db.session.rollback()  # hold no transaction while the browser works
    return seen


def _kinds() -> set[str]:
    kinds = set(db.session.scalars(select(Notification.kind)))
    db.session.rollback()
    return kinds


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _walk(page, browser, live, users, units, size):
    from playwright.sync_api import expect

    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                     title="Rà soát trụ sở dôi dư")
    make_user("admin2", "admin", units["province"])
    task = SimpleNamespace(id=task.id)
    co_to = SimpleNamespace(id=units["co_to"].id, name=units["co_to"].name)
    live.settle()
    edit = f"/admin/tasks/{task.id}/edit"

    # the second editor opens the edit page first
    other = browser.new_context(viewport=size, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    second = other.new_page()
    try:
        log_in(second, live, "admin2", PASSWORD)
        second.goto(live.url(edit))

        # the first admin edits the deadline from the task page
        log_in(page, live, "admin", PASSWORD)
        page.goto(live.url(f"/tasks/{task.id}"))
        with page.expect_navigation():
            page.get_by_test_id("edit-task").click()
        assert _fits(page)
        page.fill("#f-deadline", "2027-01-15")
        page.fill("#f-note", "Theo Thông báo 12-TB/BCĐ")
        with page.expect_navigation():
            page.locator("form.task-form button[type=submit]").click()
        expect(page.locator(".flash-success")).to_be_visible()
        expect(page.locator(".status-line")).to_contain_text("15/01/2027")

        # the second one saves over a task that changed meanwhile: told, nothing lost
        second.fill("#f-title", "Rà soát, xử lý trụ sở dôi dư")
        with second.expect_navigation():
            second.locator("form.task-form button[type=submit]").click()
        expect(second.locator("#error-summary")).to_contain_text("người khác đã lưu")
        expect(second.get_by_test_id("saved-meanwhile")).to_contain_text("15/01/2027")
        expect(second.locator("#f-title")).to_have_value("Rà soát, xử lý trụ sở dôi dư")
        assert _task(task.id).title == "Rà soát trụ sở dôi dư"
        assert str(_task(task.id).deadline) == "2027-01-15"
        second.fill("#f-deadline", "2027-01-15")  # they keep the new deadline, then save
        with second.expect_navigation():
            second.locator("form.task-form button[type=submit]").click()
        expect(second.locator(".flash-success")).to_be_visible()
        assert _task(task.id).title == "Rà soát, xử lý trụ sở dôi dư"
    finally:
        other.close()

    # reassign to Cô Tô from the task page
    page.goto(live.url(f"/tasks/{task.id}"))
    page.get_by_test_id("reassign-toggle").click()
    page.select_option("#reassign-lead_unit_id", str(co_to.id))
    page.fill("#reassign-owner_name", "Chủ tịch UBND đặc khu Cô Tô")
    page.fill("#reassign-note", "Đúng địa bàn quản lý")
    assert _fits(page)
    with page.expect_navigation():
        page.locator("form[action$='/reassign'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text(co_to.name)
    assert _task(task.id).lead_unit_id == co_to.id

    # cancel: the reason is asked for, then given
    page.get_by_test_id("cancel-toggle").click()
    with page.expect_navigation():
        page.locator("form[action$='/cancel'] button[type=submit]").click()
    expect(page.locator(".field-error[data-field=note]")).to_be_visible()
    assert _task(task.id).status == "not_started"
    page.fill("#cancel-note", "Trùng với nhiệm vụ của Sở Tài chính")
    with page.expect_navigation():
        page.locator("form[action$='/cancel'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".status-line")).to_contain_text("Đã huỷ")
    assert _task(task.id).status == "cancelled"
    assert _kinds() == {"edited", "reassigned", "cancelled"}
    assert _fits(page)


def test_an_admin_edits_meets_a_second_editor_reassigns_and_cancels_on_a_desktop(
        page, browser, live, users, units):
    _walk(page, browser, live, users, units, DESKTOP)


@pytest.mark.viewport(360, 740)
def test_an_admin_edits_meets_a_second_editor_reassigns_and_cancels_on_a_phone(
        page, browser, live, users, units):
    _walk(page, browser, live, users, units, {"width": 360, "height": 740})
