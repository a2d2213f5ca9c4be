"""An admin bulk-assigns a directive to several communes, then imports a file with a bad
row and sees the row-level errors, with nothing imported."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from tracker.extensions import db
from tracker.tasks.models import Task

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["title", "description", "lead_unit", "owner_name", "start_date", "deadline",
          "leader_in_charge", "expected_output", "assigning_authority", "source_doc_number",
          "source_doc_date"]


def _workbook() -> bytes:
    """Two good rows around a bad one (row 3: a deadline that does not exist)."""
    good = ["Kiểm kê trụ sở dôi dư", "Kiểm kê, lập danh mục trụ sở dôi dư.", "ha_long",
            "Chủ tịch UBND phường", "16/11/2026", "31/12/2026", "Phó Chủ tịch UBND tỉnh",
            "Danh mục trụ sở", "Ban Chỉ đạo tỉnh", "07-TB/BCĐ", "10/11/2026"]
    bad = [*good[:5], "31/02/2026", *good[6:]]
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (HEADER, good, bad, [*good[:2], "co_to", *good[3:]]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _tasks() -> list[int]:
    leads = sorted(db.session.scalars(select(Task.lead_unit_id)))
    db.session.rollback()  # hold no transaction while the browser works
    return leads


def test_an_admin_bulk_assigns_then_an_import_with_a_bad_row_imports_nothing(
        page, live, login, users, units):
    from playwright.sync_api import expect

    chosen = [units[name].id for name in ("ha_long", "co_to", "bai_chay")]
    login("admin")
    page.click("a[href='/admin']")
    with page.expect_navigation():
        page.click("a[href='/admin/tasks/bulk']")

    for unit_id in chosen:
        page.check(f"input[name=unit_ids][value='{unit_id}']")
    page.fill("#f-title", "Rà soát trụ sở, tài sản công dôi dư")
    page.fill("#f-description", "Rà soát trụ sở, xe ô tô và tài sản công dôi dư sau sắp xếp.")
    page.fill("#f-owner_name", "Chủ tịch UBND xã")
    page.fill("#f-start_date", "2026-11-18")
    page.fill("#f-deadline", "2026-12-31")
    page.fill("#f-leader_in_charge", "Phó Chủ tịch UBND tỉnh")
    page.fill("#f-expected_output", "Danh mục tài sản dôi dư và phương án xử lý")
    page.fill("#f-assigning_authority", "Ban Chỉ đạo tỉnh Quảng Ninh")
    page.fill("#f-source_doc_number", "05-TB/BCĐ")
    page.fill("#f-source_doc_date", "2026-11-10")
    with page.expect_navigation():
        page.get_by_test_id("assign-chosen").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".task-row")).to_have_count(3)
    assert _tasks() == sorted(chosen)

    page.click("a[href='/admin']")
    with page.expect_navigation():
        page.click("a[href='/admin/import']")
    page.set_input_files("#f-file", files=[
        {"name": "nhiem-vu.xlsx", "mimeType": XLSX, "buffer": _workbook()}])
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_be_visible()
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr td").nth(0)).to_have_text("3")
    expect(report.locator("tbody tr td").nth(1)).to_have_text("deadline")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert _tasks() == sorted(chosen)  # nothing imported, not even the good rows
