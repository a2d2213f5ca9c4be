"""The web pages and the API answer the same for the same input: the same tasks listed for
the same filter and search, and the same input accepted or refused, naming the same fields.

The pages are HTML: a list is read as the set of task ids it links to (/tasks/<id>), and a
refusal as the fields flagged next to the form (`id="e-<field>"` on the admin pages and
the task list, `data-field="<field>"` under the member's forms)."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, cutoff_through, ict, make_task, task_input
from tracker import clock
from tracker.auth.models import User
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.tasks.models import ExtensionRequest, Task
from tracker.updates.service import post_update

ASSIGNED = ict(2026, 11, 13, 9, 0)  # a Friday: updates are owed from Monday 16/11


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class Sides:
    """One user on both sides: logged in on the web, and holding an API token."""

    def __init__(self, app, user: User):
        self.web = app.test_client()
        assert login(self.web, user.username).status_code == 302
        _token, raw = create_token(None, user, name="parity", now=clock.now())
        db.session.commit()
        self.api = app.test_client()
        self.headers = {"Authorization": f"Bearer {raw}"}

    # --- the task list ---------------------------------------------------------------------

    def listed(self, params: dict) -> tuple[set[int], set[int]]:
        """The task ids the web page and the API list for `params`."""
        page = self.web.get(f"/tasks?{urlencode(params)}")
        assert page.status_code == 200, page.get_data(as_text=True)
        listing = page.get_data(as_text=True).split('<ul class="task-list">')[1].split("</ul>")[0]
        answer = self.api.get(f"/api/v1/tasks?{urlencode({**params, 'per_page': 200})}",
                              headers=self.headers)
        assert answer.status_code == 200, answer.get_json()
        return ({int(i) for i in re.findall(r'href="/tasks/(\d+)"', listing)},
                {item["id"] for item in answer.get_json()["items"]})

    def list_refused(self, params: dict) -> tuple[set[str], set[str]]:
        page = self.web.get(f"/tasks?{urlencode(params)}")
        answer = self.api.get(f"/api/v1/tasks?{urlencode(params)}", headers=self.headers)
        assert (page.status_code, answer.status_code) == (422, 422)
        return flagged(page), set(answer.get_json()["fields"])

    # --- writes ----------------------------------------------------------------------------

    def post(self, page_url: str, form: dict, api_url: str, body: dict):
        """(web accepted?, web fields flagged), (API accepted?, API fields named)."""
        page = self.web.post(page_url, data={"csrf_token": csrf_token(self.web, page_url),
                                             **form})
        assert page.status_code in (302, 422), page.status_code
        answer = self.api.post(f"/api/v1{api_url}", json=body, headers=self.headers)
        assert answer.status_code in (200, 201, 422), answer.get_json()
        api_fields = set(answer.get_json().get("fields", {})) if answer.status_code == 422 \
            else set()
        return (page.status_code == 302, flagged(page)), (answer.status_code != 422, api_fields)


def flagged(page) -> set[str]:
    html = page.get_data(as_text=True)
    return set(re.findall(r'\bid="e-([\w.]+)"', html)) | \
        set(re.findall(r'data-field="([\w.]+)"', html))


@pytest.fixture
def tasks(users, units):
    """The web tests' world — on Wednesday 18/11/2026, Hạ Long has an overdue task, a silent
    one and one updated yesterday, Cô Tô a silent one — plus two titles holding LIKE's
    wildcards, and a task of a unit the commune's staff do not see."""
    admin = users["admin"]
    world = SimpleNamespace(
        overdue=make_task(admin, units["ha_long"], at=ASSIGNED, title="Rà soát tài sản công",
                          start_date="2026-11-01", deadline="2026-11-12"),
        silent=make_task(admin, units["ha_long"], at=ASSIGNED, title="Sắp xếp thôn, tổ dân phố"),
        fresh=make_task(admin, units["ha_long"], at=ASSIGNED, title="Số hoá hồ sơ lưu trữ",
                        deadline="2026-12-31"),
        co_to=make_task(admin, units["co_to"], at=ASSIGNED, title="Chuyển giao hồ sơ đất đai"),
        percent=make_task(admin, units["co_to"], at=ASSIGNED, deadline="2026-12-31",
                          title="Đạt 100% hồ sơ trực tuyến"),
        underscore=make_task(admin, units["bai_chay"], at=ASSIGNED, deadline="2026-12-31",
                             title="Cập nhật mau_bieu báo cáo"),
    )
    post_update(users["ha_long"], world.fresh, {"progress": 30, "work_done": "Đã số hoá 300 hồ sơ"},
                now=ict(2026, 11, 17, 10, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return world


@pytest.fixture
def admin(app, users):
    return Sides(app, users["admin"])


# --- search and filters ---------------------------------------------------------------------


ALL = {"overdue", "silent", "fresh", "co_to", "percent", "underscore"}


@pytest.mark.parametrize("q,expected", [
    ("%", {"percent"}),  # the user's text, literally: not LIKE's "anything"
    ("_", {"underscore"}),
    ("100%", {"percent"}),
    ("mau_bieu", {"underscore"}),
    ("ho_so", set()),  # "_" is no wildcard: "hồ sơ" is not "ho_so"
    ("hồ sơ", ALL),  # every description holds it (tests.factories.task_input)
    ("hồ sơ lưu trữ", {"fresh"}),
    ("rà soát", {"overdue"}),
    # as people type it: any case, no diacritics, decomposed (NFD), "d" for "đ"
    ("ra soat", {"overdue"}),
    ("RÀ SOÁT", {"overdue"}),
    (unicodedata.normalize("NFD", "Rà soát"), {"overdue"}),
    ("dat 100", {"percent"}),
    ("ĐẠT", {"percent", "co_to"}),  # "Đạt" and "đất": diacritics are not compared
    # the lead unit's name: "Phường Hạ Long" leads three tasks
    ("ha long", {"overdue", "silent", "fresh"}),
    ("HẠ LONG", {"overdue", "silent", "fresh"}),
    (unicodedata.normalize("NFD", "Phường Hạ Long"), {"overdue", "silent", "fresh"}),
    ("bai chay", {"underscore"}),
    ("", ALL),
    ("   ", ALL),
])
def test_search_lists_the_same_tasks(admin, tasks, q, expected):
    web, api = admin.listed({"q": q})
    assert web == api == {getattr(tasks, name).id for name in expected}


def test_the_search_code_is_found_alike(admin, tasks):
    code = tasks.percent.code
    web, api = admin.listed({"q": code.lower()})
    assert web == api == {tasks.percent.id}


@pytest.mark.parametrize("params", [
    {"status": "open"},
    {"status": "in_progress"},
    {"status": "not_started"},
    {"colour": "red"},
    {"colour": "green"},
    {"overdue": "true"},
    {"overdue": "false"},
    {"deadline_from": "2026-12-01"},
    {"deadline_to": "30/11/2026"},  # typed as people write dates, on both sides
    {"status": "", "colour": "", "q": ""},  # an untouched form: every task
    {"colour": "red", "status": "open", "q": "hồ sơ"},
])
def test_filters_list_the_same_tasks(admin, tasks, params):
    web, api = admin.listed(params)
    assert web == api and web  # and the case is not vacuous


@pytest.mark.parametrize("unit", ["ha_long", "co_to", "province"])
def test_the_unit_filter_lists_the_same_subtree(admin, tasks, units, unit):
    web, api = admin.listed({"unit_id": units[unit].id})
    assert web == api
    led = set(db.session.scalars(select(Task.id).where(Task.lead_unit_id == units[unit].id)))
    assert led <= web


def test_a_member_sees_the_same_scope_on_both_sides(app, users, tasks):
    member = Sides(app, users["co_to"])
    web, api = member.listed({})
    assert web == api == {tasks.co_to.id, tasks.percent.id}


@pytest.mark.parametrize("params,fields", [
    ({"status": "finished"}, {"status"}),
    ({"colour": "blue"}, {"colour"}),
    ({"overdue": "maybe"}, {"overdue"}),
    ({"unit_id": "abc"}, {"unit_id"}),
    ({"unit_id": "99999999999"}, {"unit_id"}),
    ({"deadline_from": "31/02/2026", "deadline_to": "x"}, {"deadline_from", "deadline_to"}),
    ({"q": "x" * 201}, {"q"}),
    ({"q": "a\x00b"}, {"q"}),  # a NUL: PostgreSQL cannot store it, SQLite could
    ({"status": "finished", "colour": "blue", "q": "ok"}, {"status", "colour"}),
])
def test_bad_filters_are_refused_naming_the_same_fields(admin, tasks, params, fields):
    web, api = admin.list_refused(params)
    assert web == api == fields


@pytest.mark.parametrize("q,expected", [
    ("co to", {"co_to", "co_to_supervisor", "co_to_viewer"}),  # the username, or the unit
    ("CÔ TÔ", {"co_to", "co_to_supervisor", "co_to_viewer"}),
    ("ha long", {"ha_long"}),
    (unicodedata.normalize("NFD", "Phường Hạ Long"), {"ha_long"}),
    ("co_to_s", {"co_to_supervisor"}),  # "_" is a letter, not a wildcard
    ("%", set()),
])
def test_the_user_search_finds_the_same_users(admin, users, q, expected):
    page = admin.web.get(f"/admin/users?{urlencode({'q': q})}")
    assert page.status_code == 200
    web = {int(i) for i in re.findall(r'href="/admin/users/(\d+)"', page.get_data(as_text=True))}
    answer = admin.api.get(f"/api/v1/users?{urlencode({'q': q, 'per_page': 200})}",
                           headers=admin.headers)
    assert answer.status_code == 200, answer.get_json()
    api = {item["id"] for item in answer.get_json()["items"]}
    assert web == api == {users[name].id for name in expected}


def test_a_unit_outside_scope_is_refused_alike(app, users, units, tasks):
    member = Sides(app, users["co_to"])
    web, api = member.list_refused({"unit_id": units["ha_long"].id})
    assert web == api == {"unit_id"}


# --- creating users -------------------------------------------------------------------------


def _user_form(**values) -> dict:
    return {"password2": values.get("password", ""), **values}


@pytest.mark.parametrize("case,fields", [
    ("good", set()),
    ("dotless_email", {"email"}),
    ("missing", {"username", "password", "role", "unit_id"}),
    ("taken", {"username"}),
    ("long_name", {"full_name"}),
    ("outside", {"unit_id"}),
    ("nul", {"full_name"}),
    ("several", {"username", "email", "password", "role"}),
])
def test_user_creation_answers_alike(admin, units, case, fields):
    def user(side: str) -> dict:
        good = {"username": f"bai_chay_{side}", "password": PASSWORD, "role": "member",
                "unit_id": units["bai_chay"].id, "full_name": "Cán bộ Bãi Cháy",
                "email": "can.bo@baichay.gov.vn"}
        return {
            "good": good,
            "dotless_email": {**good, "email": "x@y"},
            "missing": {},
            "taken": {**good, "username": "ha_long"},
            "long_name": {**good, "full_name": "x" * 201},
            "outside": {**good, "unit_id": units["nation"].id},
            "nul": {**good, "full_name": "Cán\x00bộ"},
            "several": {**good, "username": "X!", "email": "x@", "password": "short",
                        "role": "king"},
        }[case]

    form = {"username": "", "password": "", "role": "", "unit_id": "", **user("web")}
    web, api = admin.post("/admin/users/new", _user_form(**form), "/users", user("api"))
    assert web == api == (not fields, fields)
    made = set(db.session.scalars(select(User.username).where(User.username.like("bai_chay_%"))))
    assert made == ({"bai_chay_web", "bai_chay_api"} if not fields else set())


def test_nobody_deactivates_their_own_account_on_either_side(admin, users):
    own = users["admin"].id
    page = admin.web.post(f"/admin/users/{own}/active",
                          data={"active": "0", "csrf_token": csrf_token(
                              admin.web, f"/admin/users/{own}")}, follow_redirects=True)
    answer = admin.api.post(f"/api/v1/users/{own}/deactivate", headers=admin.headers)
    assert answer.status_code == 409
    assert answer.get_json()["message"] in page.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, own).active


# --- assigning tasks ------------------------------------------------------------------------


@pytest.mark.parametrize("overrides,fields", [
    ({}, set()),
    ({"start_date": "31/02/2026"}, {"start_date"}),
    ({"deadline": "not a date"}, {"deadline"}),
    ({"start_date": "2026-12-10", "deadline": "01/12/2026"}, {"deadline"}),
    ({"lead_unit_id": 2_000_000_000}, {"lead_unit_id"}),
    ({"lead_unit_id": 99_999_999_999}, {"lead_unit_id"}),
    ("outside", {"lead_unit_id"}),
    ({"leader_in_charge": "", "expected_output": ""}, {"leader_in_charge", "expected_output"}),
    ({"title": "x" * 501, "priority": "whenever"}, {"title", "priority"}),
    ({"title": "Rà\x00soát"}, {"title"}),
    ({"priority": ""}, set()),  # left blank: the default
])
def test_task_creation_answers_alike(admin, units, overrides, fields):
    if overrides == "outside":
        overrides = {"lead_unit_id": units["nation"].id}
    data = task_input(units["co_to"], **overrides)
    web, api = admin.post("/admin/tasks/new", data, "/tasks", data)
    assert web == api == (not fields, fields)
    assert _count(Task) == (2 if not fields else 0)


@pytest.mark.parametrize("chosen,fields", [
    (["co_to", "ha_long"], set()),
    (["co_to", "nation"], {"unit_ids"}),
    ([], {"unit_ids"}),
])
def test_bulk_assignment_answers_alike(admin, units, chosen, fields):
    directive = task_input(units["co_to"])
    del directive["lead_unit_id"]
    ids = [units[name].id for name in chosen]
    web, api = admin.post("/admin/tasks/bulk", {**directive, "unit_ids": ids, "target": "chosen"},
                          "/tasks/bulk", {**directive, "unit_ids": ids})
    # The API names a refused unit by its place in the list (unit_ids.1), the page next to
    # the list of units.
    api = (api[0], {name.split(".")[0] for name in api[1]})
    assert web == api == (not fields, fields)
    assert _count(Task) == (2 * len(ids) if not fields else 0)


# --- a member's extension request -----------------------------------------------------------


@pytest.mark.parametrize("requested,reason,fields", [
    ("31/02/2027", "Chờ số liệu", {"requested_deadline"}),
    ("2026-11-01", "Chờ số liệu", {"requested_deadline"}),  # before the current deadline
    ("", "Chờ số liệu", {"requested_deadline"}),
    ("31/12/2026", "", {"reason"}),
    ("31/12/2026", "x" * 5001, {"reason"}),
])
def test_a_refused_extension_request_names_the_same_fields(app, users, tasks, requested,
                                                           reason, fields):
    member = Sides(app, users["ha_long"])
    task = tasks.silent
    web, api = member.post(f"/tasks/{task.id}/extension",
                           {"requested_deadline": requested, "reason": reason},
                           f"/tasks/{task.id}/extensions",
                           {"requested_deadline": requested, "reason": reason})
    assert web == api == (False, fields)
    assert _count(ExtensionRequest) == 0


def test_an_extension_typed_as_people_write_dates_is_accepted_on_both_sides(app, users, tasks):
    member = Sides(app, users["ha_long"])
    web, api = member.post(f"/tasks/{tasks.silent.id}/extension",
                            {"requested_deadline": "31/12/2026", "reason": "Chờ số liệu"},
                            f"/tasks/{tasks.overdue.id}/extensions",
                            {"requested_deadline": "31/12/2026", "reason": "Chờ số liệu"})
    assert web == api == (True, set())
    assert set(db.session.scalars(select(ExtensionRequest.requested_deadline))) == {
        date(2026, 12, 31)}


@pytest.mark.parametrize("text", ["31/02/2026", "hôm qua", "2026-13-01"])
def test_a_report_date_that_is_no_date_is_refused_alike(admin, text):
    page = admin.web.get(f"/reports/daily?{urlencode({'date': text})}")
    answer = admin.api.get(f"/api/v1/reports/daily?{urlencode({'date': text})}",
                           headers=admin.headers)
    assert (page.status_code, answer.status_code) == (422, 422)
    assert flagged(page) == set(answer.get_json()["fields"]) == {"date"}


@pytest.mark.parametrize("text", ["18/11/2026", "2026-11-18"])
def test_a_report_date_is_read_alike_as_people_type_it(admin, text):
    """Both sides read the day as typed; its cutoff has not run, so neither has a report."""
    page = admin.web.get(f"/reports/daily?{urlencode({'date': text})}")
    answer = admin.api.get(f"/api/v1/reports/daily?{urlencode({'date': text})}",
                           headers=admin.headers)
    assert (page.status_code, answer.status_code) == (404, 404)


# --- the calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize("day,kind,note,fields", [
    ("24/12/2026", "day_off", "Nghỉ bù", set()),
    ("31/02/2026", "day_off", "", {"day"}),
    ("24/12/2026", "holiday", "", {"kind"}),
    ("24/12/2026", "day_off", "x" * 301, {"note"}),
    ("31/02/2026", "holiday", "x" * 301, {"day", "kind", "note"}),
])
def test_a_calendar_day_is_recorded_or_refused_alike(admin, day, kind, note, fields):
    from tracker.rules.models import CalendarDay

    page = admin.web.post("/admin/calendar", data={
        "csrf_token": csrf_token(admin.web, "/admin/calendar"), "day": day, "kind": kind,
        "note": note})
    # the API names the day in its path: dd/mm/yyyy there is written with dashes
    answer = admin.api.put(f"/api/v1/calendar/{day.replace('/', '-')}", headers=admin.headers,
                           json={"kind": kind, "note": note})
    assert page.status_code == (302 if not fields else 422)
    assert answer.status_code == (200 if not fields else 422)
    api_fields = set(answer.get_json().get("fields", {})) if fields else set()
    assert flagged(page) == api_fields == fields
    assert _count(CalendarDay) == (1 if not fields else 0)


def test_a_cleared_day_is_gone_on_both_sides(admin):
    from tracker.rules.models import CalendarDay

    admin.api.put("/api/v1/calendar/2026-12-24", headers=admin.headers, json={"kind": "day_off"})
    assert "24/12/2026" in admin.web.get("/admin/calendar").get_data(as_text=True)
    assert admin.api.delete("/api/v1/calendar/2026-12-24", headers=admin.headers).status_code \
        == 204
    assert "24/12/2026" not in admin.web.get("/admin/calendar").get_data(as_text=True)
    assert _count(CalendarDay) == 0


# --- notifications --------------------------------------------------------------------------


def test_the_page_and_the_api_list_the_same_notifications(app, users, tasks):
    from tracker.notifications.service import nudge

    for text in ("Cập nhật trước 16:00", "Bổ sung minh chứng"):
        nudge(users["supervisor"], tasks.silent, text, now=clock.now())
    db.session.commit()
    member = Sides(app, users["ha_long"])
    page = member.web.get("/notifications").get_data(as_text=True)
    listed = member.api.get("/api/v1/notifications", headers=member.headers).get_json()
    messages = [n["message"] for n in listed["items"]]
    assert {"Cập nhật trước 16:00", "Bổ sung minh chứng"} <= {m.split(": ", 1)[-1]
                                                            for m in messages}
    # the same notifications, newest first on both sides
    assert page.count('data-testid="notification"') == listed["total"] == len(messages)
    places = [page.index(str(escape(m))) for m in messages]
    assert places == sorted(places)


# --- importing tasks ------------------------------------------------------------------------


def _import(client, url: str, data: bytes, headers=None, **form):
    boundary, body = encode_multipart({**form, "file": FileStorage(io.BytesIO(data),
                                                                   "nhiem-vu.xlsx")})
    return client.post(url, data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_an_import_reports_the_same_faults_and_imports_nothing(admin, dry_run):
    from tests.web.test_import import _row, _xlsx

    data = _xlsx([_row(), _row(deadline="31/02/2026"), _row(lead="khong_co")])
    page = _import(admin.web, "/admin/import", data,
                   csrf_token=csrf_token(admin.web, "/admin/import"))
    answer = _import(admin.api, f"/api/v1/tasks/import?dry_run={dry_run}", data,
                     headers=admin.headers)
    assert (page.status_code, answer.status_code) == (422, 422)
    html = page.get_data(as_text=True)
    rows = answer.get_json()["rows"]
    assert {(r["row"], r["column"]) for r in rows} == {(3, "deadline"), (4, "lead_unit")}
    for fault in rows:
        assert str(escape(fault["message"])) in html
    assert _count(Task) == 0


def test_an_import_creates_the_same_tasks_on_both_sides(admin, units):
    from tests.web.test_import import _row, _xlsx

    data = _xlsx([_row(), _row(lead="co_to")])
    page = _import(admin.web, "/admin/import", data,
                   csrf_token=csrf_token(admin.web, "/admin/import"))
    assert page.status_code == 302
    answer = _import(admin.api, "/api/v1/tasks/import", data, headers=admin.headers)
    assert answer.status_code == 201
    made = db.session.execute(select(Task.title, Task.lead_unit_id, Task.deadline)
                              .order_by(Task.id)).all()
    assert made[:2] == made[2:] and len(made) == 4
