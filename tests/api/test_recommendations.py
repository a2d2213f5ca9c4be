"""Kiến nghị over the API: the same service and scope as the pages — raised by a member,
routed, answered, asked again, accepted; refusals are 4xx naming the fields; a commune
reads only its own."""

from __future__ import annotations

from tests.factories import make_department, make_task, make_user
from tracker.auth.tokens import create_token
from tracker.clock import now
from tracker.extensions import db

BODY = {"kind": "obstacle", "title": "Vướng mắc thủ tục đất đai", "content": "Chưa rõ thẩm quyền",
        "field": "Đất đai", "legal_basis": "Luật Đất đai 2024", "level_asked": "province"}


def test_the_way_of_a_recommendation_through_the_api(api, users, units, client):
    department = make_department(units["province"], "Sở Nông nghiệp và Môi trường")
    answerer = make_user("so_nnmt", "member", department)
    _token, raw = create_token(None, answerer, name="t", now=now())
    db.session.commit()
    from tests.api.conftest import ApiClient
    dept = ApiClient(client, raw)

    created = api("co_to").post("/recommendations", json=BODY)
    assert created.status_code == 201, created.json
    rec = created.json
    assert rec["code"].startswith("KN-2026-") and rec["status"] == "raised"
    assert rec["colour"] == "green" and rec["category"] == "pending"
    path = f"/recommendations/{rec['id']}"
    assert api("ha_long").get(path).status_code == 404
    assert api("ha_long").get("/recommendations").json["total"] == 0

    refused = api("supervisor").post(f"{path}/route", json={"response_days": 0,
                                                            "responsible_unit_id": 10**6})
    assert refused.status_code == 422
    assert set(refused.json["fields"]) == {"responsible_unit_id", "response_days"}
    routed = api("supervisor").post(f"{path}/route", json={
        "responsible_unit_id": department.id, "response_days": 5})
    # Routed Wednesday 18: 19, 20, 23, (24: Vietnam Cultural Day), 25, 26.
    assert routed.status_code == 200 and routed.json["response_due"] == "2026-11-26"
    assert routed.json["responsible_unit"]["id"] == department.id

    assert api("co_to").post(f"{path}/answer", json={"answer": "x"}).status_code == 403
    answered = dept.post(f"{path}/answer", json={"answer": "Thực hiện theo hướng dẫn 5/HD"})
    assert answered.status_code == 200 and answered.json["status"] == "answered"
    assert answered.json["category"] == "answered_on_time"

    assert api("co_to").post(f"{path}/ask-again", json={}).status_code == 422
    again = api("co_to").post(f"{path}/ask-again", json={"reason": "Chưa rõ"})
    assert again.json["status"] == "reopened" and again.json["asked_again"] == 1
    dept.post(f"{path}/answer", json={"answer": "Bổ sung hướng dẫn"})
    accepted = api("co_to").post(f"{path}/accept")
    assert accepted.status_code == 200 and accepted.json["status"] == "closed"
    assert api("co_to").post(f"{path}/accept").status_code == 409


def test_raised_on_a_task_only_one_in_scope(api, users, units):
    task = make_task(users["admin"], units["co_to"])
    other = make_task(users["admin"], units["ha_long"])
    assert api("co_to").post("/recommendations", json={**BODY, "task_id": task.id}) \
        .json["task_id"] == task.id
    refused = api("co_to").post("/recommendations", json={**BODY, "task_id": other.id})
    assert refused.status_code == 422 and "task_id" in refused.json["fields"]


def test_an_incomplete_one_names_its_fields(api, users):
    refused = api("co_to").post("/recommendations", json={"title": "x"})
    assert refused.status_code == 422
    assert set(refused.json["fields"]) == {"content", "field", "legal_basis", "level_asked"}


def test_only_members_raise_and_only_supervisors_route(api, users):
    assert api("supervisor").post("/recommendations", json=BODY).status_code == 403
    rec = api("co_to").post("/recommendations", json=BODY).json
    assert api("co_to").post(f"/recommendations/{rec['id']}/route",
                             json={"responsible_unit_id": 1, "response_days": 3}) \
        .status_code == 403


def test_a_merged_duplicate_shows_the_answer_of_the_one_it_joined(api, users, units):
    first = api("ha_long").post("/recommendations", json=BODY).json
    duplicate = api("co_to").post("/recommendations", json=BODY).json
    merged = api("supervisor").post(f"/recommendations/{duplicate['id']}/merge",
                                    json={"into_id": first["id"]})
    assert merged.json["status"] == "merged" and merged.json["colour"] is None
    api("supervisor").post(f"/recommendations/{first['id']}/route", json={
        "responsible_unit_id": units["province"].id, "response_days": 3})
    api("supervisor").post(f"/recommendations/{first['id']}/answer", json={"answer": "Đã rõ"})
    seen = api("co_to").get(f"/recommendations/{duplicate['id']}").json
    assert seen["merged_into"]["answer"] == "Đã rõ"
    assert api("co_to").get(f"/recommendations/{first['id']}").status_code == 404
