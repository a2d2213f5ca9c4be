"""Downloads run nothing: user text never becomes a CSV or XLSX formula, never PDF markup,
and never reaches a Content-Disposition header unescaped (issue 12, item 2)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import update

from tests.conftest import csrf_token
from tests.factories import cutoff_through, ict, make_task
from tracker import clock
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.reports.export import report_pdf
from tracker.reports.history import daily_report
from tracker.tasks.models import Task

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]


def _make_red(users, units, titles):
    for title in titles:
        make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0), title=title)
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()


@pytest.fixture
def formula_report(users, units):
    _make_red(users, units, FORMULAS)
    return daily_report(units["province"], date(2026, 11, 17))


def test_neutralise_follows_owasp_and_leaves_numbers_alone():
    from tracker.downloads import neutralise

    assert [neutralise(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert [neutralise(v) for v in (3, 2.5, None, "-5", "+84 912", "Hạ Long", "a=b")] == \
        [3, 2.5, None, "-5", "'+84 912", "Hạ Long", "a=b"]


def _download(login_as, users, url: str):
    """The supervisor's download: with the session on the web, with a token on the API."""
    client = login_as("supervisor")
    headers = {}
    if url.startswith("/api"):
        _token, raw = create_token(None, users["supervisor"], name="t", now=clock.now())
        db.session.commit()
        headers = {"Authorization": f"Bearer {raw}"}
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("url", ["/reports/daily.csv?date=2026-11-17",
                                 "/api/v1/reports/daily?date=2026-11-17&format=csv"])
def test_report_csv_cells_are_never_formulas(formula_report, login_as, users, url):
    response = _download(login_as, users, url)
    cells = [c for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig")))
             for c in row]
    for title in FORMULAS:  # the service strips the tab and the CR of the last two
        assert "'" + title.strip() in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")
                and not re.fullmatch(r"-?\d+", c)]


@pytest.mark.parametrize("url", ["/reports/daily.xlsx?date=2026-11-17",
                                 "/api/v1/reports/daily?date=2026-11-17&format=xlsx"])
def test_report_xlsx_writes_text_as_text_and_numbers_as_numbers(formula_report, login_as,
                                                                 users, url):
    from openpyxl import load_workbook

    response = _download(login_as, users, url)
    book = load_workbook(io.BytesIO(response.data))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    by_value = {c.value: c for c in cells}
    for title in FORMULAS[:4]:
        assert by_value[title].data_type == "s", title
    # The counts stay numbers: the summary's "Tasks" is the number of tasks.
    assert any(c.data_type == "n" and c.value == len(FORMULAS) for c in cells)


def test_the_audit_csv_neutralises_what_a_member_wrote(users, units, login_as):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    client = login_as("ha_long")
    token = csrf_token(client, f"/tasks/{task.id}")
    for body in ('=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1"):
        response = client.post(f"/tasks/{task.id}/comments",
                               data={"csrf_token": token, "comment-body": body})
        assert response.status_code == 302
    response = client.get(f"/tasks/{task.id}/audit.csv")
    cells = [c for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig")))
             for c in row]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "'@SUM(1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]


# --- the PDF ------------------------------------------------------------------------------


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")
def test_the_pdf_prints_markup_in_titles_literally_and_embeds_nothing(users, units, tmp_path):
    picture = tmp_path / "secret.png"
    Image.new("RGB", (40, 40), "red").save(picture)
    titles = [f'<img src="{picture}" width="40" height="40"/>',
              '<a href="http://attacker.example/">bấm vào đây</a>',
              '"><img src=x onerror=alert(1)>',
              "<b>đậm</b> & <font color=red>đỏ</font>"]
    _make_red(users, units, titles)
    data = report_pdf(daily_report(units["province"], date(2026, 11, 17)))
    assert b"/Subtype /Image" not in data and b"/URI" not in data and b"/Annots" not in data
    text = " ".join(_pdf_text(data, tmp_path).split())
    for title in titles:
        # A long title wraps in its table cell: compare without the spaces.
        assert title.replace(" ", "") in text.replace(" ", ""), title


# --- file names ---------------------------------------------------------------------------


def test_content_disposition_gives_an_ascii_name_and_the_exact_one():
    from tracker.downloads import content_disposition

    assert content_disposition("bao-cao-giam-sat-2026-11-17.csv") == \
        'attachment; filename="bao-cao-giam-sat-2026-11-17.csv"'
    value = content_disposition('Báo cáo "đỏ"\r\nSet-Cookie: x=1.csv')
    assert "\r" not in value and "\n" not in value
    ascii_part = re.search(r'filename="([^"]*)"', value).group(1)
    assert ascii_part.isascii() and '"' not in ascii_part
    assert value.endswith("filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20_%C4%91%E1%BB%8F___"
                          "Set-Cookie%3A%20x%3D1.csv")


@pytest.mark.parametrize("code", ['NV"; filename="evil.exe', "NV\r\nSet-Cookie: a=b",
                                  "NV-Hạ-Long-số-1"])
def test_the_audit_csv_of_any_task_code_downloads_with_a_safe_name(users, units, login_as,
                                                                   code):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    db.session.execute(update(Task).where(Task.id == task.id).values(code=code))
    db.session.commit()
    response = login_as("admin").get(f"/tasks/{task.id}/audit.csv")
    assert response.status_code == 200
    headers = response.headers.getlist("Content-Disposition")
    assert len(headers) == 1 and "Set-Cookie" not in response.headers
    value = headers[0]
    assert "\r" not in value and "\n" not in value
    assert re.fullmatch(r'attachment; filename="[^"]*"(; filename\*=UTF-8\'\'[^\s";]+)?',
                        value), value
