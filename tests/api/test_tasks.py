"""Tasks over the API: the list and its filters, reading in scope, assigning with the
"6 rõ", bulk assignment, edits guarded by If-Match, the audit trail — and bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import ict, task_input
from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.rules.vietnamese import sort_key
from tracker.tasks.models import Task


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


# --- reading --------------------------------------------------------------------------


def test_a_member_lists_only_their_units_tasks(api, world):
    body = api("co_to").get("/tasks").get_json()
    assert [t["id"] for t in body["items"]] == [world.co_to.id]
    assert body["total"] == 1 and body["pages"] == 1


def test_the_province_sees_every_task_ordered_by_id(api, world):
    ids = [t["id"] for t in api("supervisor").get("/tasks").get_json()["items"]]
    assert ids == sorted(ids) and len(ids) == 4


def test_pages_are_stable_and_complete(api, world):
    first = api("viewer").get("/tasks?per_page=3&page=1").get_json()
    second = api("viewer").get("/tasks?per_page=3&page=2").get_json()
    ids = [t["id"] for t in first["items"] + second["items"]]
    assert first["total"] == 4 and first["pages"] == 2
    assert ids == sorted(ids) and len(set(ids)) == 4


def test_filters_by_unit_subtree_colour_status_overdue_deadline_and_text(api, world, units):
    def ids(query):
        response = api("admin").get(f"/tasks?{query}")
        assert response.status_code == 200, response.get_json()
        return {t["id"] for t in response.get_json()["items"]}

    ha_long = {world.overdue.id, world.silent.id, world.fresh.id}
    assert ids(f"unit_id={units['ha_long'].id}") == ha_long
    assert ids(f"unit_id={units['province'].id}") == ha_long | {world.co_to.id}
    assert ids("colour=green") == {world.fresh.id}
    assert ids("colour=red") == {world.overdue.id, world.silent.id, world.co_to.id}
    assert ids("overdue=true") == {world.overdue.id}
    assert world.overdue.id not in ids("overdue=false")
    assert ids("status=in_progress") == {world.fresh.id}
    assert ids("status=open") == ha_long | {world.co_to.id}
    assert ids("deadline_to=2026-11-30") == {world.overdue.id}
    assert ids("deadline_from=2026-12-19&deadline_to=2026-12-31") == {world.fresh.id}
    assert ids("q=tài sản") == {world.overdue.id}
    assert ids("q=100%25_") == set()


def test_a_page_names_each_tasks_coordinating_units_as_the_task_itself_does(api, world,
                                                                          units, users):
    """The list reads a page's coordinating units with the page itself
    (`Task.coordinating_unit_ids`, undeferred); each task on a page — none, one, several,
    and in the units' Vietnamese order — names the same units as reading that task alone
    (which loads them when first asked), both in the province's list (walked in its order)
    and in a commune's (read as a set)."""
    from tests.factories import make_task

    names = ("co_to", "bai_chay", "van_don", "quang_yen", "ha_long")
    several = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                        coordinating_unit_ids=[units[n].id for n in names[:4]])
    one = make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0),
                    coordinating_unit_ids=[units["ha_long"].id])
    expected_order = [u.id for u in sorted((units[n] for n in names[:4]),
                                           key=lambda u: sort_key(u.name))]
    for who, query in (("supervisor", ""), ("ha_long", ""), ("admin", "q=a"),
                       ("admin", f"unit_id={units['ha_long'].id}")):
        page = api(who).get(f"/tasks?{query}").get_json()["items"]
        assert page, (who, query)
        for item in page:
            alone = api("admin").get(f"/tasks/{item['id']}").get_json()
            assert item["coordinating_unit_ids"] == alone["coordinating_unit_ids"], item["id"]
            if item["id"] == several.id:
                assert item["coordinating_unit_ids"] == expected_order
            if item["id"] == one.id:
                assert item["coordinating_unit_ids"] == [units["ha_long"].id]
            if item["id"] == world.fresh.id:
                assert item["coordinating_unit_ids"] == []
    listed = {t["id"] for t in api("supervisor").get("/tasks").get_json()["items"]}
    assert {several.id, one.id, world.fresh.id} <= listed


def test_a_filter_on_a_unit_outside_scope_is_refused(api, world, units):
    response = api("co_to").get(f"/tasks?unit_id={units['ha_long'].id}")
    assert response.status_code == 422
    assert "unit_id" in response.get_json()["fields"]


def test_reading_a_task_gives_its_etag(api, world):
    response = api("ha_long").get(f"/tasks/{world.fresh.id}")
    body = response.get_json()
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert body["lead_unit"]["name"] and body["colour"] == "green"


def test_a_task_outside_scope_answers_404_not_403(api, world):
    response = api("co_to").get(f"/tasks/{world.fresh.id}")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert api("co_to_viewer").get(f"/tasks/{world.fresh.id}/audit").status_code == 404


def test_huge_ids_and_unknown_paths_answer_404(api, world):
    for path in ("/tasks/2147483648", "/tasks/99999999999999999999999", "/tasks/0",
                 "/units/2147483648/summary", "/nothing"):
        response = api("admin").get(path)
        assert response.status_code == 404, path
        assert set(response.get_json()) == {"code", "message", "fields"}


def test_bad_query_parameters_are_422_naming_them(api, world):
    response = api("admin").get("/tasks?page=0&per_page=1000&colour=blue&deadline_from=x")
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"page", "per_page", "colour", "deadline_from"}


# --- assigning ------------------------------------------------------------------------


def test_an_admin_assigns_a_task(api, units):
    response = api("admin").post("/tasks", json=task_input(units["co_to"]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["code"].startswith("NV-2026-") and body["status"] == "not_started"
    assert response.headers["ETag"] == '"1"'
    assert db.session.get(Task, body["id"]).lead_unit_id == units["co_to"].id


def test_a_task_without_the_six_ro_is_refused_naming_each_missing_field(api, units):
    data = task_input(units["co_to"], leader_in_charge="", expected_output=None)
    del data["source_doc_number"]
    response = api("admin").post("/tasks", json=data)
    assert response.status_code == 422
    body = response.get_json()
    assert {"leader_in_charge", "expected_output", "source_doc_number"} <= set(body["fields"])
    assert "6 rõ" in body["message"]
    assert count(Task) == 0


def test_only_an_admin_assigns(api, units):
    for name in ("supervisor", "viewer", "co_to"):
        assert api(name).post("/tasks", json=task_input(units["co_to"])).status_code == 403
    assert count(Task) == 0


def test_an_admin_cannot_assign_outside_their_subtree(api, units, users):
    response = api("admin").post("/tasks", json=task_input(units["nation"]))
    assert response.status_code == 422 and "lead_unit_id" in response.get_json()["fields"]


def test_wrong_types_huge_ids_and_impossible_dates_are_422_not_500(api, units):
    cases = [
        {"lead_unit_id": 2**40},
        {"lead_unit_id": "abc"},
        {"coordinating_unit_ids": [2**63]},
        {"deadline": "9999-12-31"},
        {"start_date": "0001-01-01"},
        {"title": ["not", "text"]},
        {"priority": "whenever"},
    ]
    for override in cases:
        response = api("admin").post("/tasks", json=task_input(units["co_to"], **override))
        assert response.status_code == 422, (override, response.get_json())
        [name] = override
        assert any(f.split(".")[0] == name for f in response.get_json()["fields"]), override
    assert count(Task) == 0


def test_malformed_json_and_non_objects_are_refused(api, units):
    bad = api("admin").post("/tasks", data="{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_json"
    assert api("admin").post("/tasks", json=[1, 2]).status_code == 422
    assert api("admin").post("/tasks", data="[" * 100_000,
                             content_type="application/json").status_code == 400
    deep = "[" * 900 + "]" * 900
    assert api("admin").post("/tasks", data=deep).status_code == 422
    assert api("admin").post("/tasks", data=b"\xff\xfe").status_code == 400


def test_nul_characters_are_refused_before_reaching_the_database(api, units, world):
    response = api("admin").post("/tasks", json=task_input(units["co_to"], title="a\x00b"))
    assert response.status_code == 422 and "title" in response.get_json()["fields"]
    assert api("admin").get("/tasks?q=a%00b").status_code == 422


def test_bulk_assignment_makes_one_task_per_unit(api, units):
    data = task_input(units["co_to"])
    del data["lead_unit_id"]
    unit_ids = [units["co_to"].id, units["ha_long"].id]
    response = api("admin").post("/tasks/bulk", json={**data, "unit_ids": unit_ids})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["count"] == 2
    assert sorted(t["lead_unit_id"] for t in body["items"]) == sorted(unit_ids)


def test_bulk_assignment_is_all_or_nothing_naming_the_bad_unit(api, units):
    data = task_input(units["co_to"])
    unit_ids = [units["co_to"].id, units["nation"].id, 2**31 - 1]
    response = api("admin").post("/tasks/bulk", json={**data, "unit_ids": unit_ids})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"unit_ids.1", "unit_ids.2"}
    missing = api("admin").post("/tasks/bulk", json={**data, "unit_ids": [units["co_to"].id],
                                                     "title": ""})
    assert missing.status_code == 422 and "title" in missing.get_json()["fields"]
    assert api("admin").post("/tasks/bulk", json=data).status_code == 422
    assert count(Task) == 0


# --- editing ---------------------------------------------------------------------------


def test_an_edit_with_the_current_etag_succeeds_and_is_audited(api, world):
    task = api("admin").get(f"/tasks/{world.co_to.id}")
    response = api("admin").patch(f"/tasks/{world.co_to.id}", json={"title": "Tiêu đề mới"},
                                  headers={"If-Match": task.headers["ETag"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "Tiêu đề mới"
    assert response.headers["ETag"] != task.headers["ETag"]
    trail = api("admin").get(f"/tasks/{world.co_to.id}/audit").get_json()
    assert trail[-1]["action"] == "edit" and trail[-1]["new_value"] == "Tiêu đề mới"
    assert trail[-1]["actor"] == "admin"


def test_a_stale_etag_is_412_and_changes_nothing(api, world):
    etag = api("admin").get(f"/tasks/{world.co_to.id}").headers["ETag"]
    api("co_to").post(f"/tasks/{world.co_to.id}/updates",
                      json={"progress": 10, "work_done": "Bắt đầu"})  # someone else's change
    response = api("admin").patch(f"/tasks/{world.co_to.id}", json={"title": "Ghi đè"},
                                  headers={"If-Match": etag})
    assert response.status_code == 412
    assert "If-Match" in response.get_json()["fields"]
    db.session.rollback()
    assert db.session.get(Task, world.co_to.id).title != "Ghi đè"


def test_an_edit_without_if_match_is_428(api, world):
    response = api("admin").patch(f"/tasks/{world.co_to.id}", json={"title": "x"})
    assert response.status_code == 428


def test_only_an_admin_of_the_lead_unit_edits(api, world):
    headers = {"If-Match": '"99"'}
    assert api("supervisor").patch(f"/tasks/{world.co_to.id}", json={"title": "x"},
                                   headers=headers).status_code == 403
    assert api("co_to").patch(f"/tasks/{world.co_to.id}", json={"title": "x"},
                              headers=headers).status_code == 403
    assert api("co_to").patch(f"/tasks/{world.fresh.id}", json={"title": "x"},
                              headers=headers).status_code == 404


def test_fields_that_cannot_be_edited_are_named(api, world):
    etag = api("admin").get(f"/tasks/{world.co_to.id}").headers["ETag"]
    response = api("admin").patch(f"/tasks/{world.co_to.id}",
                                  json={"status": "done", "deadline": "9999-12-31"},
                                  headers={"If-Match": etag})
    assert response.status_code == 422
    assert "deadline" in response.get_json()["fields"]
    response = api("admin").patch(f"/tasks/{world.co_to.id}", json={"status": "done"},
                                  headers={"If-Match": etag})
    assert response.status_code == 422 and "status" in response.get_json()["fields"]


def test_the_audit_trail_lists_every_change_oldest_first(api, world):
    entries = api("viewer").get(f"/tasks/{world.fresh.id}/audit").get_json()
    assert [e["action"] for e in entries][:2] == ["create", "progress_update"]
    db.session.rollback()
    assert len(entries) == db.session.scalar(
        select(func.count()).where(AuditEntry.task_id == world.fresh.id))


def test_each_audit_entry_also_comes_in_the_pages_words(api, world):
    entries = api("viewer").get(f"/tasks/{world.fresh.id}/audit").get_json()
    created, updated = entries[0]["words"], entries[1]["words"]
    assert created["action"] == "Tạo nhiệm vụ"
    assert updated["action"] == "Báo cáo tiến độ" and updated["at"] == "17/11/2026 10:00:00"
    assert {"label": "Tiến độ", "old": "0%", "new": "30%"} in updated["changes"]
