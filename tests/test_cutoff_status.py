"""Telling where the cutoff stands — `tracker cutoff status`, the health endpoint, the line
on the admin pages — and refusing a calendar change to a day already judged."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import cutoff_through, ict, make_task
from tests.faults import RunningClock
from tracker.cutoff.backlog import process_due
from tracker.cutoff.models import CutoffRun
from tracker.cutoff.scheduler import KeepUp
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.rules.models import CalendarDay
from tracker.settings.service import set_day

ASSIGNED = ict(2026, 11, 13, 9, 0)


@pytest.fixture
def late(app, clock, users, units):
    """Tasks since Friday 13/11, days processed up to Monday 16/11; at Wednesday 18/11
    16:30 the 17th and the 18th are due and not processed, and no scheduler runs."""
    make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    cutoff_through(date(2026, 11, 16), ict(2026, 11, 16, 16, 0, 1))
    clock.set(ict(2026, 11, 18, 16, 30))
    db.session.commit()


def _status(app) -> tuple[int, dict]:
    result = app.test_cli_runner().invoke(args=["tracker", "cutoff", "status", "--json"])
    return result.exit_code, json.loads(result.output)


def test_status_names_the_last_day_and_each_due_day_with_how_late_it_is(app, late):
    code, status = _status(app)

    assert code == 1
    assert status["last_processed_day"] == "2026-11-16"
    assert [(d["day"], d["late_seconds"]) for d in status["due"]] == [
        ("2026-11-17", 24.5 * 3600), ("2026-11-18", 30 * 60)]
    assert status["late_seconds"] == 24.5 * 3600
    assert status["problems"] == ["late", "no_scheduler"]


def test_status_is_clean_once_a_scheduler_has_caught_up(app, late):
    assert KeepUp(app, name="host:1").tick()

    code, status = _status(app)

    assert code == 0 and status["status"] == "ok" and status["problems"] == []
    assert status["last_processed_day"] == "2026-11-18" and status["due"] == []
    assert status["schedulers"][0]["name"] == "host:1"
    assert status["colours_fresh"] is True


def test_status_in_words_for_the_operator(app, late):
    result = app.test_cli_runner().invoke(args=["tracker", "cutoff", "status"])
    assert result.exit_code == 1
    assert "last processed day: 2026-11-16" in result.output
    assert "DUE, not processed: 2026-11-17" in result.output
    assert "needs attention: late, no_scheduler" in result.output


def test_a_day_due_for_less_than_the_grace_is_not_late(app, clock, late):
    KeepUp(app, name="host:1").tick()
    clock.set(ict(2026, 11, 19, 16, 1))  # the 19th has waited a minute
    _code, status = _status(app)
    assert [d["day"] for d in status["due"]] == ["2026-11-19"]
    assert "late" not in status["problems"]


def test_the_health_endpoint_answers_503_while_a_day_is_late(app, client, late):
    response = client.get("/healthz/cutoff")
    assert response.status_code == 503
    body = response.get_json()
    assert body["problems"] == ["late", "no_scheduler"]
    assert [d["day"] for d in body["due"]] == ["2026-11-17", "2026-11-18"]

    KeepUp(app, name="host:1").tick()
    response = client.get("/healthz/cutoff")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_the_health_endpoint_shows_scheduler_errors_to_admins_only(app, client, late,
                                                                   login_as):
    keep_up = KeepUp(app, name="db-host:42")
    keep_up.failures, keep_up.last_error = 3, "OperationalError: connection refused"
    keep_up._heartbeat()
    anonymous = client.get("/healthz/cutoff").get_json()
    assert anonymous["schedulers"] == [{"role": "active", "state": "failing", "alive": True}]
    assert "connection refused" not in json.dumps(anonymous)

    admin = login_as("admin").get("/healthz/cutoff").get_json()
    assert admin["schedulers"][0]["last_error"] == "OperationalError: connection refused"
    assert admin["problems"] == ["late", "scheduler_failing"]


def test_a_scheduler_silent_too_long_is_shown_silent_not_running(app, client, clock, late):
    KeepUp(app, name="host:1").tick()
    clock.advance(minutes=10)  # it died: no heartbeat since
    answer = client.get("/healthz/cutoff")
    public = answer.get_json()
    assert answer.status_code == 503 and "no_scheduler" in public["problems"]
    assert [(s["state"], s["alive"]) for s in public["schedulers"]] == [("silent", False)]


def test_the_admin_pages_say_how_late_the_cutoff_is(app, late, login_as):
    page = login_as("admin").get("/admin").get_data(as_text=True)
    assert 'data-testid="cutoff-status"' in page
    assert "Giờ chốt: đã xử lý đến ngày 16/11/2026" in page
    assert "Chưa xử lý giờ chốt ngày 17/11/2026: đã trễ 1470 phút." in page
    assert "Không có bộ lập lịch nào đang chạy" in page


def test_the_admin_pages_say_all_is_well_once_processed(app, late, login_as):
    KeepUp(app, name="host:1").tick()
    page = login_as("admin").get("/admin/users").get_data(as_text=True)
    assert "Giờ chốt: đã xử lý đến ngày 18/11/2026 (xong lúc 18/11/2026 16:30:00)." in page
    assert "flash-error" not in page.split('data-testid="cutoff-status"')[0][-200:]
    assert "trễ" not in page


def test_other_roles_do_not_see_the_line(app, late, login_as):
    page = login_as("supervisor").get("/supervise/red").get_data(as_text=True)
    assert 'data-testid="cutoff-status"' not in page


def test_a_days_cutoff_run_records_when_it_started_and_finished(app, users, units):
    make_task(users["admin"], units["ha_long"], at=ASSIGNED)
    started = ict(2026, 11, 13, 16, 0, 1)
    app.config["CLOCK"] = RunningClock(started)  # time passes while the day is judged

    process_due(through=date(2026, 11, 13))

    run = db.session.get(CutoffRun, date(2026, 11, 13))
    assert run.finished_at > run.started_at >= started


# --- the calendar of a day already judged -------------------------------------------------


def test_a_day_whose_cutoff_has_passed_cannot_change(app, users, late):
    with pytest.raises(InvalidInput) as refused:
        set_day(users["admin"], date(2026, 11, 17), "day_off", "")
    assert "17/11/2026" in refused.value.fields["day"][0]
    # Today, after 16:00: its cutoff has passed too.
    with pytest.raises(InvalidInput):
        set_day(users["admin"], date(2026, 11, 18), "day_off", "")
    db.session.rollback()
    set_day(users["admin"], date(2026, 11, 19), "day_off", "Nghỉ bù")  # still ahead
    db.session.commit()
    assert db.session.get(CalendarDay, date(2026, 11, 19)).kind == "day_off"


def test_the_calendar_page_refuses_a_past_day_next_to_the_field(app, late, login_as):
    client = login_as("admin")
    response = client.post("/admin/calendar", data={
        "day": "17/11/2026", "kind": "makeup_day", "note": "",
        "csrf_token": csrf_token(client, "/admin/calendar")})
    assert response.status_code == 422
    assert "đã qua giờ chốt" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)) == 0


def test_the_cli_refuses_a_past_day_with_a_clear_message(app, late):
    result = app.test_cli_runner().invoke(args=["tracker", "calendar", "set", "2026-11-17",
                                                "day_off"])
    assert result.exit_code == 2
    assert "17/11/2026" in result.output
