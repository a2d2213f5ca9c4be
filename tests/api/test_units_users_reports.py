"""Units, users and reports over the API, each within the caller's scope and role."""

from __future__ import annotations

from sqlalchemy import select

from tracker.auth.models import User
from tracker.extensions import db


def test_the_unit_tree_is_the_callers_subtree(api, units):
    province = api("admin").get("/units").get_json()
    assert len(province) == 55 and province[0]["code"] == "22"  # the province, then 54
    assert {u["id"] for u in api("co_to").get("/units").get_json()} == {units["co_to"].id}
    children = api("admin").get(f"/units?parent_id={units['province'].id}").get_json()
    assert len(children) == 54
    detail = api("viewer").get(f"/units/{units['province'].id}").get_json()
    assert len(detail["children"]) == 54


def test_a_unit_outside_scope_answers_404(api, units):
    assert api("co_to").get(f"/units/{units['ha_long'].id}").status_code == 404
    assert api("admin").get(f"/units/{units['nation'].id}").status_code == 404


def test_the_colour_summary_counts_stored_colours_in_the_subtree(api, world, units):
    body = api("viewer").get(f"/units/{units['province'].id}/summary").get_json()
    assert (body["total"], body["green"], body["yellow"], body["red"]) == (4, 1, 0, 3)
    assert body["green_rate"] == 0.25 and body["colour"] == "red"
    rows = {c["unit"]["id"]: c for c in body["children"]}
    assert rows[units["ha_long"].id]["total"] == 3 and rows[units["co_to"].id]["red"] == 1
    assert rows[units["bai_chay"].id]["total"] == 0
    # No task: no rate and no colour of its own, never green at 100%.
    assert rows[units["bai_chay"].id]["green_rate"] is None
    assert rows[units["bai_chay"].id]["colour"] == "none"


def test_the_summary_is_for_supervisors_admins_and_viewers_in_scope(api, world, units):
    assert api("co_to").get(f"/units/{units['co_to'].id}/summary").status_code == 403
    assert api("co_to_viewer").get(f"/units/{units['ha_long'].id}/summary").status_code == 404
    own = api("co_to_viewer").get(f"/units/{units['co_to'].id}/summary").get_json()
    assert own["total"] == 1 and own["children"] == []


def test_users_are_for_admins_only(api, users):
    for name in ("supervisor", "viewer", "co_to"):
        assert api(name).get("/users").status_code == 403
        assert api(name).post("/users", json={}).status_code in (403, 422)


def test_an_admin_lists_the_users_of_their_subtree(api, users, units):
    body = api("admin").get("/users?per_page=100").get_json()
    assert body["total"] == 7
    co_to = api("admin").get(f"/users?unit_id={units['co_to'].id}").get_json()
    assert {u["username"] for u in co_to["items"]} == {"co_to", "co_to_supervisor",
                                                       "co_to_viewer"}
    members = api("admin").get("/users?role=member").get_json()
    assert {u["username"] for u in members["items"]} == {"ha_long", "co_to"}


def test_an_admin_creates_a_user_in_scope(api, units):
    response = api("admin").post("/users", json={
        "username": "bai_chay", "password": "a long enough password", "role": "member",
        "unit_id": units["bai_chay"].id, "full_name": "Cán bộ Bãi Cháy"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert "password" not in body and body["unit"]["id"] == units["bai_chay"].id
    outside = api("admin").post("/users", json={
        "username": "hanoi", "password": "a long enough password", "role": "admin",
        "unit_id": units["nation"].id})
    assert outside.status_code == 422 and "unit_id" in outside.get_json()["fields"]
    bad = api("admin").post("/users", json={
        "username": "x", "password": "x", "role": "king", "unit_id": units["co_to"].id,
        "full_name": "x" * 201})
    assert bad.status_code == 422  # every field at fault at once, as on the admin page
    assert set(bad.get_json()["fields"]) == {"username", "password", "role", "full_name"}
    refused = api("admin").post("/users", json={
        "username": "X!", "password": "short", "role": "member", "email": "not-an-email",
        "unit_id": units["co_to"].id})
    assert refused.status_code == 422
    assert set(refused.get_json()["fields"]) == {"username", "password", "email"}
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.username == "hanoi")) is None


def test_a_user_outside_the_admins_subtree_answers_404(api, users, units):
    from tests.factories import make_user

    national = make_user("national", "viewer", units["nation"])
    db.session.commit()
    assert api("admin").get(f"/users/{national.id}").status_code == 404
    assert api("admin").post(f"/users/{national.id}/deactivate").status_code == 404
    assert api("admin").get(f"/users/{users['co_to'].id}").get_json()["username"] == "co_to"


def test_the_daily_report_as_json(api, world, units):
    response = api("supervisor").get("/reports/daily?date=2026-11-17")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["date"] == "2026-11-17" and body["unit"]["id"] == units["province"].id
    assert body["totals"]["total"] == 4 and body["red_total"] == body["totals"]["red"]
    latest = api("viewer").get("/reports/daily").get_json()
    assert latest["date"] == "2026-11-17"
    commune = api("co_to_viewer").get("/reports/daily").get_json()
    assert commune["unit"]["id"] == units["co_to"].id


def test_the_daily_report_is_404_for_a_day_without_a_cutoff(api, world):
    response = api("supervisor").get("/reports/daily?date=2026-11-18")  # still ahead
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_the_daily_report_is_for_report_readers_in_scope(api, world, units):
    assert api("co_to").get("/reports/daily").status_code == 403
    response = api("co_to_supervisor").get(f"/reports/daily?unit_id={units['ha_long'].id}")
    assert response.status_code == 422


def test_the_daily_report_downloads(api, world):
    for fmt, mimetype, magic in (("csv", "text/csv", "\ufeff".encode()),
                                 ("xlsx", "application/vnd.openxmlformats", b"PK"),
                                 ("pdf", "application/pdf", b"%PDF")):
        response = api("supervisor").get(f"/reports/daily?date=2026-11-17&format={fmt}")
        assert response.status_code == 200, (fmt, response.get_data()[:300])
        assert response.mimetype.startswith(mimetype)
        assert "attachment" in response.headers["Content-Disposition"]
        if magic:
            assert response.get_data().startswith(magic)


def test_departments_are_listed_and_changed_within_scope(api, units):
    created = api("admin").post("/units", json={"parent_id": units["province"].id,
                                                "name": "Sở Tài chính"})
    assert created.status_code == 201, created.get_json()
    department = created.get_json()
    for who in ("admin", "supervisor", "viewer"):
        listed = api(who).get("/units?kind=department").get_json()
        assert [u["name"] for u in listed] == ["Sở Tài chính"]
    assert api("co_to").get("/units?kind=department").get_json() == []
    renamed = api("admin").patch(f"/units/{department['id']}", json={"name": "Sở Tài chính "
                                                                             "tỉnh"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Sở Tài chính tỉnh"
    assert api("supervisor").patch(f"/units/{department['id']}",
                                   json={"name": "X"}).status_code == 403
    refused = api("admin").patch(f"/units/{department['id']}", json={"name": ""})
    assert refused.status_code == 422 and set(refused.get_json()["fields"]) == {"name"}
