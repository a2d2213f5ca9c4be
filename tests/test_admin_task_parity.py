"""The admin's task changes answer alike on the page and in the API: the same input
accepted or refused naming the same fields, and a stale version refused on both sides
with nothing written (the page's 409, the API's 412)."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token
from tests.factories import ict, make_task
from tests.test_web_api_parity import Sides, flagged
from tracker.extensions import db
from tracker.tasks.editing import update_task
from tracker.tasks.models import Status, Task


@pytest.fixture
def admin(app, users):
    return Sides(app, users["admin"])


@pytest.fixture
def pair(users, units):
    """Two identical tasks: one changed on the page, the other through the API."""
    return [make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
            for _ in range(2)]


def _web(sides, task, action: str, form: dict):
    url = f"/tasks/{task.id}" if action != "edit" else f"/admin/tasks/{task.id}/edit"
    name = "csrf_token" if action == "edit" else f"{action}-csrf_token"  # the form's prefix
    data = {name: csrf_token(sides.web, url), "version": "1", **form}
    page = sides.web.post(f"/admin/tasks/{task.id}/{action}", data=data)
    return page.status_code, flagged(page) - {"version"}


def _api(sides, task, path: str, body: dict, method="POST"):
    answer = sides.api.open(f"/api/v1/tasks/{task.id}{path}", method=method, json=body,
                            headers={**sides.headers, "If-Match": '"1"'})
    fields = set(answer.get_json().get("fields", {})) if answer.status_code >= 400 else set()
    return answer.status_code, fields


def _state(task) -> tuple:
    db.session.rollback()
    task = db.session.get(Task, task.id)
    return (task.lead_unit_id, task.owner_name, task.status, task.title, task.version)


@pytest.mark.parametrize("case, fields", [
    ("outside", {"lead_unit_id"}),
    ("no change", {"lead_unit_id", "owner_name"}),
    ("blank owner", {"owner_name"}),
    ("good", set()),
])
def test_reassigning_answers_alike(admin, pair, units, case, fields):
    body = {"outside": {"lead_unit_id": "99999999"},
            "no change": {"lead_unit_id": str(units["ha_long"].id)},
            "blank owner": {"owner_name": " "},
            "good": {"lead_unit_id": str(units["co_to"].id), "note": "Đúng địa bàn"}}[case]
    web = _web(admin, pair[0], "reassign", {f"reassign-{k}": v for k, v in body.items()})
    api = _api(admin, pair[1], "/reassign", body)
    assert web[1] == api[1] == fields
    assert (web[0] == 302) == (api[0] == 200) == (not fields)
    assert _state(pair[0])[:3] == _state(pair[1])[:3]


@pytest.mark.parametrize("note, fields", [("", {"note"}), ("x" * 5001, {"note"}),
                                          ("Trùng lặp", set())])
def test_cancelling_answers_alike(admin, pair, note, fields):
    web = _web(admin, pair[0], "cancel", {"cancel-note": note})
    api = _api(admin, pair[1], "/cancel", {"note": note})
    assert web[1] == api[1] == fields
    assert _state(pair[0])[2] == _state(pair[1])[2] == \
        (Status.NOT_STARTED if fields else Status.CANCELLED)


@pytest.mark.parametrize("change, fields", [
    ({"expected_output": ""}, {"expected_output"}),
    ({"deadline": "31/02/2027"}, {"deadline"}),
    ({"deadline": "01/01/2026"}, {"deadline"}),  # before the start date
    ({"coordinating_unit_ids": ["99999999"]}, {"coordinating_unit_ids"}),
])
def test_edits_are_refused_naming_the_same_fields(admin, pair, change, fields):
    page = admin.web.get(f"/admin/tasks/{pair[0].id}/edit")
    assert page.status_code == 200
    form = {"title": pair[0].title, "description": pair[0].description,
            "lead_unit_id": str(pair[0].lead_unit_id), "owner_name": pair[0].owner_name,
            "start_date": pair[0].start_date.isoformat(),
            "deadline": pair[0].deadline.isoformat(),
            "leader_in_charge": pair[0].leader_in_charge,
            "expected_output": pair[0].expected_output,
            "assigning_authority": pair[0].assigning_authority,
            "source_doc_number": pair[0].source_doc_number,
            "source_doc_date": pair[0].source_doc_date.isoformat(), "priority": "normal",
            **change}
    web = _web(admin, pair[0], "edit", form)
    api = _api(admin, pair[1], "", change, method="PATCH")
    assert (web[0], api[0]) == (422, 422)
    assert web[1] == api[1] == fields


def test_a_stale_version_is_refused_on_both_sides_and_nothing_is_written(admin, pair,
                                                                         users, units):
    for task in pair:
        update_task(users["admin"], task, {"title": "Người khác sửa"}, expected_version=1)
    db.session.commit()
    before = [_state(task) for task in pair]
    web = _web(admin, pair[0], "reassign",
               {"reassign-lead_unit_id": str(units["co_to"].id)})
    api = _api(admin, pair[1], "/reassign", {"lead_unit_id": units["co_to"].id})
    assert (web[0], api[0]) == (409, 412)
    assert [_state(task) for task in pair] == before
