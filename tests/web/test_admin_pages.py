"""Admin pages: only admins, only their subtree; every write through a service; bad input
answered next to the field, never with a 500."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_task, make_user, task_input
from tracker.auth.models import User
from tracker.extensions import db
from tracker.rules.models import CalendarDay, Setting
from tracker.tasks.models import Task

PAGES = ["/admin", "/admin/units", "/admin/users", "/admin/users/new", "/admin/tasks/new",
         "/admin/tasks/bulk", "/admin/import", "/admin/import/template.csv",
         "/admin/import/template.xlsx", "/admin/calendar", "/admin/policy"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _form(client, url: str, **data):
    """POST `data` with the page's CSRF token; lists become repeated fields."""
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def _english(client):
    client.get("/lang/en")
    return client


@pytest.fixture
def commune_admin(users, units):
    user = make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    return user


# --- who may come in ------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["supervisor", "viewer", "ha_long", "co_to_viewer"])
def test_other_roles_are_refused_every_admin_page(login_as, username):
    client = login_as(username)
    for url in PAGES:
        assert client.get(url).status_code == 403, url


def test_other_roles_cannot_post_to_admin_actions(login_as, users, units):
    client = login_as("supervisor")
    token = csrf_token(client, "/tasks")
    data = {**task_input(units["ha_long"]), "csrf_token": token}
    assert client.post("/admin/tasks/new", data=data).status_code == 403
    assert client.post(f"/admin/users/{users['ha_long'].id}/active",
                       data={"active": "0", "csrf_token": token}).status_code == 403
    assert client.post("/admin/policy", data={"warning_working_days": "9",
                                              "csrf_token": token}).status_code == 403
    assert _count(Task) == 0 and _count(Setting) == 0
    assert db.session.get(User, users["ha_long"].id).active


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_admin_page_opens_for_an_admin(login_as):
    client = login_as("admin")
    for url in PAGES:
        assert client.get(url).status_code == 200, url


def test_admin_nav_link_shows_for_admins_only(login_as):
    assert 'href="/admin"' in login_as("admin").get("/tasks").get_data(as_text=True)


def test_admin_nav_link_is_hidden_from_members(login_as):
    assert 'href="/admin"' not in login_as("ha_long").get("/tasks").get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused(login_as, units):
    client = login_as("admin")
    response = client.post("/admin/tasks/new", data=task_input(units["ha_long"]))
    assert response.status_code == 400 and _count(Task) == 0


# --- the unit tree --------------------------------------------------------------------------


def test_unit_tree_lists_the_communes_with_their_counts(login_as, users, units, clock):
    make_task(users["admin"], units["ha_long"])
    make_task(users["admin"], units["ha_long"], deadline="2026-11-17", start_date="2026-11-01")
    page = login_as("admin").get("/admin/units").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    assert len([r for r in rows if "<th scope=\"row\">" in r]) == 54
    ha_long = next(r for r in rows if units["ha_long"].name in r)
    cells = re.findall(r'<td class="num">(\d+)</td>', ha_long)
    assert cells == ["0", "1", "2"]  # units below, users, tasks
    assert "badge-red" in ha_long and "badge-green" in ha_long


def test_a_unit_outside_the_admins_subtree_is_not_found(login_as, commune_admin, units):
    client = login_as("co_to_admin")
    assert client.get(f"/admin/units/{units['province'].id}").status_code == 404
    assert client.get(f"/admin/units/{units['ha_long'].id}").status_code == 404
    assert client.get(f"/admin/units/{units['co_to'].id}").status_code == 200
    assert client.get("/admin/units/99999999999999").status_code == 404


# --- users ----------------------------------------------------------------------------------


def test_user_list_shows_only_the_subtree(login_as, commune_admin):
    page = login_as("co_to_admin").get("/admin/users").get_data(as_text=True)
    assert ">co_to<" in page and ">co_to_supervisor<" in page
    assert ">ha_long<" not in page and ">supervisor<" not in page


def test_user_list_filters_by_role_and_unit(login_as, units):
    client = login_as("admin")
    page = client.get("/admin/users?role=member").get_data(as_text=True)
    assert ">ha_long<" in page and ">supervisor<" not in page
    page = client.get(f"/admin/users?unit={units['co_to'].id}").get_data(as_text=True)
    assert ">co_to<" in page and ">ha_long<" not in page


def test_the_user_search_takes_percent_and_underscore_as_typed(login_as, units):
    client = login_as("admin")
    page = client.get("/admin/users?q=%").get_data(as_text=True)
    assert ">ha_long<" not in page and ">supervisor<" not in page  # no user has a "%"
    page = client.get("/admin/users?q=_long").get_data(as_text=True)
    assert ">ha_long<" in page and ">co_to<" not in page
    page = client.get("/admin/users?q=a_l").get_data(as_text=True)  # "_" is not "any one"
    assert ">ha_long<" in page and ">admin<" not in page


def test_an_admin_creates_a_user_at_a_commune(login_as, units):
    client = login_as("admin")
    response = _form(client, "/admin/users/new", username="bai_chay", full_name="Cán bộ",
                     email="bc@example.vn", role="member", unit_id=units["bai_chay"].id,
                     password=PASSWORD, password2=PASSWORD)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "bai_chay"))
    assert user.unit_id == units["bai_chay"].id and user.role == "member"


def test_a_user_cannot_be_created_outside_the_admins_subtree(login_as, commune_admin, units):
    client = _english(login_as("co_to_admin"))
    response = _form(client, "/admin/users/new", username="intruder", role="member",
                     unit_id=units["ha_long"].id, password=PASSWORD, password2=PASSWORD)
    assert response.status_code == 422
    assert 'id="e-unit_id"' in response.get_data(as_text=True)
    assert not db.session.scalar(select(User).where(User.username == "intruder"))


def test_bad_user_input_is_named_next_to_each_field(login_as, units):
    client = _english(login_as("admin"))
    response = _form(client, "/admin/users/new", username="ha_long", role="chief",
                     unit_id="99999999999999", email="not-an-address", password="x",
                     password2="y", full_name="x" * 300)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("username", "role", "unit_id", "email", "password", "password2", "full_name"):
        assert f'id="e-{name}"' in page, name
    assert _count(User) == 7


def test_deactivating_a_user_ends_their_sessions_and_reactivating_lets_them_in(
        app, login_as, users):
    member = app.test_client()
    assert login(member, "ha_long").status_code == 302
    assert member.get("/tasks").status_code == 200
    client = login_as("admin")
    url = f"/admin/users/{users['ha_long'].id}"
    assert _form(client, f"{url}/active", active="0").status_code == 302
    assert member.get("/tasks").status_code == 302  # logged out
    assert login(app.test_client(), "ha_long").status_code != 302
    assert _form(client, f"{url}/active", active="1").status_code == 302
    assert login(app.test_client(), "ha_long").status_code == 302


def test_an_admin_cannot_deactivate_themselves(login_as, users):
    client = login_as("admin")
    _form(client, f"/admin/users/{users['admin'].id}/active", active="0")
    assert db.session.get(User, users["admin"].id).active


def test_resetting_a_password(app, login_as, users):
    client = login_as("admin")
    url = f"/admin/users/{users['co_to'].id}/password"
    assert _form(client, url, password="new pass phrase 42",
                 password2="new pass phrase 42").status_code == 302
    assert login(app.test_client(), "co_to", "new pass phrase 42").status_code == 302


def test_a_weak_or_mismatched_password_is_refused(login_as, users):
    client = login_as("admin")
    url = f"/admin/users/{users['co_to'].id}/password"
    assert _form(client, url, password="x", password2="x").status_code == 422
    assert _form(client, url, password="new pass phrase 42",
                 password2="other").status_code == 422


def test_users_outside_the_subtree_are_not_found(login_as, commune_admin, users):
    client = login_as("co_to_admin")
    assert client.get(f"/admin/users/{users['ha_long'].id}").status_code == 404
    assert _form(client, f"/admin/users/{users['ha_long'].id}/active",
                 active="0").status_code == 404
    assert client.get("/admin/users/99999999999999").status_code == 404
    assert db.session.get(User, users["ha_long"].id).active


# --- one task with the "6 rõ" ---------------------------------------------------------------


def test_an_admin_assigns_a_complete_task(login_as, units):
    client = login_as("admin")
    data = task_input(units["ha_long"], start_date="11/11/2026", deadline="18/12/2026",
                      coordinating_unit_ids=[units["co_to"].id])
    response = _form(client, "/admin/tasks/new", **data)
    assert response.status_code == 302
    task = db.session.scalar(select(Task))
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.deadline == date(2026, 12, 18) and task.start_date == date(2026, 11, 11)
    assert [u.id for u in task.coordinating_units] == [units["co_to"].id]


def test_each_missing_ro_is_named_and_each_field_marked(login_as, units):
    client = _english(login_as("admin"))
    data = task_input(units["ha_long"], title="", deadline="", leader_in_charge=" ",
                      source_doc_number="")
    response = _form(client, "/admin/tasks/new", **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and _count(Task) == 0
    summary = re.search(r'id="error-summary">(.*?)</div>', page, re.S).group(1)
    for ro in ("rõ việc", "rõ thời gian", "rõ trách nhiệm", "rõ thẩm quyền"):
        assert ro in summary, ro
    for ro in ("rõ người", "rõ sản phẩm"):
        assert ro not in summary, ro
    for name in ("title", "deadline", "leader_in_charge", "source_doc_number"):
        assert f'id="e-{name}"' in page and f'aria-describedby="e-{name}"' in page, name
    assert 'id="e-description"' not in page
    assert 'id="ro-viec"' in page and "ro-error\" id=\"ro-viec\"" in page
    assert 'value="Chủ tịch UBND xã"' in page  # what was typed is kept


def test_an_empty_task_form_names_all_six_ro(login_as):
    client = _english(login_as("admin"))
    page = _form(client, "/admin/tasks/new").get_data(as_text=True)
    for ro in ("rõ việc", "rõ người", "rõ thời gian", "rõ trách nhiệm", "rõ sản phẩm",
               "rõ thẩm quyền"):
        assert ro in page


@pytest.mark.parametrize("lead", ["99999999999999", "abc", "-3", "0"])
def test_a_bad_lead_unit_is_a_field_error_not_a_500(login_as, units, lead):
    client = login_as("admin")
    data = {**task_input(units["ha_long"]), "lead_unit_id": lead,
            "coordinating_unit_ids": ["x", "99999999999999"]}
    response = _form(client, "/admin/tasks/new", **data)
    assert response.status_code == 422 and _count(Task) == 0
    assert 'id="e-lead_unit_id"' in response.get_data(as_text=True)


def test_a_commune_admin_cannot_assign_to_another_commune(login_as, commune_admin, units):
    client = login_as("co_to_admin")
    response = _form(client, "/admin/tasks/new", **task_input(units["ha_long"]))
    assert response.status_code == 422 and _count(Task) == 0


# --- bulk assignment ------------------------------------------------------------------------


def _directive(**overrides):
    """A complete directive without a lead unit: the units are chosen on the page."""
    data = task_input(SimpleNamespace(id=None), **overrides)
    data.pop("lead_unit_id")
    return data


def test_bulk_assign_to_chosen_communes(login_as, units):
    client = login_as("admin")
    chosen = [units[n].id for n in ("ha_long", "co_to", "bai_chay")]
    response = _form(client, "/admin/tasks/bulk", **_directive(title="Rà soát trụ sở"),
                     unit_ids=chosen, target="chosen")
    assert response.status_code == 302
    leads = sorted(db.session.scalars(select(Task.lead_unit_id)))
    assert leads == sorted(chosen)


def test_bulk_assign_to_all_communes_of_the_province_in_one_click(login_as, units):
    client = login_as("admin")
    response = _form(client, "/admin/tasks/bulk", **_directive(), target="all_communes")
    assert response.status_code == 302
    assert _count(Task) == 54
    assert units["province"].id not in set(db.session.scalars(select(Task.lead_unit_id)))


def test_bulk_assign_with_a_missing_ro_creates_nothing(login_as, units):
    client = _english(login_as("admin"))
    response = _form(client, "/admin/tasks/bulk", **_directive(expected_output=""),
                     unit_ids=[units["ha_long"].id, units["co_to"].id], target="chosen")
    assert response.status_code == 422 and _count(Task) == 0
    page = response.get_data(as_text=True)
    assert "rõ sản phẩm" in page and 'id="e-expected_output"' in page
    assert page.count("checked") == 2  # the choice is kept


def test_bulk_assign_without_units_is_refused(login_as):
    client = login_as("admin")
    response = _form(client, "/admin/tasks/bulk", **_directive(), target="chosen")
    assert response.status_code == 422 and 'id="e-unit_ids"' in response.get_data(as_text=True)
    assert _count(Task) == 0


def test_bulk_assign_with_a_unit_outside_scope_creates_nothing(login_as, commune_admin, units):
    client = login_as("co_to_admin")
    response = _form(client, "/admin/tasks/bulk", **_directive(), target="chosen",
                     unit_ids=[units["co_to"].id, units["ha_long"].id, "99999999999999"])
    assert response.status_code == 422 and _count(Task) == 0
    assert client.get(f"/admin/tasks/bulk?under={units['province'].id}").status_code == 404


def test_bulk_page_offers_the_communes_of_the_chosen_unit(login_as, units):
    page = login_as("admin").get("/admin/tasks/bulk").get_data(as_text=True)
    assert page.count('name="unit_ids"') == 54
    assert 'data-testid="assign-all-communes"' in page


# --- calendar and policy --------------------------------------------------------------------


def test_an_admin_records_and_removes_a_day_off(login_as):
    client = login_as("admin")
    response = _form(client, "/admin/calendar", day="24/12/2026", kind="day_off",
                     note="Nghỉ bù")
    assert response.status_code == 302
    row = db.session.get(CalendarDay, date(2026, 12, 24))
    assert row.kind == "day_off" and row.note == "Nghỉ bù"
    assert "24/12/2026" in client.get("/admin/calendar").get_data(as_text=True)
    assert _form(client, "/admin/calendar/2026-12-24/delete").status_code == 302
    assert db.session.get(CalendarDay, date(2026, 12, 24)) is None


def test_a_makeup_day_recolours_tasks_at_once(login_as, users, units):
    # Deadline Monday 23/11: from Wednesday 18/11 that is 3 working days (yellow); a make-up
    # Saturday makes it 4 — outside the warning window, green.
    task = make_task(users["admin"], units["ha_long"], deadline="2026-11-23")
    assert task.colour == "yellow"
    _form(login_as("admin"), "/admin/calendar", day="2026-11-21", kind="makeup_day")
    assert db.session.get(Task, task.id).colour == "green"


@pytest.mark.parametrize("day,kind,note", [("31/02/2026", "day_off", ""),
                                          ("", "day_off", ""),
                                          ("2026-12-24", "holiday", ""),
                                          ("2026-12-24", "day_off", "x" * 301),
                                          ("24/12/9999", "day_off", "")])
def test_bad_calendar_input_is_refused_next_to_the_field(login_as, day, kind, note):
    response = _form(login_as("admin"), "/admin/calendar", day=day, kind=kind, note=note)
    assert response.status_code == 422 and 'class="field-error"' in response.get_data(True)
    assert _count(CalendarDay) == 0


def test_removing_a_malformed_day_is_not_found(login_as):
    assert _form(login_as("admin"), "/admin/calendar/yesterday/delete").status_code == 404


def test_changing_the_warning_window_recolours_tasks(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"], deadline="2026-11-25")  # 5 working days
    assert task.colour == "green"
    response = _form(login_as("admin"), "/admin/policy", warning_working_days="5",
                     missed_days_to_red="2")
    assert response.status_code == 302
    assert db.session.get(Setting, "warning_working_days").value == "5"
    assert db.session.get(Task, task.id).colour == "yellow"


@pytest.mark.parametrize("warning,missed", [("-1", "2"), ("3", "0"), ("abc", "2"),
                                            ("3", ""), ("99999999999", "2"), ("3", "1.5")])
def test_bad_policy_values_are_refused_and_nothing_changes(login_as, warning, missed):
    response = _form(login_as("admin"), "/admin/policy", warning_working_days=warning,
                     missed_days_to_red=missed)
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert _count(Setting) == 0


def test_a_commune_admin_cannot_change_what_holds_for_every_unit(login_as, commune_admin):
    client = login_as("co_to_admin")
    assert 'name="day"' not in client.get("/admin/calendar").get_data(as_text=True)
    assert _form(client, "/admin/calendar", day="2026-12-24", kind="day_off").status_code == 403
    assert _form(client, "/admin/calendar/2026-12-24/delete").status_code == 403
    assert " disabled" in client.get("/admin/policy").get_data(as_text=True)
    assert _form(client, "/admin/policy", warning_working_days="5",
                 missed_days_to_red="2").status_code == 403
    assert _count(CalendarDay) == 0 and _count(Setting) == 0


def test_an_admin_changes_a_users_role_and_unit_and_their_sessions_end(app, login_as, users,
                                                                       units):
    from tests.conftest import csrf_token, login
    from tracker.extensions import db as _db

    member = users["co_to"]
    member_client = app.test_client()
    assert login(member_client, "co_to").status_code == 302
    client = login_as("admin")
    token = csrf_token(client, f"/admin/users/{member.id}")
    response = client.post(f"/admin/users/{member.id}/role", data={
        "role": "supervisor", "unit_id": str(units["ha_long"].id), "csrf_token": token})
    assert response.status_code == 302
    _db.session.expire_all()
    assert member.role == "supervisor" and member.unit_id == units["ha_long"].id
    assert member_client.get("/tasks").status_code == 302  # logged out: the new scope applies


def test_a_role_change_outside_scope_or_to_an_unknown_role_is_refused(login_as, users, units):
    from tests.conftest import csrf_token
    from tests.factories import make_user
    from tracker.extensions import db as _db

    commune_admin = make_user("co_to_admin", "admin", units["co_to"])
    _db.session.commit()
    client = login_as("admin")
    token = csrf_token(client, f"/admin/users/{users['co_to'].id}")
    bad = client.post(f"/admin/users/{users['co_to'].id}/role", data={
        "role": "emperor", "unit_id": str(units["co_to"].id), "csrf_token": token})
    assert bad.status_code == 422
    assert commune_admin.role == "admin"
