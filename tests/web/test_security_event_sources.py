"""Security events of the calendar, the policy and the report downloads: each change or
export leaves one event with a short detail of what happened (ASVS 16.3)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tracker import clock
from tracker.audit.models import SecurityEvent
from tracker.auth.tokens import create_token
from tracker.extensions import db


def _events(kind: str) -> list[SecurityEvent]:
    db.session.rollback()
    return db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)
                              .order_by(SecurityEvent.id)).all()


def _form(client, url: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def test_a_day_off_set_and_removed_is_recorded(app, users, login_as):
    client = login_as("admin")
    assert _form(client, "/admin/calendar", day="24/12/2026", kind="day_off",
                 note="Nghỉ bù").status_code == 302
    assert _form(client, "/admin/calendar/2026-12-24/delete").status_code == 302
    added, removed = _events("calendar_changed")
    assert added.detail == "2026-12-24: working_day -> day_off (Nghỉ bù)"
    assert removed.detail == "2026-12-24: day_off removed"
    assert {added.actor_id, removed.actor_id} == {users["admin"].id}
    assert added.unit_id == users["admin"].unit_id


def test_a_refused_calendar_change_records_nothing(app, users, login_as):
    assert _form(login_as("admin"), "/admin/calendar", day="31/02/2026",
                 kind="day_off").status_code == 422
    assert _events("calendar_changed") == []


def test_a_policy_change_is_recorded_with_what_changed(app, users, login_as):
    client = login_as("admin")
    assert _form(client, "/admin/policy", warning_working_days="5",
                 missed_days_to_red="2").status_code == 302
    [event] = _events("policy_changed")
    assert event.detail == "warning_working_days: 3 -> 5"
    assert _form(client, "/admin/policy", warning_working_days="5",
                 missed_days_to_red="2").status_code == 302
    assert len(_events("policy_changed")) == 1  # nothing changed, nothing recorded


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_report_downloaded_from_the_web_is_recorded(app, users, units, world, login_as, fmt):
    response = login_as("supervisor").get(f"/reports/daily.{fmt}?date=2026-11-17")
    assert response.status_code == 200
    response.close()
    [event] = _events("report_exported")
    assert event.detail == f"daily_report 2026-11-17 {fmt} (unit {units['province'].id})"
    assert (event.actor_id, event.unit_id) == (users["supervisor"].id, units["province"].id)


def test_a_report_downloaded_through_the_api_is_recorded(app, users, units, world, client):
    _token, raw = create_token(None, users["co_to_viewer"], name="t", now=clock.now())
    db.session.commit()
    response = client.get("/api/v1/reports/daily?date=2026-11-17&format=xlsx",
                          headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    [event] = _events("report_exported")
    assert event.detail == f"daily_report 2026-11-17 xlsx (unit {units['co_to'].id})"
    assert event.actor_id == users["co_to_viewer"].id


def test_reading_the_report_as_json_is_not_an_export(app, users, world, client):
    _token, raw = create_token(None, users["viewer"], name="t", now=clock.now())
    db.session.commit()
    assert client.get("/api/v1/reports/daily?date=2026-11-17",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert _events("report_exported") == []
