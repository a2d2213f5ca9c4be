"""Importing tasks from XLSX and CSV: all or nothing, with every fault reported by row and
column; a template to start from; limits on what is accepted."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import csrf_token
from tests.factories import make_user
from tracker.extensions import db
from tracker.tasks.columns import IMPORTED
from tracker.tasks.importer import ImportLimits, ImportRejected, import_tasks
from tracker.tasks.models import Task

MAX_BYTES = ImportLimits().max_bytes

HEADER = ["title", "description", "lead_unit", "owner_name", "start_date", "deadline",
          "leader_in_charge", "expected_output", "assigning_authority", "source_doc_number",
          "source_doc_date", "field", "priority", "coordinating_units"]


def _row(lead="ha_long", **overrides) -> list:
    values = {
        "title": "Rà soát tài sản công dôi dư",
        "description": "Rà soát trụ sở, xe ô tô dôi dư sau sắp xếp.",
        "lead_unit": lead,
        "owner_name": "Chủ tịch UBND phường",
        "start_date": "16/11/2026",
        "deadline": "2026-12-31",
        "leader_in_charge": "Phó Chủ tịch UBND tỉnh",
        "expected_output": "Danh mục tài sản và phương án xử lý",
        "assigning_authority": "Ban Chỉ đạo tỉnh",
        "source_doc_number": "05-TB/BCĐ",
        "source_doc_date": "01/11/2026",
        "field": "Tài sản công",
        "priority": "high",
        "coordinating_units": "",
    }
    values.update(overrides)
    return [values[column] for column in HEADER]


def _xlsx(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows, header=HEADER, delimiter=",", encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


FORMATS = {"xlsx": _xlsx, "csv": _csv}
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def _upload(client, data: bytes, filename: str):
    client.get("/lang/en")
    # Encoded here, in memory: the test client would spool a big body to a temporary file
    # that nobody closes (a ResourceWarning, an error under filterwarnings=error).
    boundary, body = encode_multipart({
        "csrf_token": csrf_token(client, "/admin/import"),
        "file": FileStorage(io.BytesIO(data), filename),
    })
    return client.post("/admin/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _tasks() -> int:
    return db.session.scalar(select(func.count()).select_from(Task))


def _report(response) -> list[tuple[str, str, str]]:
    """(row, column, message) of the page's error report."""
    page = response.get_data(as_text=True)
    table = re.search(r'<table class="listing row-errors">(.*?)</table>', page, re.S)
    assert table, page[:2000]
    return [tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in cells)
            for cells in re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td>(.*?)</td>",
                                    table.group(1))]


@pytest.mark.parametrize("kind", FORMATS)
def test_a_good_file_imports_every_row(login_as, units, kind):
    rows = [_row("ha_long"), _row("co_to", title="Số hoá hồ sơ", priority="khẩn",
                                  coordinating_units="ha_long; bai_chay")]
    response = _upload(login_as("admin"), FORMATS[kind](rows), f"tasks.{kind}")
    assert response.status_code == 302
    tasks = db.session.scalars(select(Task).order_by(Task.id)).all()
    assert [t.lead_unit_id for t in tasks] == [units["ha_long"].id, units["co_to"].id]
    assert str(tasks[1].priority) == "urgent"
    assert sorted(u.id for u in tasks[1].coordinating_units) == sorted(
        [units["ha_long"].id, units["bai_chay"].id])
    assert tasks[0].start_date.isoformat() == "2026-11-16"


@pytest.mark.parametrize("kind", FORMATS)
def test_a_bad_row_imports_nothing_and_is_reported_by_row_and_column(login_as, kind):
    rows = [_row(), _row(deadline="31/02/2026"), _row(), _row(lead="atlantis", title="")]
    response = _upload(login_as("admin"), FORMATS[kind](rows), f"tasks.{kind}")
    assert response.status_code == 422
    assert _tasks() == 0
    report = _report(response)
    assert ("3", "deadline") in [(r, c) for r, c, _m in report]
    assert ("5", "lead_unit") in [(r, c) for r, c, _m in report]
    assert ("5", "title") in [(r, c) for r, c, _m in report]
    assert not [r for r, _c, _m in report if r in ("2", "4")]
    title_error = next(m for r, c, m in report if (r, c) == ("5", "title"))
    assert "rõ việc" in title_error
    assert "atlantis" in next(m for r, c, m in report if (r, c) == ("5", "lead_unit"))
    assert "Nothing was imported" in response.get_data(as_text=True)


def test_a_unit_outside_the_admins_subtree_is_a_row_error(login_as, units):
    make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    response = _upload(login_as("co_to_admin"), _csv([_row("co_to"), _row("ha_long")]),
                       "t.csv")
    assert response.status_code == 422 and _tasks() == 0
    assert [(r, c) for r, c, _m in _report(response)] == [("3", "lead_unit")]


def test_a_code_used_twice_in_the_file_is_reported(login_as):
    header = [*HEADER, "code"]
    rows = [[*_row(), "NV-A"], [*_row(), "NV-A"]]
    response = _upload(login_as("admin"), _xlsx(rows, header), "t.xlsx")
    assert response.status_code == 422 and _tasks() == 0
    assert [(r, c) for r, c, _m in _report(response)] == [("3", "code")]


def test_missing_and_unknown_columns_are_reported_on_the_header_row(login_as):
    header = [c for c in HEADER if c != "deadline"] + ["deadlin"]
    rows = [[v for c, v in zip(HEADER, _row(), strict=True) if c != "deadline"] + ["x"]]
    response = _upload(login_as("admin"), _csv(rows, header), "t.csv")
    assert response.status_code == 422 and _tasks() == 0
    report = [(r, c) for r, c, _m in _report(response)]
    assert ("1", "deadlin") in report and ("1", "deadline") in report


def test_vietnamese_headings_semicolons_and_excel_number_codes_are_understood(login_as, units):
    header = ["Tên nhiệm vụ", "Nội dung", "Đơn vị chủ trì", "Người chịu trách nhiệm",
              "Ngày bắt đầu", "Hạn hoàn thành", "Lãnh đạo phụ trách", "Sản phẩm",
              "Cơ quan giao", "Số ký hiệu", "Ngày văn bản"]
    code = int(units["co_to"].code)  # Excel turns "07192" into 7192
    row = [*_row()[:2], str(code), *_row()[3:11]]
    response = _upload(login_as("admin"), _csv([row], header, delimiter=";"), "t.csv")
    assert response.status_code == 302
    assert db.session.scalar(select(Task.lead_unit_id)) == units["co_to"].id


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Excel writes it: a precomposed letter, then the tone as a mark."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        tone = next(m for m in marks if m in TONE_MARKS)
        rest = "".join(m for m in marks if m != tone)
        out += unicodedata.normalize("NFC", base + rest).encode("cp1258") + tone.encode("cp1258")
    return out


def test_windows_1258_csv_is_read(login_as, units):
    data = _cp1258(_csv([_row("Đặc khu Cô Tô")], encoding="utf-8").decode("utf-8"))
    response = _upload(login_as("admin"), data, "t.csv")
    assert response.status_code == 302
    assert db.session.scalar(select(Task.lead_unit_id)) == units["co_to"].id


@pytest.mark.parametrize("filename,data", [
    ("tasks.txt", b"title\nx"),
    ("tasks.xlsx", b"this is not a spreadsheet"),
    ("tasks.csv", b""),
    ("tasks.csv", b"\xef\xbb\xbf" + ",".join(HEADER).encode()),  # a header and no rows
])
def test_unreadable_or_empty_files_are_refused_with_a_message(login_as, filename, data):
    response = _upload(login_as("admin"), data, filename)
    assert response.status_code == 422 and _tasks() == 0
    assert 'data-testid="import-report"' in response.get_data(as_text=True)


def test_no_file_chosen_is_a_message_not_an_error(login_as):
    client = login_as("admin")
    token = csrf_token(client, "/admin/import")
    response = client.post("/admin/import", data={"csrf_token": token})
    assert response.status_code == 422


def test_a_file_over_the_size_limit_is_refused(login_as):
    data = _csv([_row()]) + b"x" * (MAX_BYTES + 1)
    response = _upload(login_as("admin"), data, "big.csv")
    assert response.status_code == 413 and _tasks() == 0
    assert 'data-testid="import-report"' in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", FORMATS)
def test_the_template_has_the_documented_columns_and_imports_as_is(login_as, kind):
    client = login_as("admin")
    response = client.get(f"/admin/import/template.{kind}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    if kind == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Nhiệm vụ"]
        header = [c.value for c in sheet[1]]
    else:
        header = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert header == [column.header for column in IMPORTED]
    assert header[8] == "Lãnh đạo phụ trách"
    assert _upload(client, response.data, f"template.{kind}").status_code == 302
    assert _tasks() == 1


@pytest.mark.parametrize("username", ["supervisor", "ha_long", "viewer"])
def test_only_admins_import(login_as, username):
    client = login_as(username)
    response = client.post("/admin/import", data={
        "csrf_token": csrf_token(client, "/tasks"), "file": (io.BytesIO(_csv([_row()])), "t.csv")})
    assert response.status_code == 403 and _tasks() == 0


def test_the_service_leaves_nothing_behind_when_it_refuses(users, clock):
    with pytest.raises(ImportRejected) as refused:
        import_tasks(users["admin"], "t.csv", _csv([_row(), _row(owner_name="")]), now=clock())
    db.session.rollback()
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, "owner_name")]
    assert _tasks() == 0


def test_blank_rows_keep_the_files_row_numbers(login_as):
    rows = [[], _row(), [""] * len(HEADER), [], _row(owner_name=""), []]
    response = _upload(login_as("admin"), _xlsx(rows), "t.xlsx")
    assert response.status_code == 422 and _tasks() == 0
    assert [(r, c) for r, c, _m in _report(response)] == [("6", "owner_name")]


def test_more_rows_than_allowed_are_refused_whole(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_IMPORT_MAX_TASKS", 3)
    response = _upload(login_as("admin"), _csv([_row() for _ in range(4)]), "t.csv")
    assert response.status_code == 422 and _tasks() == 0
    assert _report(response)[0][0] == "5"
