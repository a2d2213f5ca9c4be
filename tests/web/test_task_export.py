"""The task list as XLSX (web /tasks/export.xlsx, API GET /api/v1/tasks/export.xlsx): the
list's filter within one's scope, typed cells, and a file the importer reads back — into a
fresh database as it is, and here refused row by row, since an import only adds tasks."""

from __future__ import annotations

import io
import re
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import empty_database
from tests.factories import make_task, make_user
from tests.web.test_import import _report, _upload
from tracker import clock
from tracker.audit.models import SecurityEvent
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.tasks.models import Priority, Task
from tracker.units.importer import find_province, import_units
from tracker.units.models import Unit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(data: bytes) -> tuple[list, list[dict]]:
    sheet = load_workbook(io.BytesIO(data))["Nhiệm vụ"]
    header = [c.value for c in sheet[1]]
    return header, [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def _export(client, **query):
    response = client.get("/tasks/export.xlsx", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX
    assert "nhiem-vu-2026-11-18.xlsx" in response.headers["Content-Disposition"]
    return response


def test_the_export_holds_the_members_tasks_only_with_typed_cells(world, login_as):
    world.fresh.coordinating_units = [world.co_to.lead_unit]
    db.session.commit()
    header, rows = _rows(_export(login_as("ha_long")).data)
    assert sorted(r["Mã nhiệm vụ"].value for r in rows) == sorted(
        t.code for t in (world.overdue, world.silent, world.fresh))
    assert header[-3:] == ["Trạng thái", "Tiến độ", "Màu"]
    fresh = next(r for r in rows if r["Mã nhiệm vụ"].value == world.fresh.code)
    assert fresh["Hạn hoàn thành"].is_date
    assert fresh["Hạn hoàn thành"].value == datetime.combine(world.fresh.deadline,
                                                             datetime.min.time())
    assert fresh["Hạn hoàn thành"].number_format == "dd/mm/yyyy"
    assert fresh["Tiến độ"].value == 0.3 and fresh["Tiến độ"].number_format == "0%"
    assert fresh["Trạng thái"].value == "Đang thực hiện"
    assert fresh["Mức độ ưu tiên"].value == "Bình thường"
    lead = world.fresh.lead_unit
    assert fresh["Đơn vị chủ trì"].value == f"{lead.name} ({lead.code})"
    assert fresh["Đơn vị phối hợp"].value == f"Đặc khu Cô Tô ({world.co_to.lead_unit.code})"
    assert fresh["Tên nhiệm vụ"].data_type == "s"


def test_the_export_follows_the_lists_filter_and_is_recorded(world, login_as):
    # (every task's description speaks of "hồ sơ": the search reads descriptions too)
    _header, rows = _rows(_export(login_as("supervisor"), q="dat dai", colour="").data)
    assert [r["Tên nhiệm vụ"].value for r in rows] == [world.co_to.title]
    details = db.session.scalars(select(SecurityEvent.detail)).all()
    assert any(d and d.startswith("task_list 2026-11-18 xlsx") for d in details)


def test_a_bad_filter_is_refused_naming_the_field(world, login_as):
    response = login_as("supervisor").get("/tasks/export.xlsx?deadline_from=31/02/2026")
    assert response.status_code in (400, 422)
    assert "deadline_from" in response.get_data(as_text=True)


def test_the_api_exports_the_same_tasks_within_the_tokens_scope(world, users, client):
    _token, raw = create_token(None, users["co_to"], name="t", now=clock.now())
    db.session.commit()
    response = client.get("/api/v1/tasks/export.xlsx",
                          headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200 and response.mimetype == XLSX
    _header, rows = _rows(response.data)
    assert [r["Mã nhiệm vụ"].value for r in rows] == [world.co_to.code]
    refused = client.get("/api/v1/tasks/export.xlsx?colour=blue",
                         headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 422 and "colour" in refused.get_json()["fields"]


def test_an_exported_file_imported_here_is_refused_row_by_row_naming_the_code(world, login_as):
    client = login_as("admin")
    data = _export(client).data
    response = _upload(client, data, "nhiem-vu.xlsx")
    assert response.status_code == 422
    report = _report(response)
    assert {c for _r, c, _m in report} == {"Mã nhiệm vụ"}
    assert len(report) == 4
    assert all("import only adds tasks" in m for _r, _c, m in report)
    assert db.session.scalar(select(func.count()).select_from(Task)) == 4


def _fresh_database() -> None:
    """Another Tracker: every table emptied, then the same unit tree and an admin."""
    empty_database()
    import_units([find_province("Quảng Ninh")])
    make_user("admin", "admin",
              db.session.scalar(select(Unit).where(Unit.short_name == "quang_ninh")))
    db.session.commit()


def test_an_exported_file_imports_into_a_fresh_database_as_it_is(world, login_as, client):
    admin = login_as("admin")
    world.fresh.priority = Priority.URGENT
    world.fresh.coordinating_units = [world.co_to.lead_unit]
    db.session.commit()
    exported = _export(admin).data
    _header, before = _rows(exported)
    _fresh_database()
    response = _upload(login_as("admin"), exported, "nhiem-vu.xlsx")
    assert response.status_code == 302, _report(response)
    _header, after = _rows(_export(client).data)
    kept = [c for c in _header if c not in ("Trạng thái", "Tiến độ", "Màu")]
    assert [[r[c].value for c in kept] for r in after] == \
        [[r[c].value for c in kept] for r in before]
    assert {r["Trạng thái"].value for r in after} == {"Chưa thực hiện"}


def test_text_that_looks_like_a_formula_is_exported_as_text(users, units, login_as):
    title = '=HYPERLINK("http://evil.example","Bấm vào đây")'
    make_task(users["admin"], units["ha_long"], title=title, owner_name="@SUM(1)")
    _header, rows = _rows(_export(login_as("admin")).data)
    assert rows[0]["Tên nhiệm vụ"].value == title
    assert rows[0]["Tên nhiệm vụ"].data_type == "s"
    assert rows[0]["Người chịu trách nhiệm"].data_type == "s"


def test_the_list_links_to_its_export_with_its_filter(world, login_as):
    page = login_as("supervisor").get("/tasks?colour=red&status=open").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)"[^>]*data-testid="task-export"', page)
    assert link and link.group(1).startswith("/tasks/export.xlsx?")
    assert "colour=red" in link.group(1) and "status=open" in link.group(1)
