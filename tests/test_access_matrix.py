"""Who may use what: every web route and every API operation, for every role, against one
declared table of expectations (EXPECTED). A route the table does not declare fails the
test, so a new page or operation must say who may use it.

Reads are GET. A write (POST, PATCH) is sent only for the roles it must refuse, with a
well-formed body so that the refusal is the access rule's, and must change no row of any
table; the writes a role may make are tested elsewhere ("ok" there means "allowed, not
exercised here").
"""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, insert, select
from werkzeug.datastructures import FileStorage

from tests.conftest import csrf_token, login
from tests.factories import cutoff_through, ict, make_task, make_user, task_input
from tracker import clock
from tracker.auth.service import set_active
from tracker.auth.tokens import create_token
from tracker.evidence.models import Evidence
from tracker.evidence.service import attach_file
from tracker.extensions import db
from tracker.kiennghi.service import raise_recommendation
from tracker.notifications.models import Notification
from tracker.tasks.lifecycle import request_extension
from tracker.webhooks.service import create_endpoint

ROLES = ("anonymous", "member", "viewer", "supervisor", "province_admin", "national_admin",
         "deactivated")
API = "/api/v1"
ASSIGNED = ict(2026, 11, 13, 9, 0)

# --- outcomes -----------------------------------------------------------------------------
OK = "ok"  # 2xx, or a redirect elsewhere than the login page; for a write: allowed
LOGIN = "login"  # a redirect to the login page
TODAY = "today"  # a redirect to the member's page, /today
UNAVAILABLE = "503"  # /healthz/cutoff with no scheduler running, whoever asks
R401, R403, R404 = "401", "403", "404"


def gate(*, anonymous=LOGIN, deactivated=LOGIN, member=OK, viewer=OK, supervisor=OK,
         province_admin=OK, national_admin=OK) -> dict[str, str]:
    return {"anonymous": anonymous, "member": member, "viewer": viewer,
            "supervisor": supervisor, "province_admin": province_admin,
            "national_admin": national_admin, "deactivated": deactivated}


EVERYONE = gate(anonymous=OK, deactivated=OK)
LOGGED_IN = gate()
MEMBERS = gate(viewer=R403, supervisor=R403, province_admin=R403, national_admin=R403)
SUPERVISORS = gate(member=R403, viewer=R403)
READERS = gate(member=R403)
DASHBOARD = gate(member=TODAY)
ADMINS = gate(member=R403, viewer=R403, supervisor=R403)
REPORTERS = MEMBERS  # on the task page: only a member of the lead unit's subtree reports
WORKERS = gate(viewer=R403)  # comment: anyone who works on the task, not a viewer
OWNER = gate(viewer=R404, supervisor=R404, province_admin=R404, national_admin=R404)


def api(**roles) -> dict[str, str]:
    """An API operation: no token (or a deactivated user's) is 401."""
    return {**gate(anonymous=R401, deactivated=R401), **roles}


API_ALL = api()
API_READERS = api(member=R403)
API_ADMINS = api(member=R403, viewer=R403, supervisor=R403)
API_MEMBERS = api(viewer=R403, supervisor=R403, province_admin=R403, national_admin=R403)
API_SUPERVISORS = api(member=R403, viewer=R403)
API_WORKERS = api(viewer=R403)

T = "<int:task_id>"
AT = "<int(max=2147483647):task_id>"
EXPECTED: dict[str, dict[str, str]] = {
    # the home page, the language, health, static files, login
    "GET /": gate(member=TODAY),  # each role starts where its daily work is
    "GET /lang/<code>": EVERYONE,
    "GET /healthz": EVERYONE,
    "GET /healthz/cutoff": {role: UNAVAILABLE for role in ROLES},
    "GET /static/<path:filename>": EVERYONE,
    # the phone: the service worker, the manifest, a fresh CSRF token for a kept draft
    "GET /sw.js": EVERYONE,
    "GET /manifest.webmanifest": EVERYONE,
    "GET /offline/csrf-token": LOGGED_IN,
    "GET /push/key": LOGGED_IN,
    "POST /push/subscriptions": LOGGED_IN,
    "POST /push/subscriptions/delete": LOGGED_IN,
    "GET /login": EVERYONE,
    "POST /login": EVERYONE,
    "POST /logout": LOGGED_IN,
    # the second step of a login: without a login waiting for its code, back to /login
    # (a logged-in user goes home)
    "GET /login/code": LOGGED_IN,
    "POST /login/code": EVERYONE,
    # single sign-on: not configured here, so not found for anyone (tests/test_sso.py runs
    # it against a real provider)
    "GET /login/sso": {role: R404 for role in ROLES},
    "GET /login/sso/callback": {role: R404 for role in ROLES},
    # the account: contact details, password, tokens, notifications
    "GET /account/profile": LOGGED_IN,
    "POST /account/profile": LOGGED_IN,
    "GET /account/password": LOGGED_IN,
    "POST /account/password": LOGGED_IN,
    "GET /account/tokens": LOGGED_IN,
    "POST /account/tokens": LOGGED_IN,
    "POST /account/tokens/<int:token_id>/revoke": OWNER,
    "GET /account/two-factor": LOGGED_IN,
    "POST /account/two-factor/setup": LOGGED_IN,
    "POST /account/two-factor/confirm": LOGGED_IN,
    "POST /account/two-factor/recovery-codes": LOGGED_IN,
    "POST /account/two-factor/disable": LOGGED_IN,
    "GET /account/notifications": LOGGED_IN,
    "POST /account/notifications": LOGGED_IN,
    "GET /account/calendar": LOGGED_IN,
    "POST /account/calendar/reset": LOGGED_IN,
    "POST /account/calendar/off": LOGGED_IN,
    # the calendar feed: the secret in the address is the credential (an unknown one: 404)
    "GET /calendar/<token>.ics": {role: R404 for role in ROLES},
    "GET /notifications": LOGGED_IN,
    "POST /notifications/read": LOGGED_IN,
    # one's own notification, opened (marked read) on the way to its page; others' 404
    "GET /notifications/<int(max=2147483647):notification_id>": OWNER,
    # task pages (the task is led by the member's commune: everyone's subtree holds it)
    "GET /tasks": LOGGED_IN,
    "GET /tasks/export.xlsx": LOGGED_IN,
    f"GET /tasks/{T}": LOGGED_IN,
    f"GET /tasks/{T}/audit.csv": LOGGED_IN,
    f"GET /tasks/{T}/evidence/<int:evidence_id>": LOGGED_IN,
    f"POST /tasks/{T}/updates": REPORTERS,
    f"POST /tasks/{T}/comments": WORKERS,
    # kiến nghị (raised by the member's commune: everyone's subtree holds it)
    "GET /kien-nghi": LOGGED_IN,
    "GET /kien-nghi/export.xlsx": LOGGED_IN,
    "GET /kien-nghi/queue": WORKERS,
    "GET /kien-nghi/overdue": SUPERVISORS,
    "GET /kien-nghi/new": MEMBERS,
    "POST /kien-nghi/new": MEMBERS,
    "GET /kien-nghi/<int:rec_id>": LOGGED_IN,
    "GET /kien-nghi/files/<int:file_id>": LOGGED_IN,
    "POST /kien-nghi/<int:rec_id>/route": SUPERVISORS,
    "POST /kien-nghi/<int:rec_id>/forward": SUPERVISORS,
    "POST /kien-nghi/<int:rec_id>/merge": SUPERVISORS,
    "POST /kien-nghi/<int:rec_id>/answer": gate(viewer=R403, province_admin=R403,
                                                national_admin=R403),
    "POST /kien-nghi/<int:rec_id>/accept": MEMBERS,
    "POST /kien-nghi/<int:rec_id>/ask-again": MEMBERS,
    # the member's pages
    "GET /today": MEMBERS,
    "GET /today/all": MEMBERS,
    "POST /today/all": MEMBERS,
    f"POST /today/tasks/{T}/update": MEMBERS,
    f"GET /tasks/{T}/complete": MEMBERS,
    f"POST /tasks/{T}/complete": MEMBERS,
    f"GET /tasks/{T}/extension": MEMBERS,
    f"POST /tasks/{T}/extension": MEMBERS,
    # the supervisor's pages
    "GET /supervise/red": SUPERVISORS,
    "GET /supervise/warnings": SUPERVISORS,
    "GET /supervise/inbox": SUPERVISORS,
    f"POST /supervise/tasks/{T}/nudge": SUPERVISORS,
    f"POST /supervise/tasks/{T}/acknowledge": SUPERVISORS,
    f"POST /supervise/tasks/{T}/confirm": SUPERVISORS,
    f"POST /supervise/tasks/{T}/return": SUPERVISORS,
    f"POST /supervise/tasks/{T}/extensions/<int:request_id>": SUPERVISORS,
    "GET /reports/daily": READERS,
    "GET /reports/daily.<any(csv, xlsx, pdf, docx):fmt>": READERS,
    # signed with the unit's certificate: the role here, the unit's own office in the service
    "POST /reports/daily/signed.pdf": SUPERVISORS,
    # the dashboard
    "GET /dashboard": DASHBOARD,
    "GET /dashboard/units/<int:unit_id>": DASHBOARD,
    "GET /dashboard/units/<int:unit_id>/tasks": DASHBOARD,
    "GET /dashboard/compare": DASHBOARD,  # and every page above with ?date= (a past day)
    "GET /dashboard/compare.xlsx": DASHBOARD,
    # the 16:00 wall (màn hình giám sát) and the figures it polls
    "GET /wall": DASHBOARD,
    "GET /wall/data.json": DASHBOARD,
    # administration
    "GET /admin": ADMINS,
    "GET /admin/units": ADMINS,
    "GET /admin/units/<int:unit_id>": ADMINS,
    "POST /admin/units/<int:unit_id>/departments": ADMINS,
    "POST /admin/units/<int:unit_id>/name": ADMINS,
    "POST /admin/units/<int:unit_id>/active": ADMINS,
    "GET /admin/users": ADMINS,
    "GET /admin/users/new": ADMINS,
    "POST /admin/users/new": ADMINS,
    "GET /admin/users/<int:user_id>": ADMINS,
    "POST /admin/users/<int:user_id>/contact": ADMINS,
    "POST /admin/users/<int:user_id>/role": ADMINS,
    "POST /admin/users/<int:user_id>/active": ADMINS,
    "POST /admin/users/<int:user_id>/password": ADMINS,
    "POST /admin/users/<int:user_id>/tokens/<int:token_id>/revoke": ADMINS,
    "POST /admin/users/<int:user_id>/sso/unlink": ADMINS,
    "POST /admin/users/<int:user_id>/sso/allow": ADMINS,
    "GET /admin/tasks/new": ADMINS,
    "POST /admin/tasks/new": ADMINS,
    "GET /admin/tasks/bulk": ADMINS,
    "POST /admin/tasks/bulk": ADMINS,
    # an admin's changes to a task of their subtree (edit, reassign, cancel)
    f"GET /admin/tasks/{T}/edit": ADMINS,
    f"POST /admin/tasks/{T}/edit": ADMINS,
    f"POST /admin/tasks/{T}/reassign": ADMINS,
    f"POST /admin/tasks/{T}/cancel": ADMINS,
    "GET /admin/import": ADMINS,
    "POST /admin/import": ADMINS,
    "GET /admin/import/template.<any(xlsx, csv):extension>": ADMINS,
    "GET /admin/calendar": ADMINS,
    "POST /admin/calendar": ADMINS,
    "POST /admin/calendar/<day>/delete": ADMINS,
    "GET /admin/policy": ADMINS,
    "POST /admin/policy": ADMINS,
    "GET /admin/security-events": ADMINS,
    "GET /admin/security-events.csv": ADMINS,
    "POST /admin/users/<int:user_id>/two-factor/reset": ADMINS,
    "GET /admin/units/<int:unit_id>/report-settings": ADMINS,
    "POST /admin/units/<int:unit_id>/report-settings": ADMINS,
    "POST /admin/units/<int:unit_id>/signing-key": ADMINS,
    "POST /admin/units/<int:unit_id>/signing-key/delete": ADMINS,
    "GET /admin/webhooks": ADMINS,
    "POST /admin/webhooks": ADMINS,
    "GET /admin/webhooks/<int:endpoint_id>": ADMINS,
    "POST /admin/webhooks/<int:endpoint_id>": ADMINS,
    "POST /admin/webhooks/<int:endpoint_id>/test": ADMINS,
    "POST /admin/webhooks/<int:endpoint_id>/secret": ADMINS,
    "POST /admin/webhooks/<int:endpoint_id>/delete": ADMINS,
    # the API
    f"GET {API}/openapi.json": EVERYONE,
    f"GET {API}/me": API_ALL,
    f"PATCH {API}/me": API_ALL,
    f"POST {API}/me/password": API_ALL,
    f"GET {API}/units": API_ALL,
    f"POST {API}/units": API_ADMINS,
    f"GET {API}/units/<int(max=2147483647):unit_id>": API_ALL,
    f"PATCH {API}/units/<int(max=2147483647):unit_id>": API_ADMINS,
    f"POST {API}/units/<int(max=2147483647):unit_id>/retire": API_ADMINS,
    f"POST {API}/units/<int(max=2147483647):unit_id>/reactivate": API_ADMINS,
    f"GET {API}/units/<int(max=2147483647):unit_id>/summary": API_READERS,
    f"POST {API}/units/<int(max=2147483647):unit_id>/updates": API_MEMBERS,
    f"GET {API}/users": API_ADMINS,
    f"POST {API}/users": API_ADMINS,
    f"GET {API}/users/<int(max=2147483647):user_id>": API_ADMINS,
    f"PATCH {API}/users/<int(max=2147483647):user_id>": API_ADMINS,
    f"POST {API}/users/<int(max=2147483647):user_id>/deactivate": API_ADMINS,
    f"POST {API}/users/<int(max=2147483647):user_id>/activate": API_ADMINS,
    f"GET {API}/users/<int(max=2147483647):user_id>/tokens": API_ADMINS,
    f"POST {API}/users/<int(max=2147483647):user_id>/tokens/<int(max=2147483647):token_id>"
    "/revoke": API_ADMINS,
    f"GET {API}/tasks": API_ALL,
    f"GET {API}/tasks/export.xlsx": API_ALL,
    f"POST {API}/tasks": API_ADMINS,
    f"POST {API}/tasks/bulk": API_ADMINS,
    f"GET {API}/tasks/{AT}": API_ALL,
    f"PATCH {API}/tasks/{AT}": API_ADMINS,
    f"POST {API}/tasks/{AT}/reassign": API_ADMINS,
    f"GET {API}/tasks/{AT}/audit": API_ALL,
    f"GET {API}/tasks/{AT}/updates": API_ALL,
    f"POST {API}/tasks/{AT}/updates": API_MEMBERS,
    f"POST {API}/tasks/{AT}/submit": API_MEMBERS,
    f"POST {API}/tasks/{AT}/confirm": API_SUPERVISORS,
    f"POST {API}/tasks/{AT}/return": API_SUPERVISORS,
    f"POST {API}/tasks/{AT}/cancel": API_ADMINS,
    f"GET {API}/tasks/{AT}/extensions": API_ALL,
    f"POST {API}/tasks/{AT}/extensions": API_MEMBERS,
    f"GET {API}/extensions": API_ALL,
    f"GET {API}/inbox": API_SUPERVISORS,
    f"POST {API}/extensions/<int(max=2147483647):extension_id>/approve": API_SUPERVISORS,
    f"POST {API}/extensions/<int(max=2147483647):extension_id>/reject": API_SUPERVISORS,
    f"GET {API}/tasks/{AT}/comments": API_ALL,
    f"POST {API}/tasks/{AT}/comments": API_WORKERS,
    f"POST {API}/tasks/{AT}/nudge": API_SUPERVISORS,
    f"GET {API}/reports/daily": API_READERS,
    f"GET {API}/dashboard/day": API_READERS,
    f"GET {API}/dashboard/compare": API_READERS,
    f"GET {API}/forecast/warnings": API_SUPERVISORS,
    f"POST {API}/reports/daily/signed": API_SUPERVISORS,
    f"GET {API}/units/<int(max=2147483647):unit_id>/report-settings": API_ADMINS,
    f"PUT {API}/units/<int(max=2147483647):unit_id>/report-settings": API_ADMINS,
    f"GET {API}/security-events": API_ADMINS,
    # the calendar: every admin reads it; the deployment's admins (both here) change it
    f"GET {API}/calendar": API_ADMINS,
    f"PUT {API}/calendar/<day>": API_ADMINS,
    f"DELETE {API}/calendar/<day>": API_ADMINS,
    f"POST {API}/tasks/import": API_ADMINS,
    f"GET {API}/tasks/import/template": API_ADMINS,
    f"GET {API}/notifications": API_ALL,
    f"POST {API}/notifications/read": API_ALL,
    # one's own notification: anyone else's is not found
    f"POST {API}/notifications/<int(max=2147483647):notification_id>/read": api(
        viewer=R404, supervisor=R404, province_admin=R404, national_admin=R404),
    f"GET {API}/tasks/{AT}/evidence": API_ALL,
    f"POST {API}/tasks/{AT}/evidence": API_MEMBERS,
    f"GET {API}/tasks/{AT}/evidence/<int(max=2147483647):evidence_id>": API_ALL,
    f"GET {API}/recommendations": API_ALL,
    f"POST {API}/recommendations": API_MEMBERS,
    f"GET {API}/recommendations/<int(max=2147483647):rec_id>": API_ALL,
    f"POST {API}/recommendations/<int(max=2147483647):rec_id>/route": API_SUPERVISORS,
    f"POST {API}/recommendations/<int(max=2147483647):rec_id>/forward": API_SUPERVISORS,
    f"POST {API}/recommendations/<int(max=2147483647):rec_id>/merge": API_SUPERVISORS,
    f"POST {API}/recommendations/<int(max=2147483647):rec_id>/answer": api(
        viewer=R403, province_admin=R403, national_admin=R403),
    f"POST {API}/recommendations/<int(max=2147483647):rec_id>/accept": API_MEMBERS,
    f"POST {API}/recommendations/<int(max=2147483647):rec_id>/ask-again": API_MEMBERS,
    f"GET {API}/recommendations/<int(max=2147483647):rec_id>/files": API_ALL,
    f"POST {API}/recommendations/<int(max=2147483647):rec_id>/files": api(
        viewer=R403, province_admin=R403, national_admin=R403),
    f"GET {API}/recommendations/files/<int(max=2147483647):file_id>": API_ALL,
}


def _routes(app) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_and_operation_is_declared(app):
    routes = _routes(app)
    assert sorted(routes - EXPECTED.keys()) == [], "declare who may use these routes"
    assert sorted(EXPECTED.keys() - routes) == [], "these routes are gone"


# --- the world ----------------------------------------------------------------------------


@pytest.fixture
def world(app, users, units, tmp_path):
    """On Wednesday 18/11/2026 10:00: a task led by Hạ Long (every role's subtree holds it)
    with an evidence file and a pending extension request; Tuesday's cutoff processed; a
    national admin; a province admin who is deactivated once logged in."""
    app.config["TRACKER_EVIDENCE_PATH"] = str(tmp_path / "evidence")
    member = users["ha_long"]
    task = make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    evidence = attach_file(member, task, FileStorage(io.BytesIO(png), filename="anh.png"),
                           now=ict(2026, 11, 16, 9, 0))
    extension = request_extension(member, task, new_deadline=date(2027, 1, 31),
                                  reason="Chờ phê duyệt", now=ict(2026, 11, 16, 9, 5))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    [notification_id] = db.session.scalars(insert(Notification).returning(Notification.id), [{
        "user_id": member.id, "kind": "nudge", "task_id": task.id, "message": "Nhắc",
        "created_at": ict(2026, 11, 17, 9, 0)}]).all()
    recommendation = raise_recommendation(member, {
        "title": "Vướng mắc", "content": "Nội dung", "field": "Đất đai",
        "legal_basis": "Luật Đất đai", "level_asked": "province"}, now=ASSIGNED,
        files=[FileStorage(io.BytesIO(png), filename="so-do.png")])
    people = {"member": member, "viewer": users["viewer"], "supervisor": users["supervisor"],
              "province_admin": users["admin"],
              "national_admin": make_user("nation_admin", "admin", units["nation"]),
              "deactivated": make_user("gone", "admin", units["province"])}
    tokens = {role: create_token(None, user, name="matrix", now=clock.now())
              for role, user in people.items()}
    endpoint, _secret = create_endpoint(users["admin"], {
        "name": "Cổng tỉnh", "url": "https://hooks.example.org/tracker",
        "unit_id": units["province"].id, "events": ["task.created"]}, now=clock.now())
    db.session.commit()
    return {
        "people": people, "tokens": {role: raw for role, (_t, raw) in tokens.items()},
        "values": {
            "task_id": task.id, "evidence_id": evidence.id, "request_id": extension.id,
            "extension_id": extension.id, "rec_id": recommendation.id,
            "unit_id": units["ha_long"].id,
            "user_id": users["co_to"].id, "token_id": tokens["member"][0].id,
            "day": "2026-12-24", "fmt": "csv", "extension": "csv", "code": "en",
            "filename": "css/app.css", "endpoint_id": endpoint.id, "token": "cal_unknown",
            "notification_id": notification_id,
            "file_id": db.session.scalar(select(Evidence.id).where(
                Evidence.recommendation_id == recommendation.id)),
        },
    }


def _client(app, world, role):
    """A browser for `role`: logged in (the deactivated user before losing the account)."""
    client = app.test_client()
    if role != "anonymous":
        response = login(client, world["people"][role].username)
        assert response.status_code == 302, role
    if role == "deactivated":
        set_active(None, world["people"][role], False)
        db.session.commit()
    return client


def _url(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def _outcome(response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        target = urlsplit(response.headers["Location"]).path
        return {"/login": LOGIN, "/today": TODAY}.get(target, OK)
    if status < 300:
        return OK
    return str(status)


def _row_counts() -> dict[str, int]:
    """Rows per table; but the rate limits' windows (`rate_counts`, on PostgreSQL), which
    every request counts in, refused or not, and whose first window a write may open."""
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables if table.name != "rate_counts"}


def _api_body(path: str, values: dict, units) -> dict | None:
    """A well-formed body for each API write, so that a refusal is the access rule's."""
    update = {"progress": 50, "work_done": "Đã làm"}
    if path.endswith("/users"):
        return {"username": "moi", "password": "correct horse battery", "role": "member",
                "unit_id": values["unit_id"]}
    if path.endswith("/tasks"):
        return task_input(units["ha_long"])
    if path.endswith("/tasks/bulk"):
        return {**task_input(units["ha_long"]), "unit_ids": [values["unit_id"]]}
    if path.endswith(f"/units/{values['unit_id']}/updates"):
        return {"items": [{"task_id": values["task_id"], **update}]}
    bodies = {"updates": update, "submit": {"result": "Xong"}, "confirm": {}, "approve": {},
              "return": {"note": "Thiếu"},
              "cancel": {"note": "Trùng"}, "reject": {"note": "Không"},
              "reassign": {"owner_name": "Người khác"},
              "extensions": {"requested_deadline": "2027-02-28", "reason": "Cần thêm"},
              "comments": {"body": "Ghi chú"}, "nudge": {"message": "Khẩn trương"}}
    return bodies.get(path.rsplit("/", 1)[-1], {"title": "Sửa"} if "/tasks/" in path else {})


def _form(client, role: str) -> dict[str, str]:
    """Every field the task pages' forms read, filled, with a valid CSRF token."""
    page = "/login" if role in ("anonymous", "deactivated") else "/account/tokens"
    return {"csrf_token": csrf_token(client, page), "progress": "50", "work_done": "Đã làm",
            "comment-body": "Ghi chú", "nudge-message": "Khẩn trương", "ack-body": "Đã biết",
            "confirm-note": "", "return-note": "Thiếu", "decision-note": "Không",
            "decision": "reject", "result": "Xong", "version": "1",
            "reassign-owner_name": "Người khác", "cancel-note": "Trùng",
            "requested_deadline": "28/02/2027",
            "reason": "Cần thêm", "active": "0", "role": "viewer", "password": "x",
            "password2": "x", "day": "24/12/2026", "kind": "day_off"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_declares(app, world, units, role):
    browser = _client(app, world, role)
    api_client = app.test_client()
    token = world["tokens"].get(role)
    headers = {"Authorization": f"Bearer {token}"} if token and role != "anonymous" else {}
    wrong = []
    for key, expected in sorted(EXPECTED.items()):
        method, rule = key.split(" ", 1)
        want = expected[role]
        if method != "GET" and want == OK:
            continue  # an allowed write: tested elsewhere
        url = _url(rule, world["values"])
        before = _row_counts() if method != "GET" else None
        if rule.startswith(API) and not rule.endswith("openapi.json"):
            response = api_client.open(url, method=method, headers=headers,
                                       json=_api_body(url, world["values"], units)
                                       if method != "GET" else None)
        elif method == "GET":
            response = browser.get(url)
        else:
            response = browser.open(url, method=method, data=_form(browser, role))
        got = _outcome(response)
        response.close()  # file answers (static, evidence, downloads) hold their file
        if got != want:
            wrong.append(f"{key}: expected {want}, got {got}")
        if before is not None and _row_counts() != before:
            wrong.append(f"{key}: refused, yet rows changed")
    assert not wrong, "\n".join(wrong)
