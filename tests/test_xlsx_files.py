"""Every workbook Tracker writes is one a spreadsheet user can work with: numbers,
percentages and dates as typed cells in Vietnamese formats, the header row frozen and
filtered, column widths, A4 landscape printing, Vietnamese sheet names — and user text
still inert."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.reports.export import report_xlsx
from tracker.reports.history import daily_report
from tracker.tasks.export import template_xlsx

FORMULA_TITLE = '=HYPERLINK("http://evil.example","Bấm vào đây")'


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def _assert_a_table_sheet(sheet, header_row: int):
    """Frozen below the header, filtered from it, widths set, A4 landscape one page wide."""
    assert sheet.freeze_panes == f"A{header_row + 1}"
    first, last = sheet.auto_filter.ref.split(":")
    assert first == f"A{header_row}"
    assert last.endswith(str(sheet.max_row))
    assert all(cell.font.b for cell in sheet[header_row] if cell.value)
    assert sheet.column_dimensions["A"].width >= 10
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == str(sheet.PAPERSIZE_A4)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert str(sheet.page_setup.fitToWidth) == "1"
    assert sheet.print_title_rows == f"${header_row}:${header_row}"


@pytest.fixture
def report(users, units):
    make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0), title=FORMULA_TITLE)
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return daily_report(units["province"], date(2026, 11, 17), red_limit=None)


def test_the_daily_report_workbook_has_vietnamese_sheets_set_up_as_tables(report):
    book = _book(report_xlsx(report))
    assert book.sheetnames == ["Tổng hợp", "Xếp hạng đơn vị", "Đơn vị chưa có nhiệm vụ",
                               "Đơn vị chưa báo cáo", "Nhiệm vụ đỏ", "Thay đổi",
                               "Kiến nghị theo lĩnh vực", "Kiến nghị theo đầu mối"]
    for sheet in book:
        _assert_a_table_sheet(sheet, header_row=3)
        assert sheet["A1"].value.startswith("Báo cáo giám sát hằng ngày")


def test_the_daily_report_keeps_rates_dates_and_counts_typed(report):
    book = _book(report_xlsx(report))
    summary = {row[0].value: row[1] for row in book["Tổng hợp"].iter_rows(min_row=4)}
    day = summary["Ngày"]
    assert day.is_date and day.value == datetime(2026, 11, 17)
    assert day.number_format == "dd/mm/yyyy"
    rate = summary["Tỷ lệ xanh"]
    assert rate.data_type == "n" and 0 <= rate.value <= 1 and rate.number_format == "0%"
    assert summary["Nhiệm vụ"].data_type == "n" and summary["Nhiệm vụ"].value == 2
    assert summary["Nhiệm vụ"].number_format == "#,##0"
    ranking = book["Xếp hạng đơn vị"]
    header = [c.value for c in ranking[3]]
    rates = [row[header.index("Tỷ lệ xanh")] for row in ranking.iter_rows(min_row=4)]
    assert rates and all(c.data_type == "n" and c.number_format == "0%" for c in rates)


def test_the_daily_report_writes_user_text_as_text(report):
    book = _book(report_xlsx(report))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    written = [c for c in cells if c.value == FORMULA_TITLE]
    assert written and all(c.data_type == "s" for c in written)


def test_the_template_is_vietnamese_with_typed_dates_and_a_vietnamese_guide(units):
    book = _book(template_xlsx(units["ha_long"], date(2026, 11, 18)))
    assert book.sheetnames == ["Nhiệm vụ", "Hướng dẫn"]
    tasks, guide = book["Nhiệm vụ"], book["Hướng dẫn"]
    _assert_a_table_sheet(tasks, header_row=1)
    _assert_a_table_sheet(guide, header_row=1)
    header = [c.value for c in tasks[1]]
    assert header == [
        "Mã nhiệm vụ", "Tên nhiệm vụ", "Nội dung", "Đơn vị chủ trì", "Người chịu trách nhiệm",
        "Đơn vị phối hợp", "Ngày bắt đầu", "Hạn hoàn thành", "Lãnh đạo phụ trách",
        "Sản phẩm đầu ra", "Cơ quan giao nhiệm vụ", "Số/ký hiệu văn bản giao nhiệm vụ",
        "Ngày ban hành văn bản giao nhiệm vụ", "Lĩnh vực", "Mức độ ưu tiên"]
    example = dict(zip(header, tasks[2], strict=True))
    start = example["Ngày bắt đầu"]
    assert start.is_date and start.value == datetime(2026, 11, 18)
    assert start.number_format == "dd/mm/yyyy"
    assert example["Mức độ ưu tiên"].value == "Bình thường"
    assert example["Đơn vị chủ trì"].value == f"Phường Hạ Long ({units['ha_long'].code})"
    assert [c.value for c in guide[1]] == ["Cột", "Tên tiếng Anh", "Bắt buộc",
                                         "Nội dung cần ghi"]
    rows = {row[1].value: [c.value for c in row] for row in guide.iter_rows(min_row=2)}
    assert rows["leader_in_charge"][0] == "Lãnh đạo phụ trách"
    assert rows["leader_in_charge"][2] == "Có"
    assert "Bình thường, Quan trọng, Khẩn" in rows["priority"][3]
    assert "Chưa thực hiện" in rows["status"][3]


def test_the_template_guide_stays_vietnamese_in_an_english_session(login_as):
    client = login_as("admin")
    client.get("/lang/en")
    book = _book(client.get("/admin/import/template.xlsx").data)
    assert [c.value for c in book["Hướng dẫn"][1]] == ["Cột", "Tên tiếng Anh", "Bắt buộc",
                                                       "Nội dung cần ghi"]
