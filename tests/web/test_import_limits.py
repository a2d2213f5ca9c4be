"""An import cannot hurt the server: files past a limit are refused before they are
parsed, naming the limit; memory stays bounded; nothing is locked while a file is parsed.

The bombs are the ones measured in issue 12 (a shared-strings table of millions of
entries, one row of millions of cells, a part that unpacks to far more than the file),
built here by streaming into a zip, so that making them costs the test little."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import threading
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import csrf_token
from tests.web.test_import import HEADER, _csv, _report, _row, _upload, _xlsx
from tracker.extensions import db
from tracker.tasks.models import Task

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _rebuilt(parts: dict[str, object]) -> bytes:
    """A good XLSX with some parts replaced or added: each value is bytes, or a function
    writing the part to a stream (so that a bomb is never whole in memory). An added
    shared-strings table is declared, so that openpyxl reads it."""
    good = zipfile.ZipFile(io.BytesIO(_xlsx([_row()])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name in good.namelist() + [n for n in parts if n not in good.namelist()]:
            content = parts.get(name)
            if name == "[Content_Types].xml" and "xl/sharedStrings.xml" in parts:
                content = good.read(name).replace(b"</Types>", (
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>"))
            if content is None:
                bomb.writestr(name, good.read(name))
            elif callable(content):
                with bomb.open(name, "w") as stream:
                    content(stream)
            else:
                bomb.writestr(name, content)
    return out.getvalue()


def _repeat(head: bytes, item: bytes, times: int, tail: bytes):
    def write(stream):
        stream.write(head)
        block = item * 10_000
        for _ in range(times // 10_000):
            stream.write(block)
        stream.write(item * (times % 10_000))
        stream.write(tail)
    return write


def shared_strings_bomb(entries: int) -> bytes:
    return _rebuilt({"xl/sharedStrings.xml": _repeat(
        f'<?xml version="1.0"?><sst {NS} count="{entries}" uniqueCount="{entries}">'.encode(),
        b"<si><t>x</t></si>", entries, b"</sst>")})


def _numbered(head: str, item: str, times: int, tail: str):
    """head, then `item` with n = 0, 1, 2… (distinct, so compressed like real data)."""
    def write(stream):
        stream.write(head.encode())
        for start in range(0, times, 10_000):
            stream.write("".join(item.format(n=n) for n in range(
                start, min(times, start + 10_000))).encode())
        stream.write(tail.encode())
    return write


def many_strings(entries: int) -> bytes:
    """A table of distinct short texts: within the size limits, past the count."""
    return _rebuilt({"xl/sharedStrings.xml": _numbered(
        f'<?xml version="1.0"?><sst {NS}>', "<si><t>Ô {n}</t></si>", entries, "</sst>")})


def one_row_bomb(cells: int) -> bytes:
    return _rebuilt({"xl/worksheets/sheet1.xml": _repeat(
        f'<?xml version="1.0"?><worksheet {NS}><sheetData><row r="1">'.encode(),
        b'<c t="n"><v>1</v></c>', cells, b"</row></sheetData></worksheet>")})


def one_varied_row(cells: int) -> bytes:
    """One row of distinct cells: compressed like a real sheet, past the cells a row may
    hold."""
    return _rebuilt({"xl/worksheets/sheet1.xml": _numbered(
        f'<?xml version="1.0"?><worksheet {NS}><sheetData><row r="1">',
        "<c><v>{n}</v></c>", cells, "</row></sheetData></worksheet>")})


def huge_part_bomb(megabytes: int) -> bytes:
    return _rebuilt({"xl/media/image1.png": _repeat(b"", b"\0" * 1024, megabytes * 1024, b"")})


def _refused(client, data: bytes, filename: str = "bomb.xlsx"):
    response = _upload(client, data, filename)
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    return response, response.get_data(as_text=True)


def test_a_shared_strings_bomb_is_refused_by_the_size_of_its_table(login_as):
    data = shared_strings_bomb(3_000_000)  # 51 MB of strings in a few hundred KB
    assert len(data) < 400_000
    response, page = _refused(login_as("admin"), data)
    assert response.status_code == 413
    assert "TRACKER_IMPORT_MAX_STRINGS_MB" in page and "table of texts" in page


def test_a_table_of_too_many_short_strings_is_refused_while_it_is_read(login_as):
    response, page = _refused(login_as("admin"), many_strings(150_000))
    assert response.status_code == 422
    assert "TRACKER_IMPORT_MAX_STRINGS" in page and "100000 entries" in page


def test_one_row_of_millions_of_cells_is_refused(login_as):
    data = one_row_bomb(2_000_000)  # 42 MB of cells in a few hundred KB
    assert len(data) < 400_000
    response, page = _refused(login_as("admin"), data)
    assert response.status_code == 413 and "TRACKER_IMPORT_MAX_PART_MB" in page


def test_a_row_of_more_cells_than_allowed_is_refused_as_it_is_read(login_as):
    response, page = _refused(login_as("admin"), one_varied_row(500_000))
    assert response.status_code == 422
    assert "TRACKER_IMPORT_MAX_COLUMNS" in page and "more than 100 cells" in page


def test_a_part_that_unpacks_to_far_more_than_the_file_is_refused(login_as):
    data = huge_part_bomb(200)
    assert len(data) < 400_000
    response, page = _refused(login_as("admin"), data)
    assert response.status_code == 413 and "TRACKER_IMPORT_MAX_PART_MB" in page


def test_a_part_compressed_beyond_any_spreadsheet_is_refused(login_as):
    response, page = _refused(login_as("admin"), huge_part_bomb(5))
    assert response.status_code == 413 and "TRACKER_IMPORT_MAX_RATIO" in page


def test_too_many_parts_and_a_dtd_are_refused(login_as):
    client = login_as("admin")
    parts = {f"xl/extra/{n}.bin": b"x" for n in range(150)}
    response, page = _refused(client, _rebuilt(parts))
    assert response.status_code == 422 and "TRACKER_IMPORT_MAX_PARTS" in page
    laughs = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>'
              b'<sst ' + NS.encode() + b'><si><t>&a;</t></si></sst>')
    response, page = _refused(client, _rebuilt({"xl/sharedStrings.xml": laughs}))
    assert response.status_code == 422 and "could not be read" in page


def test_cells_over_the_limit_are_refused_across_rows(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_IMPORT_MAX_CELLS", 100)
    rows = [_row() for _ in range(10)]  # 11 rows of 14 cells
    client = login_as("admin")
    for data, name in ((_xlsx(rows), "t.xlsx"), (_csv(rows), "t.csv")):
        response, page = _refused(client, data, name)
        assert response.status_code == 422 and "TRACKER_IMPORT_MAX_CELLS" in page


def test_a_csv_row_of_too_many_cells_is_refused(login_as):
    data = _csv([_row() + ["x"] * 200])
    response, page = _refused(login_as("admin"), data, "t.csv")
    assert response.status_code == 422 and "TRACKER_IMPORT_MAX_COLUMNS" in page


def test_the_refusal_is_in_vietnamese_on_the_vietnamese_page(login_as):
    client = login_as("admin")
    client.get("/lang/vi")
    boundary, body = encode_multipart({
        "csrf_token": csrf_token(client, "/admin/import"),
        "file": FileStorage(io.BytesIO(one_varied_row(500)), "bomb.xlsx"),
    })
    response = client.post("/admin/import", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Một hàng có hơn 100 ô (giới hạn TRACKER_IMPORT_MAX_COLUMNS)" in page


def test_a_file_within_every_limit_still_imports(login_as):
    response = _upload(login_as("admin"), _xlsx([_row(), _row(title="Số hoá")]), "t.xlsx")
    assert response.status_code == 302


def test_the_service_names_the_limit(app):
    from tracker.tasks.import_files import read_table
    from tracker.tasks.import_limits import ImportLimits, LimitExceeded

    with pytest.raises(LimitExceeded) as refused:
        read_table("bomb.xlsx", one_varied_row(1000), ImportLimits())
    assert refused.value.limit == "TRACKER_IMPORT_MAX_COLUMNS"
    assert refused.value.fields == {"file": [refused.value.message]}


# --- memory -------------------------------------------------------------------------------

MEMORY_BOUND_MB = 150

_CHILD = r"""
import json, resource, sys
from pathlib import Path

def vm(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024  # MB

from tracker import create_app
from tracker.tasks.import_files import read_table
from tracker.tasks.import_limits import ImportLimits, ImportRejected

app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
warm, *files = [Path(p) for p in sys.argv[1:]]
with app.test_request_context():
    limits = ImportLimits.from_config(app.config)
    read_table("warm.xlsx", warm.read_bytes(), limits)  # load openpyxl & co. first
    baseline = vm("VmHWM")
    # Old code, or a limit that does not hold, fails here rather than taking the machine.
    room = (vm("VmSize") + 1024) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
    outcome = {}
    for path in files:
        try:
            rows = read_table(path.name, path.read_bytes(), limits)
            outcome[path.name] = f"{len(rows)} rows"
        except ImportRejected as exc:
            outcome[path.name] = getattr(exc, "limit", None) or exc.message
        except MemoryError:
            outcome[path.name] = "MemoryError"
print(json.dumps({"baseline": baseline, "peak": vm("VmHWM"), "outcome": outcome}))
"""


def _large_legal_xlsx(rows: int) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append(_row(title=f"Nhiệm vụ số {n}: rà soát, số hoá hồ sơ lưu trữ",
                          description=f"Mô tả chi tiết nhiệm vụ {n} " * 8))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_memory_stays_within_a_bound_whatever_the_file(tmp_path):
    files = {
        "warm.xlsx": _xlsx([_row()]),
        "large-legal.xlsx": _large_legal_xlsx(2000),
        "strings-size.xlsx": shared_strings_bomb(3_000_000),
        "strings-count.xlsx": many_strings(150_000),
        "one-row.xlsx": one_row_bomb(2_000_000),
        "varied-row.xlsx": one_varied_row(500_000),
        "huge-part.xlsx": huge_part_bomb(200),
        "wide.csv": _csv([_row()]) + b"," * 1_900_000,
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    done = subprocess.run([sys.executable, "-c", _CHILD, *paths], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(result)  # the figures, for docs/security.md
    assert result["outcome"] == {
        "large-legal.xlsx": "2001 rows",
        "strings-size.xlsx": "TRACKER_IMPORT_MAX_STRINGS_MB",
        "strings-count.xlsx": "TRACKER_IMPORT_MAX_STRINGS",
        "one-row.xlsx": "TRACKER_IMPORT_MAX_PART_MB",
        "varied-row.xlsx": "TRACKER_IMPORT_MAX_COLUMNS",
        "huge-part.xlsx": "TRACKER_IMPORT_MAX_PART_MB",
        "wide.csv": "TRACKER_IMPORT_MAX_COLUMNS",
    }
    assert result["peak"] - result["baseline"] < MEMORY_BOUND_MB, result


# --- no lock while parsing ----------------------------------------------------------------


def test_other_writers_go_on_while_an_import_is_parsed_on_sqlite(app, login_as, units,
                                                                  monkeypatch):
    """The import pauses inside its parse; meanwhile another writer, waiting at most
    half a second for the lock, must get it. (Before: the request's transaction, begun
    with BEGIN IMMEDIATE, held the write lock through the parse.)"""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write lock of a transaction is SQLite's")
    from tracker.tasks import importer

    parsing, written = threading.Event(), threading.Event()
    real = importer.read_table

    def slow_parse(*args, **kwargs):
        parsing.set()
        written.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "read_table", slow_parse)
    client = login_as("admin")
    unit_id, path = units["co_to"].id, db.engine.url.database
    db.session.rollback()  # the test itself holds nothing
    data = _xlsx([_row(title=f"Nhiệm vụ {n}") for n in range(300)])
    answer = {}
    worker = threading.Thread(target=lambda: answer.update(
        response=_upload(client, data, "large.xlsx")))
    worker.start()
    try:
        assert parsing.wait(10)
        other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE units SET name = name WHERE id = ?", (unit_id,))
            other.execute("COMMIT")
        finally:
            other.close()
    finally:
        written.set()
        worker.join(60)
    assert answer["response"].status_code == 302, _report(answer["response"])
    assert db.session.scalar(select(func.count()).select_from(Task)) == 300
