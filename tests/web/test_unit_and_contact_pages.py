"""The pages that change the unit tree's departments and users' contact details: the
forms, their CSRF token, the refusals named next to each field, the retire refusal that
names what is still open."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import make_department, make_task, make_user
from tracker.audit.models import SecurityEvent
from tracker.auth.models import User
from tracker.extensions import db
from tracker.units.models import Unit, UnitKind


def _form(client, url: str, page: str, **data):
    """POST `data` to `url` with the CSRF token of the page that holds the form."""
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def _departments() -> list[str]:
    names = list(db.session.scalars(select(Unit.name).where(Unit.kind == UnitKind.DEPARTMENT)))
    db.session.rollback()
    return names


def _english(client):
    client.get("/lang/en")
    return client


def test_an_admin_adds_a_department_from_the_province_s_page(login_as, units):
    client = login_as("admin")
    page = f"/admin/units/{units['province'].id}"
    assert 'data-testid="add-department"' in client.get(page).get_data(as_text=True)
    response = _form(client, f"{page}/departments", page, name="Sở Nội vụ", code="")
    assert response.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.name == "Sở Nội vụ"))
    assert response.headers["Location"].endswith(f"/admin/units/{unit.id}")
    tree = client.get(page).get_data(as_text=True)
    assert f'href="/admin/units/{unit.id}">Sở Nội vụ</a>' in tree


def test_a_commune_s_page_offers_no_department(login_as, units):
    page = login_as("admin").get(f"/admin/units/{units['ha_long'].id}").get_data(as_text=True)
    assert 'data-testid="add-department"' not in page
    assert 'data-testid="rename-department"' not in page


def test_a_refused_department_is_named_next_to_each_field(login_as, units):
    client = _english(login_as("admin"))
    page = f"/admin/units/{units['province'].id}"
    response = _form(client, f"{page}/departments", page, name="", code="a b")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-name"' in html and 'id="e-code"' in html
    assert 'role="alert"' in html and _departments() == []


def test_no_department_is_added_without_the_csrf_token(login_as, units):
    client = login_as("admin")
    response = client.post(f"/admin/units/{units['province'].id}/departments",
                           data={"name": "Sở Nội vụ"})
    assert response.status_code == 400 and _departments() == []


def test_a_department_is_renamed_then_retired_from_its_page(login_as, users, units):
    unit = make_department(units["province"], "Sở Nội vụ", users["admin"])
    db.session.commit()
    client, page = login_as("admin"), f"/admin/units/{unit.id}"
    assert _form(client, f"{page}/name", page, name="Sở Nội vụ tỉnh").status_code == 302
    assert _form(client, f"{page}/active", page, active="0").status_code == 302
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert (unit.name, unit.active) == ("Sở Nội vụ tỉnh", False)
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="retired"' in html and 'value="1"' in html  # reactivate offered


def test_retiring_is_refused_naming_the_open_task_and_the_active_user(login_as, users, units):
    unit = make_department(units["province"], "Sở Nội vụ", users["admin"])
    task = make_task(users["admin"], unit)
    make_user("snv_can_bo", "member", unit)
    db.session.commit()
    client, page = login_as("admin"), f"/admin/units/{unit.id}"
    response = _form(client, f"{page}/active", page, active="0")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert task.code in html and "snv_can_bo" in html
    assert db.session.get(Unit, unit.id).active


def test_an_admin_edits_a_user_s_contact_details(login_as, users):
    client = login_as("admin")
    member = users["ha_long"]
    page = f"/admin/users/{member.id}"
    response = _form(client, f"{page}/contact", page, full_name="Nguyễn Văn An",
                     email="an.nv@halong.quangninh.gov.vn", phone="0912 345 678")
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "an.nv@halong.quangninh.gov.vn" in html and "0912 345 678" in html
    assert db.session.scalar(select(func.count()).select_from(SecurityEvent)
                             .where(SecurityEvent.kind == "user_changed")) == 1


def test_bad_contact_details_are_named_and_kept_in_the_form(login_as, users):
    client = login_as("admin")
    page = f"/admin/users/{users['ha_long'].id}"
    response = _form(client, f"{page}/contact", page, full_name="An", email="x@y",
                     phone="12")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-email"' in html and 'id="e-phone"' in html and 'value="x@y"' in html
    assert db.session.get(User, users["ha_long"].id).email is None


def test_no_contact_change_without_the_csrf_token(login_as, users):
    client = login_as("admin")
    response = client.post(f"/admin/users/{users['ha_long'].id}/contact",
                           data={"email": "an@halong.gov.vn"})
    assert response.status_code == 400
    assert db.session.get(User, users["ha_long"].id).email is None


def test_a_member_edits_their_own_phone(login_as, users):
    client = login_as("co_to")
    page = client.get("/account/profile")
    assert page.status_code == 200 and 'data-testid="profile"' in page.get_data(as_text=True)
    response = _form(client, "/account/profile", "/account/profile", full_name="",
                     email="", phone="0203 3888 999")
    assert response.status_code == 302
    assert db.session.get(User, users["co_to"].id).phone == "0203 3888 999"


def test_a_member_s_bad_e_mail_is_named(login_as, users):
    client = login_as("co_to")
    response = _form(client, "/account/profile", "/account/profile", email="co.to@",
                     phone="")
    assert response.status_code == 422 and 'id="e-email"' in response.get_data(as_text=True)
    assert client.post("/account/profile", data={"phone": "0203 3888 999"}).status_code == 400
    assert db.session.get(User, users["co_to"].id).phone is None


def test_a_retired_department_is_offered_only_to_the_users_still_in_it(login_as, users, units):
    unit = make_department(units["province"], "Sở Nội vụ", users["admin"])
    left = make_user("snv_cu", "member", unit)
    left.active = False
    unit.active = False
    db.session.commit()
    client = login_as("admin")
    page = client.get(f"/admin/users/{left.id}").get_data(as_text=True)
    assert re.search(rf'<option value="{unit.id}"[^>]* selected>', page)
    assert f'value="{unit.id}"' not in client.get("/admin/users/new").get_data(as_text=True)
