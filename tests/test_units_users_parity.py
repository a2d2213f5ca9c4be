"""The pages and the API accept and refuse the same departments and contact details,
naming the same fields (as tests/test_web_api_parity.py does for tasks and users)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import make_department, make_task, make_user
from tests.test_web_api_parity import Sides, flagged
from tracker.auth.models import User
from tracker.extensions import db
from tracker.units.models import Unit, UnitKind


def _both(sides: Sides, page: str, url: str, form: dict, method: str, api_url: str,
          body: dict):
    """(web accepted?, web fields flagged), (API accepted?, API fields named)."""
    answer_page = sides.web.post(url, data={"csrf_token": csrf_token(sides.web, page), **form})
    assert answer_page.status_code in (302, 422), answer_page.status_code
    answer = sides.api.open(f"/api/v1{api_url}", method=method, json=body,
                            headers=sides.headers)
    assert answer.status_code in (200, 201, 422), answer.get_json()
    api_fields = set(answer.get_json().get("fields", {})) if answer.status_code == 422 \
        else set()
    return ((answer_page.status_code == 302, flagged(answer_page)),
            (answer.status_code != 422, api_fields))


@pytest.fixture
def admin(app, users):
    return Sides(app, users["admin"])


@pytest.mark.parametrize("case,fields", [
    ("good", set()),
    ("blank", {"name"}),
    ("long", {"name"}),
    ("bad_code", {"code"}),
    ("taken_code", {"code"}),
    ("nul", {"name"}),
    ("several", {"name", "code"}),
])
def test_adding_a_department_answers_alike(admin, units, case, fields):
    province = units["province"]

    def given(side: str) -> dict:
        good = {"name": f"Sở Nội vụ ({side})", "code": f"SNV-{side}"}
        return {"good": good, "blank": {**good, "name": "  "},
                "long": {**good, "name": "x" * 201}, "bad_code": {**good, "code": "S N V"},
                "taken_code": {**good, "code": province.code},
                "nul": {**good, "name": "Sở\x00"},
                "several": {"name": "", "code": "#"}}[case]

    page = f"/admin/units/{province.id}"
    web, api = _both(admin, page, f"{page}/departments", given("web"), "POST", "/units",
                     {**given("api"), "parent_id": province.id})
    assert web == api == (not fields, fields)
    made = set(db.session.scalars(select(Unit.code).where(Unit.kind == UnitKind.DEPARTMENT)))
    assert made == ({"SNV-web", "SNV-api"} if not fields else set())


def test_a_parent_outside_scope_is_refused_on_the_api(admin, units):
    answer = admin.api.post("/api/v1/units", json={"parent_id": units["nation"].id,
                                                   "name": "Bộ Nội vụ"}, headers=admin.headers)
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"parent_id"}


@pytest.mark.parametrize("names,fields", [
    (("Sở Nội vụ tỉnh", "Sở Nội vụ thành phố"), set()),  # two names: siblings differ
    (("", " "), {"name"}),
    (("Sở Tài chính", "sở tài chính"), {"name"}),  # a sibling's name, in any case
])
def test_renaming_answers_alike(admin, users, units, names, fields):
    web_unit = make_department(units["province"], "Sở Nội vụ A", users["admin"])
    api_unit = make_department(units["province"], "Sở Nội vụ B", users["admin"])
    make_department(units["province"], "Sở Tài chính", users["admin"])
    db.session.commit()
    page = f"/admin/units/{web_unit.id}"
    web, api = _both(admin, page, f"{page}/name", {"name": names[0]}, "PATCH",
                     f"/units/{api_unit.id}", {"name": names[1]})
    assert web == api == (not fields, fields)
    renamed = {db.session.get(Unit, web_unit.id).name, db.session.get(Unit, api_unit.id).name}
    assert renamed == (set(names) if not fields else {"Sở Nội vụ A", "Sở Nội vụ B"})


def test_retiring_is_refused_alike_and_retired_alike(admin, users, units):
    unit = make_department(units["province"], "Sở Nội vụ", users["admin"])
    task = make_task(users["admin"], unit)
    db.session.commit()
    page = f"/admin/units/{unit.id}"
    html = admin.web.post(f"{page}/active", data={
        "active": "0", "csrf_token": csrf_token(admin.web, page)})
    answer = admin.api.post(f"/api/v1/units/{unit.id}/retire", headers=admin.headers)
    assert (html.status_code, answer.status_code) == (409, 409)
    assert answer.get_json()["fields"] == {"tasks": [task.code]}
    assert task.code in html.get_data(as_text=True)

    other = make_department(units["province"], "Sở Tài chính", users["admin"])
    db.session.commit()
    answer = admin.api.post(f"/api/v1/units/{other.id}/retire", headers=admin.headers)
    assert answer.status_code == 200 and answer.get_json()["active"] is False
    answer = admin.api.post(f"/api/v1/units/{other.id}/reactivate", headers=admin.headers)
    assert answer.status_code == 200 and answer.get_json()["active"] is True


def test_an_official_unit_is_not_renamed_on_the_api(admin, units):
    answer = admin.api.patch(f"/api/v1/units/{units['ha_long'].id}", json={"name": "X"},
                             headers=admin.headers)
    assert answer.status_code == 403


@pytest.mark.parametrize("given,fields", [
    ({"full_name": "Nguyễn Văn An", "email": "an@halong.gov.vn", "phone": "0912 345 678"},
     set()),
    ({"email": "x@y"}, {"email"}),
    ({"phone": "12"}, {"phone"}),
    ({"full_name": "x" * 201, "email": "a@", "phone": "abc"}, {"full_name", "email", "phone"}),
])
def test_contact_details_answer_alike(admin, users, given, fields):
    web_user, api_user = users["ha_long"], users["co_to"]
    form = {"full_name": "", "email": "", "phone": "", **given}
    page = f"/admin/users/{web_user.id}"
    web, api = _both(admin, page, f"{page}/contact", form, "PATCH", f"/users/{api_user.id}",
                     given)
    assert web == api == (not fields, fields)
    if not fields:
        stored = {(u.email, u.phone) for u in db.session.scalars(
            select(User).where(User.id.in_([web_user.id, api_user.id])))}
        assert stored == {("an@halong.gov.vn", "0912 345 678")}


def test_a_member_changes_their_own_details_alike(app, users):
    member = Sides(app, users["co_to"])
    web, api = _both(member, "/account/profile", "/account/profile",
                     {"full_name": "", "email": "", "phone": "0203 3888 999"}, "PATCH", "/me",
                     {"phone": "0203 3888 999"})
    assert web == api == (True, set())
    answer = member.api.patch("/api/v1/me", json={"email": "x@y"}, headers=member.headers)
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"email"}


def test_a_user_outside_scope_is_not_found_on_the_api(app, users, units):
    made = make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    commune_admin = Sides(app, made)
    answer = commune_admin.api.patch(f"/api/v1/users/{users['ha_long'].id}",
                                     json={"phone": "0912345678"},
                                     headers=commune_admin.headers)
    assert answer.status_code == 404


@pytest.mark.parametrize("method,path,body,refused", [
    ("PATCH", "/me", {"role": "admin", "unit_id": 2, "phone": "0203 3888 999"},
     {"role", "unit_id"}),
    ("POST", "/me/password", {"current_password": "x", "new_password": "y", "bogus": 1},
     {"bogus"}),
])
def test_a_field_the_api_cannot_change_for_oneself_is_refused_by_name(app, users, method,
                                                                      path, body, refused):
    member = Sides(app, users["co_to"])
    before = (users["co_to"].role, users["co_to"].unit_id, users["co_to"].phone)
    answer = member.api.open(f"/api/v1{path}", method=method, json=body,
                             headers=member.headers)
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == refused
    db.session.expire_all()
    user = db.session.get(User, users["co_to"].id)
    assert (user.role, user.unit_id, user.phone) == before


def test_a_field_the_api_cannot_set_on_an_account_is_refused_by_name(admin, users, units):
    answer = admin.api.patch(f"/api/v1/users/{users['co_to'].id}",
                             json={"role": "viewer", "bogus": 1}, headers=admin.headers)
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"bogus", "role"}
    assert db.session.get(User, users["co_to"].id).role == "member"
    answer = admin.api.post("/api/v1/users", json={
        "username": "tan_binh", "password": "một mật khẩu đủ dài", "role": "member",
        "unit_id": units["co_to"].id, "is_admin": True}, headers=admin.headers)
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"is_admin"}
    assert db.session.scalar(select(User).where(User.username == "tan_binh")) is None
