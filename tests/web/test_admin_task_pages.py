"""The admin's task changes on the page: the edit form with its version check, reassigning
and cancelling from the task page — through the forms, with CSRF, in Vietnamese."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.factories import ict, make_task, make_user
from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.tasks.editing import update_task
from tracker.tasks.models import Status, Task


@pytest.fixture
def task(users, units):
    return make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                     title="Số hoá hồ sơ lưu trữ")


def _fresh(task) -> Task:
    db.session.rollback()
    return db.session.get(Task, task.id)


def _edit_form(client, task, **changes) -> dict:
    """The edit page's form as the browser would send it, with `changes` typed in."""
    html = client.get(f"/admin/tasks/{task.id}/edit").get_data(as_text=True)
    form = {name: value for name, value in re.findall(
        r'<input id="f-(\w+)" name="\w+" type="\w+" value="([^"]*)"', html)}
    for name in ("description", "expected_output"):
        form[name] = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', html).group(1)
    form["priority"] = "normal"
    form["lead_unit_id"] = str(task.lead_unit_id)
    form["version"] = re.search(r'name="version" value="(\d+)"', html).group(1)
    form["csrf_token"] = csrf_token(client, f"/admin/tasks/{task.id}/edit")
    form.update(changes)
    return form


def test_the_task_page_offers_an_admin_the_changes_and_no_one_else(app, login_as, task):
    page = login_as("admin").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Quản trị nhiệm vụ" in page and f"/admin/tasks/{task.id}/edit" in page
    assert f"/admin/tasks/{task.id}/reassign" in page and f"/admin/tasks/{task.id}/cancel" in page
    for other in ("supervisor", "ha_long"):
        client = app.test_client()
        assert login(client, other).status_code == 302
        page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert "/admin/tasks/" not in page, other


def test_the_edit_page_shows_the_task_with_its_version(login_as, task):
    html = login_as("admin").get(f"/admin/tasks/{task.id}/edit").get_data(as_text=True)
    assert 'value="Số hoá hồ sơ lưu trữ"' in html
    assert 'name="version" value="1"' in html
    assert 'id="f-code"' not in html  # the code stays


def test_an_edit_is_saved_audited_and_shown(login_as, task):
    client = login_as("admin")
    answer = client.post(f"/admin/tasks/{task.id}/edit",
                         data=_edit_form(client, task, deadline="15/01/2027",
                                         note="Theo chỉ đạo"))
    assert answer.status_code == 302
    task = _fresh(task)
    assert str(task.deadline) == "2027-01-15" and task.version == 2
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "edit"))
    assert (entry.field, entry.note) == ("deadline", "Theo chỉ đạo")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "15/01/2027" in page and "đơn vị đã được thông báo" in page


def test_an_edit_without_the_csrf_token_is_refused(login_as, task):
    client = login_as("admin")
    form = _edit_form(client, task, title="Không có mã")
    del form["csrf_token"]
    assert client.post(f"/admin/tasks/{task.id}/edit", data=form).status_code == 400
    assert _fresh(task).title == "Số hoá hồ sơ lưu trữ"


def test_a_second_editor_is_told_and_keeps_their_input(login_as, users, task):
    client = login_as("admin")
    mine = _edit_form(client, task, title="Tiêu đề của tôi", deadline="20/01/2027")
    # meanwhile another admin saves the task
    update_task(users["admin"], _fresh(task), {"deadline": "2027-02-28"},
                expected_version=1)
    db.session.commit()
    answer = client.post(f"/admin/tasks/{task.id}/edit", data=mine)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "người khác đã lưu thay đổi nhiệm vụ này" in html and "vẫn được giữ" in html
    assert 'value="Tiêu đề của tôi"' in html and 'value="20/01/2027"' in html  # kept
    meanwhile = html.split('data-testid="saved-meanwhile"')[1].split("</div>")[0]
    assert "28/02/2027" in meanwhile and "Tên nhiệm vụ" in meanwhile
    assert 'name="version" value="2"' in html  # saving again is now a choice made knowingly
    task = _fresh(task)
    assert task.title == "Số hoá hồ sơ lưu trữ" and str(task.deadline) == "2027-02-28"


def test_a_blank_ro_is_named_next_to_its_field(login_as, task):
    client = login_as("admin")
    answer = client.post(f"/admin/tasks/{task.id}/edit",
                         data=_edit_form(client, task, expected_output=""))
    assert answer.status_code == 422
    assert 'id="e-expected_output"' in answer.get_data(as_text=True)


def test_reassigning_from_the_task_page(login_as, users, units, task):
    client = login_as("admin")
    answer = client.post(f"/admin/tasks/{task.id}/reassign", data={
        "reassign-csrf_token": csrf_token(client, f"/tasks/{task.id}"), "version": "1",
        "reassign-lead_unit_id": str(units["co_to"].id),
        "reassign-owner_name": "Chủ tịch UBND đặc khu Cô Tô",
        "reassign-note": "Đúng địa bàn"})
    assert answer.status_code == 302
    task = _fresh(task)
    assert task.lead_unit_id == units["co_to"].id
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "cả hai đơn vị đã được thông báo" in page


def test_a_stale_reassignment_shows_the_task_as_it_now_is(login_as, users, units, task):
    client = login_as("admin")
    token = csrf_token(client, f"/tasks/{task.id}")
    update_task(users["admin"], _fresh(task), {"title": "Đổi tên"})
    db.session.commit()
    answer = client.post(f"/admin/tasks/{task.id}/reassign", data={
        "reassign-csrf_token": token, "version": "1",
        "reassign-lead_unit_id": str(units["co_to"].id), "reassign-owner_name": "Ai đó"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "Đổi tên" in html
    assert "người khác đã lưu thay đổi nhiệm vụ này" in html
    assert 'value="Ai đó"' in html  # the input is kept
    assert _fresh(task).lead_unit_id == units["ha_long"].id


def _cancel(client, task, **fields):
    """The task page's cancel form, sent with its CSRF token and `fields`."""
    data = {"cancel-csrf_token": csrf_token(client, f"/tasks/{task.id}"), **fields}
    return client.post(f"/admin/tasks/{task.id}/cancel", data=data)


def test_cancelling_needs_a_reason_named_next_to_the_field(login_as, task):
    answer = _cancel(login_as("admin"), task, version="1", **{"cancel-note": "  "})
    assert answer.status_code == 422
    assert 'data-field="note"' in answer.get_data(as_text=True)
    assert _fresh(task).status == Status.NOT_STARTED


def test_cancelling_with_a_reason(login_as, task):
    client = login_as("admin")
    answer = _cancel(client, task, version="1", **{"cancel-note": "Trùng với nhiệm vụ khác"})
    assert answer.status_code == 302
    assert _fresh(task).status == Status.CANCELLED
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Trùng với nhiệm vụ khác" in page and "reassign-toggle" not in page


def test_a_form_without_its_version_is_refused(login_as, task):
    answer = _cancel(login_as("admin"), task, **{"cancel-note": "Trùng"})
    assert answer.status_code == 422
    assert _fresh(task).status == Status.NOT_STARTED


def test_an_admin_who_only_coordinates_is_refused(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"],
                     coordinating_unit_ids=[units["co_to"].id])
    make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    client = login_as("co_to_admin")
    assert client.get(f"/tasks/{task.id}").status_code == 200
    assert client.get(f"/admin/tasks/{task.id}/edit").status_code == 403


def test_another_units_task_is_not_found(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"])
    make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    client = login_as("co_to_admin")
    assert client.get(f"/admin/tasks/{task.id}/edit").status_code == 404
