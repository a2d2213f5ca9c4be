"""The admins' security events: the page (/admin/security-events), its CSV and the API
(GET /api/v1/security-events) — newest first, within the admin's subtree, filtered by
kind, user and days, labelled in Vietnamese, times in Vietnam's time."""

from __future__ import annotations

import csv
import io

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.conftest import login
from tests.factories import ict, make_user
from tracker.audit.models import SecurityEvent
from tracker.audit.security import SecurityEventKind, record_security
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.labels import SECURITY_EVENT_LABELS
from tracker.scope import can_see_security_event, visible_security_events

URL = "/admin/security-events"
UNTIL_TUESDAY = {"date_to": "17/11/2026"}


@pytest.fixture
def events(app, users, units):
    """A login in Hạ Long, a password reset in Cô Tô, a province-level token, and a failed
    login for a name with no account (placed nowhere) — on Tuesday. (The tests
    read up to Tuesday: creating the users and logging in, today, record events of their
    own.)"""
    admin = users["admin"]
    record_security(SecurityEventKind.LOGIN, at=ict(2026, 11, 17, 6, 30), user=users["ha_long"],
                    address="10.0.0.1")
    record_security(SecurityEventKind.PASSWORD_RESET, at=ict(2026, 11, 17, 9, 30),
                    actor=admin, user=users["co_to"])
    record_security(SecurityEventKind.TOKEN_CREATED, at=ict(2026, 11, 17, 23, 30),
                    actor=admin, user=admin, detail="=HYPERLINK(\"http://x\",\"y\")")
    record_security(SecurityEventKind.LOGIN_FAILED, at=ict(2026, 11, 17, 7, 0),
                    username="+ghost", detail="@password")
    db.session.commit()


def _kinds(response) -> list[str]:
    import re

    return re.findall(r'<tr data-kind="([a-z_]+)">', response.get_data(as_text=True))


def test_every_kind_has_a_vietnamese_label(app):
    assert set(SECURITY_EVENT_LABELS) == {kind.value for kind in SecurityEventKind}
    with force_locale("vi"):
        untranslated = [key for key, label in SECURITY_EVENT_LABELS.items()
                        if str(label) == label._args[0]]
    assert untranslated == []


def test_newest_first_in_vietnam_time(app, users, units, events, client):
    # Quảng Ninh is the whole deployment here: its admin also reads the events placed
    # nowhere (tracker.scope.manages_deployment).
    login(client, "admin")
    response = client.get(URL, query_string=UNTIL_TUESDAY)
    assert response.status_code == 200
    assert _kinds(response) == ["token_created", "password_reset", "login_failed", "login"]
    page = response.get_data(as_text=True)
    assert "17/11/2026 23:30:00" in page and "Tạo mã truy cập API" in page


def test_a_communes_admin_sees_only_its_commune_not_the_events_placed_nowhere(
        app, users, units, events, client):
    make_user("co_to_admin", "admin", units["co_to"])
    db.session.commit()
    login(client, "co_to_admin")
    assert _kinds(client.get(URL, query_string=UNTIL_TUESDAY)) == ["password_reset"]


def test_filter_by_kind_user_and_days(app, users, events, client):
    login(client, "admin")
    assert _kinds(client.get(URL, query_string={"kind": "login", **UNTIL_TUESDAY})) == \
        ["login"]
    assert _kinds(client.get(URL, query_string={"user": "CO_TO", **UNTIL_TUESDAY})) == \
        ["password_reset"]
    days = {"date_from": "17/11/2026", "date_to": "17/11/2026"}
    assert _kinds(client.get(URL, query_string=days)) == \
        ["token_created", "password_reset", "login_failed", "login"]
    # Days are Vietnam's: the login at 06:30 on the 17th is the 16th's 23:30 in UTC.
    assert _kinds(client.get(URL, query_string={"date_to": "16/11/2026"})) == []
    assert _kinds(client.get(URL, query_string={"date_from": "18/11/2026", "kind": "login",
                                                "user": "ha_long"})) == []


def test_a_bad_filter_is_named_not_a_500(app, users, events, client):
    login(client, "admin")
    response = client.get(URL, query_string={"date_from": "31/02/2026", "kind": "nope"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "date_from" in page and "kind" in page
    response = client.get(URL, query_string={"date_from": "18/11/2026",
                                             "date_to": "17/11/2026"})
    assert response.status_code == 422 and "date_to" in response.get_data(as_text=True)


def test_pages_of_fifty(app, users, client):
    for minute in range(55):
        record_security(SecurityEventKind.LOGIN, at=ict(2026, 11, 17, 8, minute),
                        user=users["ha_long"])
    db.session.commit()
    login(client, "admin")
    first = client.get(URL, query_string={"user": "ha_long", **UNTIL_TUESDAY})
    second = client.get(URL, query_string={"user": "ha_long", "page": 2, **UNTIL_TUESDAY})
    assert len(_kinds(first)) == 50 and len(_kinds(second)) == 5
    assert "08:54:00" in first.get_data(as_text=True)
    assert "08:00:00" in second.get_data(as_text=True)


def test_the_csv_is_filtered_neutralised_and_its_export_recorded(app, users, units, events,
                                                                  client):
    make_user("nation_admin", "admin", units["nation"])
    db.session.commit()
    login(client, "nation_admin")
    response = client.get(f"{URL}.csv", query_string={"date_from": "17/11/2026",
                                                      **UNTIL_TUESDAY})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="nhat-ky-an-ninh-18-11-2026.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[2] for row in rows[1:]] == ["admin", "co_to", "'+ghost", "ha_long"]
    assert rows[1][6] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert rows[3][6] == "'@password"
    assert rows[2][0] == "17/11/2026 09:30:00"
    db.session.rollback()
    exported = db.session.scalars(select(SecurityEvent).where(
        SecurityEvent.kind == "report_exported")).all()
    assert [e.detail for e in exported] == ["security events, csv"]


def test_the_api_gives_the_same_events_to_admins(app, users, units, events, client):
    from tracker import clock

    _t, raw = create_token(None, users["admin"], name="t", now=clock.now())
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get("/api/v1/security-events", headers=headers,
                      query_string=UNTIL_TUESDAY).get_json()
    assert [e["kind"] for e in body["items"]] == \
        ["token_created", "password_reset", "login_failed", "login"]
    assert body["total"] == 4
    body = client.get("/api/v1/security-events", headers=headers,
                      query_string={"kind": "login", "per_page": 1}).get_json()
    assert [e["username"] for e in body["items"]] == ["ha_long"]
    response = client.get("/api/v1/security-events", headers=headers,
                          query_string={"date_to": "nope"})
    assert response.status_code == 422 and "date_to" in response.get_json()["fields"]


def test_scope_twin_agrees(app, users, units, events):
    """`can_see_security_event` and its SQL form `visible_security_events` agree for every
    role and level."""
    people = [*users.values(), make_user("nation_admin", "admin", units["nation"]),
              make_user("co_to_admin", "admin", units["co_to"])]
    every = db.session.scalars(select(SecurityEvent)).all()
    for person in people:
        by_sql = set(db.session.scalars(visible_security_events(person).with_only_columns(
            SecurityEvent.id)))
        by_rule = {e.id for e in every if can_see_security_event(person, e)}
        assert by_sql == by_rule, person.username
