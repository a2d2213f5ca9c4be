"""The working-day calendar through the API: read a year, set and clear a day — the
admin's calendar page's service, its scope (the whole deployment's admin) and its
refusals naming the fields."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import make_task, make_user
from tracker.audit.models import SecurityEvent
from tracker.extensions import db
from tracker.rules.models import CalendarDay
from tracker.tasks.models import Task


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_admin_reads_the_years_holidays_and_recorded_days(api):
    assert api("admin").put("/calendar/2026-12-24", json={"kind": "day_off",
                                                          "note": "Nghỉ bù"}).status_code == 200
    answer = api("admin").get("/calendar?year=2026")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["year"] == 2026 and body["can_change"] is True
    assert {"day": "2026-09-02"} in [{"day": h["day"]} for h in body["holidays"]]
    assert [(d["day"], d["kind"], d["note"]) for d in body["days"]] == [
        ("2026-12-24", "day_off", "Nghỉ bù")]
    assert api("admin").get("/calendar?year=2027").get_json()["days"] == []


def test_the_year_is_this_one_by_default(api):
    assert api("admin").get("/calendar").get_json()["year"] == 2026  # the clock: 18/11/2026


def test_an_admin_sets_and_clears_a_day_as_the_page_does(api):
    answer = api("admin").put("/calendar/24-12-2026", json={"kind": "makeup_day"})
    assert answer.status_code == 200
    assert answer.get_json()["day"] == "2026-12-24"
    assert db.session.get(CalendarDay, date(2026, 12, 24)).kind == "makeup_day"
    # set again: the same row changes
    assert api("admin").put("/calendar/2026-12-24", json={"kind": "day_off"}).status_code == 200
    assert db.session.get(CalendarDay, date(2026, 12, 24)).kind == "day_off"
    assert api("admin").delete("/calendar/2026-12-24").status_code == 204
    db.session.rollback()
    assert db.session.get(CalendarDay, date(2026, 12, 24)) is None
    # clearing a plain day changes nothing
    assert api("admin").delete("/calendar/2026-12-24").status_code == 204
    kinds = db.session.scalars(select(SecurityEvent.detail)
                               .where(SecurityEvent.kind == "calendar_changed")).all()
    assert len(kinds) == 3  # set, changed, removed: recorded as on the page


def test_a_makeup_day_recolours_tasks_at_once(api, users, units):
    # Deadline Monday 23/11: 3 working days from Wednesday 18/11 (yellow); a make-up
    # Saturday makes it 4, outside the warning window: green.
    task = make_task(users["admin"], units["ha_long"], deadline="2026-11-23")
    db.session.commit()
    assert task.colour == "yellow"
    assert api("admin").put("/calendar/2026-11-21", json={"kind": "makeup_day"}).status_code \
        == 200
    db.session.rollback()
    assert db.session.get(Task, task.id).colour == "green"


@pytest.mark.parametrize("day,body,fields", [
    ("31-02-2026", {"kind": "day_off"}, {"day"}),
    ("hom-qua", {"kind": "day_off"}, {"day"}),
    ("2026-12-24", {"kind": "holiday"}, {"kind"}),
    ("2026-12-24", {}, {"kind"}),
    ("2026-12-24", {"kind": "day_off", "note": "x" * 301}, {"note"}),
    ("2026-12-24", {"kind": "day_off", "note": 5}, {"note"}),
    ("9999-12-24", {"kind": 1}, {"day", "kind"}),
    ("2026-11-17", {"kind": "day_off"}, {"day"}),  # its cutoff has passed
])
def test_bad_input_is_refused_naming_the_fields(api, day, body, fields):
    answer = api("admin").put(f"/calendar/{day}", json=body)
    assert answer.status_code == 422
    assert set(answer.get_json()["fields"]) == fields
    assert _count(CalendarDay) == 0


def test_a_body_that_is_no_object_is_refused(api):
    answer = api("admin").put("/calendar/2026-12-24", json=["day_off"])
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"body"}


def test_clearing_a_malformed_day_names_it(api):
    answer = api("admin").delete("/calendar/yesterday")
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"day"}


@pytest.mark.parametrize("role", ["ha_long", "supervisor", "viewer"])
def test_only_admins_read_or_change_the_calendar(api, role):
    assert api(role).get("/calendar").status_code == 403
    assert api(role).put("/calendar/2026-12-24", json={"kind": "day_off"}).status_code == 403
    assert api(role).delete("/calendar/2026-12-24").status_code == 403
    assert _count(CalendarDay) == 0


def test_a_commune_admin_reads_but_does_not_change_what_holds_for_every_unit(
        app, client, units, users):
    from tests.api.conftest import ApiClient
    from tracker import clock
    from tracker.auth.tokens import create_token

    db.session.add(CalendarDay(day=date(2026, 12, 24), kind="day_off", note=""))
    commune_admin = make_user("co_to_admin", "admin", units["co_to"])
    _t, raw = create_token(None, commune_admin, name="t", now=clock.now())
    db.session.commit()
    commune = ApiClient(client, raw)
    answer = commune.get("/calendar")
    assert answer.status_code == 200 and answer.get_json()["can_change"] is False
    assert commune.put("/calendar/2026-12-25", json={"kind": "day_off"}).status_code == 403
    assert commune.delete("/calendar/2026-12-24").status_code == 403
    assert _count(CalendarDay) == 1


def test_a_year_outside_the_calendar_is_refused(api):
    answer = api("admin").get("/calendar?year=1999")
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"year"}
