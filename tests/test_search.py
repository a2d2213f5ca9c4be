"""Text in one form and the search as people type (issue 14): text that enters by a form,
a query string or the API's JSON is stored in NFC; each entity's folded search column is
kept by every write; units are searched on the API and narrowed by the picker's data on
the pages. (The task and user searches, web against API: tests/test_web_api_parity.py; the
folding and its SQL twin: tests/rules/test_vietnamese*.py.)"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import make_task, task_input
from tracker import clock
from tracker.auth.models import User
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.rules.vietnamese import fold_fields
from tracker.tasks.editing import update_task
from tracker.tasks.models import Comment, Task, TaskSearchText
from tracker.units.models import Unit


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _token(user) -> dict[str, str]:
    _row, raw = create_token(None, user, name="search", now=clock.now())
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


# --- text in, one form ----------------------------------------------------------------------


def test_a_task_typed_in_nfd_on_the_admin_form_is_stored_in_nfc(login_as, units):
    client = login_as("admin")
    data = task_input(units["ha_long"], title=nfd("Rà soát trụ sở"),
                      owner_name=nfd("Chủ tịch UBND phường"))
    response = client.post("/admin/tasks/new", data={
        "csrf_token": csrf_token(client, "/admin/tasks/new"), **data})
    assert response.status_code == 302
    task = db.session.scalar(select(Task))
    assert task.title == "Rà soát trụ sở" != nfd("Rà soát trụ sở")
    assert task.owner_name == "Chủ tịch UBND phường"


def test_json_sent_in_nfd_is_stored_in_nfc(client, users, units):
    headers = _token(users["admin"])
    body = task_input(units["co_to"], title=nfd("Đôn đốc thu ngân sách"),
                      description=nfd("Rà soát các khoản thu"))
    answer = client.post("/api/v1/tasks", json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["title"] == "Đôn đốc thu ngân sách"
    task = db.session.get(Task, answer.get_json()["id"])
    assert (task.title, task.description) == ("Đôn đốc thu ngân sách", "Rà soát các khoản thu")
    user = client.post("/api/v1/users", headers=headers, json={
        "username": "can_bo", "password": "correct horse battery", "role": "member",
        "unit_id": units["co_to"].id, "full_name": nfd("Nguyễn Thị Hằng")})
    assert user.status_code == 201, user.get_json()
    assert db.session.get(User, user.get_json()["id"]).full_name == "Nguyễn Thị Hằng"


def test_a_comment_posted_in_nfd_is_stored_in_nfc(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"])
    client = login_as("ha_long")
    url = f"/tasks/{task.id}"
    response = client.post(f"{url}/comments", data={
        "comment-csrf_token": csrf_token(client, url), "comment-body": nfd("Đã họp với các thôn")})
    assert response.status_code == 302
    assert db.session.scalar(select(Comment.body)) == "Đã họp với các thôn"


# --- the folded columns, kept by every write ------------------------------------------------


def test_a_tasks_folded_column_follows_its_fields(users, units):
    task = make_task(users["admin"], units["ha_long"], title="Rà soát trụ sở")
    def stored() -> str:
        return db.session.scalar(select(TaskSearchText.search_text)
                                 .where(TaskSearchText.task_id == task.id))

    assert stored() == fold_fields(task.code, "Rà soát trụ sở", task.description,
                                   task.owner_name, task.leader_in_charge, "Phường Hạ Long")
    assert "ra soat tru so" in stored() and task.code.lower() in stored()
    update_task(users["admin"], task, {"title": "Đôn đốc giải ngân"})
    db.session.commit()
    assert "don doc giai ngan" in stored() and "ra soat" not in stored()


def test_a_units_and_a_users_folded_columns_follow_their_fields(users, units):
    unit = units["ha_long"]
    assert unit.search_text.startswith("phuong ha long\n")
    unit.name = "Phường Hạ Long Mới"
    db.session.commit()
    assert db.session.get(Unit, unit.id).search_text.startswith("phuong ha long moi\n")
    user = users["co_to"]
    user.full_name = "Trần Văn Đức"
    db.session.commit()
    assert db.session.get(User, user.id).search_text == "co_to\ntran van duc"


# --- units: the API's search and the pages' picker ------------------------------------------


def test_the_api_finds_units_as_people_type_their_names(client, users, units):
    headers = _token(users["admin"])
    for q in ("ha long", "HẠ LONG", nfd("Phường Hạ Long")):
        answer = client.get("/api/v1/units", query_string={"q": q}, headers=headers)
        assert [u["id"] for u in answer.get_json()] == [units["ha_long"].id], q
    dam_ha = client.get("/api/v1/units?q=dam+ha", headers=headers).get_json()
    assert [u["name"] for u in dam_ha] == ["Xã Đầm Hà"]
    assert client.get("/api/v1/units?q=%25", headers=headers).get_json() == []
    refused = client.get("/api/v1/units", query_string={"q": "x" * 201}, headers=headers)
    assert refused.status_code == 422 and set(refused.get_json()["fields"]) == {"q"}


def test_every_unit_choice_carries_the_pickers_folded_names(login_as, units, users):
    client = login_as("admin")
    for url in ("/admin/tasks/new", "/admin/users/new", f"/admin/users/{users['co_to'].id}",
                "/admin/tasks/bulk"):
        page = client.get(url).get_data(as_text=True)
        assert "data-unit-picker=" in page, url
        assert 'data-search="phuong ha long"' in page, url
        assert "js/unit-picker.js" in page, url
