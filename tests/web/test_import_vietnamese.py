"""The import speaks Vietnamese: the template's headers, sheet names, priorities and
statuses in Vietnamese (English still accepted), dates as dd/mm/yyyy; every header the
import page shows is one the importer accepts."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from tests.web.test_import import HEADER, _csv, _report, _row, _tasks, _upload, _xlsx
from tracker.extensions import db
from tracker.tasks.columns import COLUMNS, IMPORTED, find_column
from tracker.tasks.models import Status, Task

VIETNAMESE = {
    "title": "Tên nhiệm vụ", "description": "Nội dung", "lead_unit": "Đơn vị chủ trì",
    "owner_name": "Người chịu trách nhiệm", "start_date": "Ngày bắt đầu",
    "deadline": "Hạn hoàn thành", "leader_in_charge": "Lãnh đạo phụ trách",
    "expected_output": "Sản phẩm đầu ra", "assigning_authority": "Cơ quan giao nhiệm vụ",
    "source_doc_number": "Số/ký hiệu văn bản giao nhiệm vụ",
    "source_doc_date": "Ngày ban hành văn bản giao nhiệm vụ", "field": "Lĩnh vực",
    "priority": "Mức độ ưu tiên", "coordinating_units": "Đơn vị phối hợp",
}
VI_HEADER = [VIETNAMESE[column] for column in HEADER]


def _guide_first(data: bytes) -> bytes:
    """The workbook with its sheet renamed "Nhiệm vụ" and a sheet "Hướng dẫn" before it."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    book.active.title = "Nhiệm vụ"
    book.create_sheet("Hướng dẫn", 0)["A1"] = "Hướng dẫn nhập"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_vietnamese_headers_and_priorities_with_dd_mm_yyyy_dates_import(login_as, units, kind):
    rows = [_row(priority="Bình thường", start_date="16/11/2026", deadline="31/12/2026"),
            _row("co_to", priority="Quan trọng"), _row("bai_chay", priority="KHẨN")]
    data = (_xlsx if kind == "xlsx" else _csv)(rows, VI_HEADER)
    response = _upload(login_as("admin"), data, f"t.{kind}")
    assert response.status_code == 302, _report(response)
    tasks = db.session.scalars(select(Task).order_by(Task.id)).all()
    assert [str(t.priority) for t in tasks] == ["normal", "high", "urgent"]
    assert tasks[0].start_date.isoformat() == "2026-11-16"
    assert tasks[0].deadline.isoformat() == "2026-12-31"
    assert tasks[0].leader_in_charge == "Phó Chủ tịch UBND tỉnh"


def test_english_headers_and_priorities_are_still_accepted(login_as):
    rows = [_row(priority="urgent"), _row(priority="normal")]
    response = _upload(login_as("admin"), _xlsx(rows, HEADER), "t.xlsx")
    assert response.status_code == 302
    assert sorted(str(p) for p in db.session.scalars(select(Task.priority))) == [
        "normal", "urgent"]


def test_every_header_the_import_page_shows_is_accepted(login_as):
    client = login_as("admin")
    client.get("/lang/vi")
    page = client.get("/admin/import").get_data(as_text=True)
    table = re.search(r'<table class="listing columns">(.*?)</table>', page, re.S).group(1)
    shown = re.findall(r"<tr><td>([^<]+)</td><td class=\"code\">([^<]+)</td>", table)
    assert len(shown) == len(COLUMNS) == 18
    imported = [(vi, en) for vi, en in shown if en in {c.key for c in IMPORTED}]
    assert len(imported) == 15
    by_key = dict(zip(HEADER, _row(), strict=True))
    for header in ([vi for vi, _en in imported], [en for _vi, en in imported]):
        row = [by_key.get(en, "") for _vi, en in imported]
        response = _upload(client, _csv([row], header), "t.csv")
        assert response.status_code == 302, _report(response)
    assert _tasks() == 2


def test_the_sheet_named_nhiem_vu_is_read_whichever_its_place(login_as):
    data = _guide_first(_xlsx([_row()], VI_HEADER))
    response = _upload(login_as("admin"), data, "t.xlsx")
    assert response.status_code == 302 and _tasks() == 1


def test_a_bad_priority_or_status_names_the_column_as_the_file_does(login_as):
    header = [*VI_HEADER, "Trạng thái"]
    rows = [[*_row(priority="rất gấp"), "Đang thực hiện"], [*_row(), "xong rồi"]]
    response = _upload(login_as("admin"), _xlsx(rows, header), "t.xlsx")
    assert response.status_code == 422 and _tasks() == 0
    report = {(r, c): m for r, c, m in _report(response)}
    assert set(report) == {("2", "Mức độ ưu tiên"), ("3", "Trạng thái")}
    assert "Hoàn thành" in report[("3", "Trạng thái")]


def test_a_known_status_is_checked_and_every_imported_task_starts_not_started(login_as):
    header = [*VI_HEADER, "Trạng thái", "Tiến độ", "Màu"]
    rows = [[*_row(), "Hoàn thành", 1, "Xanh"], [*_row(), "in progress", 0.5, "red"]]
    response = _upload(login_as("admin"), _xlsx(rows, header), "t.xlsx")
    assert response.status_code == 302, _report(response)
    assert set(db.session.scalars(select(Task.status))) == {Status.NOT_STARTED}
    assert set(db.session.scalars(select(Task.progress))) == {0}


def test_a_missing_vietnamese_column_is_named_in_vietnamese(login_as):
    header = [h for h in VI_HEADER if h != "Lãnh đạo phụ trách"]
    rows = [[v for h, v in zip(VI_HEADER, _row(), strict=True) if h != "Lãnh đạo phụ trách"]]
    response = _upload(login_as("admin"), _csv(rows, header), "t.csv")
    assert response.status_code == 422
    assert ("1", "Lãnh đạo phụ trách") in [(r, c) for r, c, _m in _report(response)]


def test_a_date_not_in_dd_mm_yyyy_is_reported_under_its_vietnamese_column(login_as):
    rows = [_row(deadline="31/13/2026")]
    client = login_as("admin")
    response = _upload(client, _csv(rows, VI_HEADER), "t.csv")
    assert [(r, c) for r, c, _m in _report(response)] == [("2", "Hạn hoàn thành")]


def test_no_header_names_two_columns():
    for column in COLUMNS:
        for name in (column.key, column.header, *column.aliases):
            assert find_column(name) is column, name
