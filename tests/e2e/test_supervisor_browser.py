"""A supervisor works a red item from the queue and downloads the daily report."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.models import Comment


@pytest.fixture
def red_task(users, units):
    task = make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0),
                     title="Rà soát, xử lý tài sản công dôi dư")
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return {"id": task.id, "code": task.code}


def test_a_supervisor_works_a_red_item_and_downloads_the_daily_report(
        page, live, login, red_task, tmp_path):
    from playwright.sync_api import expect

    login("supervisor")
    page.click("a[href='/supervise/red']")
    row = page.get_by_test_id("red-row").filter(has_text=red_task["code"])
    expect(row).to_contain_text("Đặc khu Cô Tô")
    with page.expect_navigation():
        row.locator("a").first.click()

    # Nudge the unit, then acknowledge the item with a note.
    page.get_by_test_id("nudge-toggle").click()
    page.fill("#nudge-message", "Đề nghị đặc khu cập nhật tiến độ trước 16:00 hôm nay")
    with page.expect_navigation():
        page.locator("form[action$='/nudge'] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.get_by_test_id("ack-toggle").click()
    page.fill("#ack-body", "Đã làm việc với đặc khu; chờ Sở Tài chính thẩm định")
    with page.expect_navigation():
        page.locator("form[action$='/acknowledge'] button[type=submit]").click()
    expect(page.locator("#comments")).to_contain_text("chờ Sở Tài chính thẩm định")

    # The queue shows the acknowledgement; the report downloads.
    page.click("a[href='/supervise/red']")
    expect(page.get_by_test_id("red-row").filter(has_text=red_task["code"])) \
        .to_contain_text("chờ Sở Tài chính thẩm định")
    page.click("a[href='/reports/daily']")
    expect(page.locator("h2").first).to_contain_text("17/11/2026")
    for fmt, magic in (("xlsx", b"PK"), ("csv", "\ufeff".encode()), ("pdf", b"%PDF")):
        with page.expect_download() as info:
            page.get_by_test_id(f"download-{fmt}").click()
        download = info.value
        assert download.suggested_filename == f"bao-cao-giam-sat-2026-11-17.{fmt}"
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        assert target.read_bytes().startswith(magic)

    assert db.session.scalar(db.select(Comment.kind)) == "acknowledge"
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification)
                             .where(Notification.kind == "nudge")) == 1  # co_to's member
    db.session.rollback()
