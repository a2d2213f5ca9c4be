"""The daily report downloads: CSV, XLSX and PDF carry the same Vietnamese content."""

import csv
import io
import shutil
import subprocess
from datetime import date

import pytest

from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.reports.export import report_csv, report_pdf, report_xlsx
from tracker.reports.history import daily_report


@pytest.fixture
def report(users, units):
    make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0),
              title="Rà soát tài sản công dôi dư")
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return daily_report(units["province"], date(2026, 11, 17))


def test_csv_is_utf8_with_a_bom_and_names_the_red_task(report):
    data = report_csv(report)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert any("Rà soát tài sản công dôi dư" in row for row in rows)
    assert any("Đặc khu Cô Tô" in row for row in rows)
    assert ["Đỏ", "1"] in rows


def test_the_downloads_count_as_the_dashboard_does_and_say_how(report):
    """Cô Tô's one task is red; the 53 other communes have none: counted apart, never green,
    and the definitions travel with the figures."""
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert ["Tỷ lệ xanh", "0%"] in rows
    assert ["Số xã, phường xanh", "0/1"] in rows
    assert ["Xã, phường chưa có nhiệm vụ", "53"] in rows
    definitions = [row[1] for row in rows if row[:1] == ["Cách tính"]]
    assert [d.split(" =")[0] for d in definitions] == ["Tỷ lệ xanh", "Tỷ lệ xã, phường xanh"]
    idle = [row[0] for row in rows if len(row) == 3 and row[1:] == ["0", "0"]]
    assert len(idle) == 53 and "Đặc khu Cô Tô" not in idle


def test_xlsx_has_a_sheet_per_section(report):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(report_xlsx(report)))
    assert len(book.sheetnames) == 8
    values = {c.value for sheet in book for row in sheet.iter_rows() for c in row}
    assert "Rà soát tài sản công dôi dư" in values


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")
def test_pdf_renders_vietnamese_text(report, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf(report))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Báo cáo giám sát hằng ngày" in text
    assert "Rà soát tài sản công dôi dư" in text
    assert "Đặc khu Cô Tô" in text


def test_pdf_is_a_pdf(report):
    assert report_pdf(report).startswith(b"%PDF")
