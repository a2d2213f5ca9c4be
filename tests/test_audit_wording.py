"""The audit trail in words (tracker.tasks.wording): actions as verbs, fields as the forms
label them, statuses as the UI names them, times in ICT as dd/mm/yyyy — on the task page
and in the CSV alike; and every action and field the code writes has its words."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import ict, make_task
from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.rules.store import POLICY_DEFAULTS
from tracker.tasks.editing import EDITABLE, update_task
from tracker.tasks.lifecycle import (
    decide_extension,
    request_extension,
    return_completion,
    submit_completion,
)
from tracker.tasks.service import COMMENT_KINDS
from tracker.tasks.wording import ACTION_LABELS, AUDIT_FIELD_LABELS, describe
from tracker.updates.service import post_update

TRACKER = Path(__file__).resolve().parent.parent / "tracker"
WRITERS = {"record", "record_changes", "_change", "change_rows"}  # tracker.audit.service
NOT_FIELDS = {"at", "field", "old", "new", "note"}  # keywords of the writers themselves


def _written_in_code() -> tuple[set[str], set[str]]:
    """Every action and field the code writes to the audit trail as a literal: the action
    argument of each writer's call, `field=`, `_change`'s fields and a change map's keys."""
    actions, fields = set(), set()
    for path in TRACKER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign):  # changes["progress"] = (old, new)
                for target in node.targets:
                    if isinstance(target, ast.Subscript) and isinstance(
                            target.value, ast.Name) and target.value.id == "changes" \
                            and isinstance(target.slice, ast.Constant):
                        fields.add(target.slice.value)
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in WRITERS:
                continue
            if len(node.args) > 2 and isinstance(node.args[2], ast.Constant):
                actions.add(node.args[2].value)
            for keyword in node.keywords:
                if keyword.arg == "field" and isinstance(keyword.value, ast.Constant):
                    fields.add(keyword.value.value)
                elif name == "_change" and keyword.arg and keyword.arg not in NOT_FIELDS:
                    fields.add(keyword.arg)
    return actions, fields


def test_every_action_the_code_writes_has_a_verb():
    actions, _ = _written_in_code()
    assert {"create", "submit", "return", "policy", "nudge"} <= actions  # the scan works
    assert (actions | set(COMMENT_KINDS)) - set(ACTION_LABELS) == set()


def test_every_field_the_code_writes_has_a_label(users, units, clock):
    _, fields = _written_in_code()
    assert {"status", "progress", "submitted_at", "requested_deadline", "deadline"} <= fields
    task = make_task(users["admin"], units["ha_long"], at=clock())
    created = db.session.scalar(select(AuditEntry.new_value).where(
        AuditEntry.task_id == task.id, AuditEntry.action == "create"))
    fields |= set(json.loads(created)) | set(EDITABLE) | set(POLICY_DEFAULTS)
    assert fields - set(AUDIT_FIELD_LABELS) == set()


def test_an_unknown_action_or_field_is_shown_as_stored(app):
    entry = SimpleNamespace(action="archive", field="shelf_mark", old_value="A-1",
                            new_value="B-2", note=None, actor=None,
                            at=datetime(2026, 11, 29, 17, 46, 29, tzinfo=ZoneInfo("UTC")))
    with app.test_request_context():
        line, = describe([entry])
    assert (line.action, str(line.changes[0])) == ("archive", "shelf_mark: A-1 → B-2")
    assert line.at == "30/11/2026 00:46:29"  # ICT: the next day


@pytest.fixture
def trail(users, units):
    """A task created, updated, submitted after 00:00 ICT (17:46 UTC the day before) and
    returned; an extension requested and approved; the deadline edited."""
    member, supervisor, admin = users["ha_long"], users["supervisor"], users["admin"]
    task = make_task(admin, units["ha_long"], at=ict(2026, 11, 16, 9, 0),
                     deadline="2026-12-31", priority="high")
    post_update(member, task, {"progress": 72, "work_done": "Đã số hoá"},
                now=ict(2026, 11, 17, 10, 0))
    submit_completion(member, task, result="Kho hồ sơ điện tử",
                      now=ict(2026, 11, 30, 0, 46, 29))
    return_completion(supervisor, task, note="Bổ sung biên bản", now=ict(2026, 11, 30, 9, 0))
    request = request_extension(member, task, new_deadline="15/01/2027", reason="Chờ số liệu",
                                now=ict(2026, 11, 30, 10, 0))
    decide_extension(supervisor, request, approve=True, note=None,
                     now=ict(2026, 11, 30, 11, 0))
    update_task(admin, task, {"priority": "urgent"}, now=ict(2026, 11, 30, 12, 0))
    db.session.commit()
    return task


def _audit_section(page: str) -> str:
    return re.search(r'<table class="audit"[^>]*>\s*<thead><tr><th>[^<]*</th><th>[^<]*</th>'
                     r'<th>[^<]*</th><th>[^<]*</th></tr></thead>(.*?)</table>', page,
                     re.S).group(1)


def test_the_task_page_tells_the_trail_in_words(login_as, trail):
    page = login_as("supervisor").get(f"/tasks/{trail.id}").get_data(as_text=True)
    audit = _audit_section(page)
    for words in ("Tạo nhiệm vụ", "Báo cáo tiến độ", "Đề nghị xác nhận hoàn thành",
                  "Trả lại hoàn thành", "Đề nghị gia hạn", "Đồng ý gia hạn", "Sửa nhiệm vụ",
                  "Tiến độ: 0% → 72%", "Tiến độ: 72% → 100%",
                  "Trạng thái: Chưa thực hiện → Đang thực hiện",
                  "Trạng thái: Đang thực hiện → Chờ xác nhận",
                  "Hạn hoàn thành: 31/12/2026 → 15/01/2027",
                  "Mức độ ưu tiên: Quan trọng → Khẩn",
                  "30/11/2026 00:46:29", "30/11/2026 00:46", "Bổ sung biên bản"):
        assert words in audit, words
    # No code, no ISO date, no UTC time.
    for code in ("progress:", "status:", "in_progress", "submitted_at", "+00:00",
                 "2026-11-29", "Ngày tạo"):
        assert code not in audit, code


def test_the_csv_says_it_in_the_same_words(login_as, trail):
    response = login_as("supervisor").get(f"/tasks/{trail.id}/audit.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Thời gian", "Người thực hiện", "Thao tác", "Nội dung thay đổi",
                       "Giá trị cũ", "Giá trị mới", "Ghi chú"]
    by_field = {(row[2], row[3]): row for row in rows[1:]}
    submitted = by_field[("Đề nghị xác nhận hoàn thành", "Thời điểm gửi đề nghị xác nhận")]
    assert submitted[0] == "30/11/2026 00:46:29" and submitted[5] == "30/11/2026 00:46"
    assert by_field[("Đề nghị xác nhận hoàn thành", "Trạng thái")][4:6] == [
        "Đang thực hiện", "Chờ xác nhận"]
    returned = by_field[("Trả lại hoàn thành", "Trạng thái")]
    assert returned[4:7] == ["Chờ xác nhận", "Bị trả lại", "Bổ sung biên bản"]
    created = [row for row in rows if row[2] == "Tạo nhiệm vụ"]
    assert ["Hạn hoàn thành", "", "31/12/2026"] in [row[3:6] for row in created]
    assert ["Đơn vị chủ trì", "", "Phường Hạ Long"] in [row[3:6] for row in created]
    cells = " ".join(c for row in rows for c in row)
    for code in ("in_progress", "submitted_at", "+00:00", "2026-11-29"):
        assert code not in cells, code


def test_english_reads_the_same_trail_in_english(login_as, trail):
    client = login_as("supervisor")
    client.get("/lang/en")
    audit = _audit_section(client.get(f"/tasks/{trail.id}").get_data(as_text=True))
    assert "Returned the completion" in audit and "Created the task" in audit
    assert "Status: In progress → Awaiting confirmation" in audit


def test_a_value_that_cannot_be_read_is_shown_as_stored(app):
    """A value the presenter cannot read is shown as stored, never lost."""
    entry = SimpleNamespace(action="edit", field="deadline", old_value="not a date",
                            new_value=date(2027, 1, 15).isoformat(), note=None, actor=None,
                            at=datetime(2026, 11, 30, 5, 0, tzinfo=ZoneInfo("UTC")))
    with app.test_request_context():
        line, = describe([entry])
    assert (line.changes[0].old, line.changes[0].new) == ("not a date", "15/01/2027")
