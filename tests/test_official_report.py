"""The daily report as an administrative document (Decree 30/2020/NĐ-CP): the PDF and the
DOCX of one document model, read back (pdftotext, python-docx) and drawn to images
(pdftoppm; LibreOffice for the DOCX).

TRACKER_UPDATE_DOCS_IMAGES=1 copies each first page to docs/screenshots/report-pdf.png
and report-docx.png.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.reports import official
from tracker.reports.document import ROWS, date_line
from tracker.reports.history import daily_report
from tracker.reports.letterhead import set_report_settings

DAY = date(2026, 11, 17)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
                                   reason="poppler-utils missing")
needs_libreoffice = pytest.mark.skipif(not shutil.which("soffice"),
                                       reason="LibreOffice (libreoffice-writer-nogui) missing")


def _red_tasks(users, units, titles):
    """Tasks assigned on Friday 13/11 that never got an update: red at Tuesday's cutoff."""
    for title in titles:
        make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0), title=title,
                  owner_name="Chủ tịch UBND đặc khu Cô Tô")
    cutoff_through(DAY, ict(2026, 11, 17, 17, 0))
    db.session.commit()


@pytest.fixture
def report(users, units):
    titles = ["Rà soát tài sản công dôi dư"] + [f"Số hoá hồ sơ đất đai đợt {n}"
                                                for n in range(1, 25)]
    _red_tasks(users, units, titles)
    set_report_settings(users["admin"], units["province"], {
        "parent_body": "UBND tỉnh Quảng Ninh", "issuing_body": "Văn phòng",
        "symbol": "bc-vp", "place": "Quảng Ninh", "signer_authority": "KT. Chánh Văn phòng",
        "signer_title": "Phó Chánh Văn phòng", "signer_name": "Nguyễn Thị Bình",
        "recipients": "Thường trực Tỉnh uỷ (b/c)\nChủ tịch, các PCT UBND tỉnh\nLưu: VT, TH"},
        now=ict(2026, 11, 17, 17, 30))
    db.session.commit()
    return daily_report(units["province"], DAY, red_limit=ROWS)


def _pdf_text(path: Path, *pages: int) -> str:
    span = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return subprocess.run(["pdftotext", "-layout", *span, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _first_page_png(pdf: Path, out: Path, name: str) -> Path:
    subprocess.run(["pdftoppm", "-r", "80", "-f", "1", "-l", "1", "-singlefile", "-png",
                    str(pdf), str(out / name)], check=True)
    image = out / f"{name}.png"
    if os.environ.get("TRACKER_UPDATE_DOCS_IMAGES"):
        shutil.copy(image, DOCS / f"{name}.png")
    return image


def _is_a_drawn_page(image: Path) -> None:
    from PIL import Image

    with Image.open(image) as picture:
        width, height = picture.size
        assert abs(height / width - 297 / 210) < 0.01  # A4, portrait
        histogram = picture.convert("L").histogram()
    dark = sum(histogram[:128])
    assert dark > 0.01 * width * height  # text, not a blank page


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_the_date_line_writes_days_below_10_and_january_february_with_a_zero():
    assert date_line("Quảng Ninh", date(2026, 2, 5)) == "Quảng Ninh, ngày 05 tháng 02 năm 2026"
    assert date_line("Hạ Long", date(2026, 11, 17)) == "Hạ Long, ngày 17 tháng 11 năm 2026"


@needs_poppler
def test_the_pdf_is_an_a4_administrative_document(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(official.report_pdf(report))
    text = _one_line(_pdf_text(pdf))
    for part in ("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "UBND TỈNH QUẢNG NINH", "VĂN PHÒNG", "/BC-VP",
                 "Quảng Ninh, ngày 17 tháng 11 năm 2026", "BÁO CÁO",
                 "tính đến 16 giờ 00 ngày 17/11/2026", "I. TÌNH HÌNH CHUNG",
                 "Hoàn thành đúng hạn", "IV. NHIỆM VỤ ĐỎ", "Rà soát tài sản công dôi dư",
                 "Đặc khu Cô Tô", "Nơi nhận:", "- Thường trực Tỉnh uỷ (b/c);", "- Lưu: VT, TH.",
                 "KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG", "Nguyễn Thị Bình"):
        assert part in text, part
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    assert "Báo cáo giám sát việc thực hiện nhiệm vụ của Quảng Ninh tính đến 16 giờ 00 " \
           "ngày 17/11/2026" in info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    embedded = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]
                if " yes yes " in line}  # embedded, as a subset
    assert {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic"} <= embedded


@needs_poppler
def test_pages_after_the_first_carry_their_number_at_the_top(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(official.report_pdf(report))
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    count = int(next(line.split()[-1] for line in pages.splitlines()
                     if line.startswith("Pages:")))
    assert count >= 2  # 25 red tasks
    assert _pdf_text(pdf, 1).split()[0] == "UBND"  # Decree 30: no number on page 1
    for page in range(2, count + 1):
        assert _pdf_text(pdf, page).split()[0] == str(page)


def test_the_docx_reads_back_as_the_same_document(report):
    from docx import Document

    document = Document(io.BytesIO(official.report_docx(report)))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert section.different_first_page_header_footer
    assert "PAGE" in section.header._element.xml
    assert document.styles["Normal"].font.name == "Times New Roman"
    head = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc" in head[1]
    assert "Quảng Ninh, ngày 17 tháng 11 năm 2026" in head
    paragraphs = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in paragraphs
    assert ("Giám sát việc thực hiện nhiệm vụ của Quảng Ninh tính đến 16 giờ 00 ngày "
            "17/11/2026") in paragraphs
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert {"Rà soát tài sản công dôi dư", "Đặc khu Cô Tô", "Nguyễn Thị Bình"} <= {
        line for cell in cells for line in cell.split("\n")}
    assert document.core_properties.title.startswith("Báo cáo giám sát")


@needs_poppler
@needs_libreoffice
def test_the_pdf_and_the_docx_draw_the_same_first_page(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(official.report_pdf(report))
    docx = tmp_path / "report.docx"
    docx.write_bytes(official.report_docx(report))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path / "lo-out"), str(docx)],
                   capture_output=True, check=True, timeout=180)
    from_docx = tmp_path / "lo-out" / "report.pdf"
    for drawn in (pdf, from_docx):
        first = _one_line(_pdf_text(drawn, 1))
        for part in ("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Số:", "/BC-VP", "BÁO CÁO", "tính đến 16 giờ 00 ngày 17/11/2026",
                     "I. TÌNH HÌNH CHUNG", "Hoàn thành đúng hạn"):
            assert part in first, (drawn, part)
        assert _pdf_text(drawn, 2).split()[0] == "2"
    _is_a_drawn_page(_first_page_png(pdf, tmp_path, "report-pdf"))
    _is_a_drawn_page(_first_page_png(from_docx, tmp_path, "report-docx"))


@needs_poppler
def test_user_text_is_printed_as_written_in_both(users, units, tmp_path):
    from docx import Document

    titles = ["<b>đậm</b> & <font color=red>đỏ</font>", '=HYPERLINK("http://x.example","y")',
              "Ký tự\x0blạ"]
    _red_tasks(users, units, titles)
    report = daily_report(units["province"], DAY, red_limit=ROWS)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(official.report_pdf(report))
    assert b"/URI" not in pdf.read_bytes()
    raw = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    text = "".join(raw.split())  # a long title wraps in its cell
    document = Document(io.BytesIO(official.report_docx(report)))
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    for title in titles[:2]:
        assert title.replace(" ", "") in text, title
        assert title in cells
    assert "Ký tựlạ" in cells  # the character XML cannot hold is dropped


def test_a_unit_without_settings_uses_its_defaults(users, units, tmp_path):
    from docx import Document

    _red_tasks(users, units, ["Rà soát tài sản công"])
    report = daily_report(units["ha_long"], DAY, red_limit=ROWS)
    document = Document(io.BytesIO(official.report_docx(report)))
    head = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert head[0].startswith("UBND PHƯỜNG HẠ LONG\n")
    assert "Hạ Long, ngày 17 tháng 11 năm 2026" in head
    assert any("Số:" in cell and "/BC-VP" in cell for cell in head)
