"""The dashboard: counts by colour and by the four categories as the colour rules give them,
the 30-day green-rate trend drawn on the server, units ranked by green rate, and the
drill-down province → commune → tasks — each user within their subtree."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import cutoff_through, ict, make_task, task_input
from tracker.cutoff.models import CutoffRun
from tracker.extensions import db
from tracker.reports.history import green_rate_trend
from tracker.reports.live import rollup
from tracker.rules.store import load_calendar, load_policy
from tracker.tasks.colour import colour_of, refresh_colour
from tracker.tasks.lifecycle import cancel_task, confirm_completion, submit_completion
from tracker.tasks.models import Task
from tracker.tasks.service import bulk_assign
from tracker.updates.service import post_update


def _done(task, member, supervisor, submitted):
    submit_completion(member, task, result="Đã xong", now=submitted)
    confirm_completion(supervisor, task, now=submitted.replace(hour=23))
    db.session.commit()


@pytest.fixture
def scene(users, units, clock):
    """Wednesday 18/11/2026 10:00 ICT. Hạ Long: green, yellow, red, done on time, done late,
    cancelled. Cô Tô: one green."""
    admin, member, supervisor = users["admin"], users["ha_long"], users["supervisor"]
    ha_long, co_to = units["ha_long"], units["co_to"]
    assigned = ict(2026, 11, 2, 9, 0)
    tasks = {
        "green": make_task(admin, ha_long, at=clock()),
        "yellow": make_task(admin, ha_long, at=clock(), deadline="2026-11-19"),
        "red": make_task(admin, ha_long, at=assigned, deadline="2026-11-16",
                         start_date="2026-11-02"),
        "on_time": make_task(admin, ha_long, at=assigned, deadline="2026-11-12",
                             start_date="2026-11-02"),
        "late": make_task(admin, ha_long, at=assigned, deadline="2026-11-12",
                          start_date="2026-11-02"),
        "cancelled": make_task(admin, ha_long, at=assigned),
        "co_to": make_task(admin, co_to, at=clock()),
    }
    # Submitted 23:30 on the deadline (16:30 UTC, same date): on time. Submitted 00:30 the
    # next day (17:30 UTC on the deadline's date): late, though the UTC date is the same.
    _done(tasks["on_time"], member, supervisor, ict(2026, 11, 12, 23, 30))
    _done(tasks["late"], member, supervisor, ict(2026, 11, 13, 0, 30))
    cancel_task(admin, tasks["cancelled"], note="Trùng lặp", now=clock())
    db.session.commit()
    for task in tasks.values():  # the stored colours as of now
        refresh_colour(task, clock())
    db.session.commit()
    return tasks


def _numbers(page: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">([^<]*)<', page).group(1).strip()


@pytest.mark.parametrize("username", ["admin", "supervisor", "viewer"])
def test_the_dashboard_opens_for_supervisors_admins_and_viewers(login_as, username):
    assert login_as(username).get("/dashboard").status_code == 200


def test_members_are_sent_to_their_tasks(login_as):
    response = login_as("ha_long").get("/dashboard")
    assert response.status_code == 302 and "/dashboard" not in response.headers["Location"]


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_dashboard_link_shows_for_viewers_not_members(login_as):
    assert 'href="/dashboard"' in login_as("viewer").get("/tasks").get_data(as_text=True)


def test_counts_by_colour_and_category(login_as, scene):
    page = login_as("viewer").get("/dashboard").get_data(as_text=True)
    # Cancelled tasks leave the counts; done (on time or late) is green.
    assert [_numbers(page, f"count-{c}") for c in ("green", "yellow", "red")] == ["4", "1", "1"]
    # Not counted: the two tasks not started and still green (the new one here, Cô Tô's).
    assert _numbers(page, "green-rate") == "50%"
    categories = {c: _numbers(page, f"cat-{c}") for c in
                  ("done_on_time", "done_late", "open_within_deadline", "open_overdue")}
    assert categories == {"done_on_time": "1", "done_late": "1",
                          "open_within_deadline": "3", "open_overdue": "1"}
    # Hạ Long is red; Cô Tô (only a task not started) and 52 others have no task counted.
    assert _numbers(page, "communes-green") == "0/1"
    assert _numbers(page, "communes-none") == "53 chưa có nhiệm vụ"


def test_the_live_counts_equal_the_colour_rules_task_by_task(units, scene, clock):
    calendar, policy = load_calendar(), load_policy()
    expected = Counter()
    for task in db.session.scalars(select(Task)):
        result = colour_of(task, clock(), calendar, policy)
        if result.colour is not None:
            expected.update([result.colour.value, result.category.value, "total"])
    counts = rollup(units["province"])[units["province"].id]
    assert {k: counts[k] for k in expected} == dict(expected)


def test_units_are_ranked_by_green_rate(login_as, units, scene):
    client = login_as("supervisor")
    client.get("/lang/en")
    page = client.get("/dashboard").get_data(as_text=True)
    ranking = re.search(r'data-testid="ranking">(.*?)</table>', page, re.S).group(1)
    names = re.findall(r'<th scope="row"><a href="/dashboard/units/\d+">([^<]+)</a>', ranking)
    assert names == [units["ha_long"].name]  # Cô Tô has no task counted: not ranked
    idle = re.search(r'data-testid="idle-units">(.*?)</details>', page, re.S).group(1)
    assert "No task" in idle and "53 unit(s) with no task counted" in idle
    assert f'{units["co_to"].name}</a> <span class="muted">(1 not started)' in idle


def test_drill_down_from_province_to_commune_to_task(login_as, units, scene):
    client = login_as("admin")
    province = client.get("/dashboard").get_data(as_text=True)
    commune_url = f"/dashboard/units/{units['ha_long'].id}"
    assert f'href="{commune_url}"' in province
    commune = client.get(commune_url).get_data(as_text=True)
    assert f'href="/tasks/{scene["red"].id}"' in commune
    assert f'href="/tasks/{scene["co_to"].id}"' not in commune
    assert client.get(f"/tasks/{scene['red'].id}").status_code == 200


def test_the_tasks_of_a_unit_can_be_filtered_by_colour(login_as, units, scene):
    page = login_as("admin").get(
        f"/dashboard/units/{units['province'].id}/tasks?colour=red").get_data(as_text=True)
    assert f'href="/tasks/{scene["red"].id}"' in page
    assert f'href="/tasks/{scene["green"].id}"' not in page


def test_a_commune_viewer_sees_only_their_commune(login_as, units, scene):
    client = login_as("co_to_viewer")
    page = client.get("/dashboard").get_data(as_text=True)
    assert [_numbers(page, f"count-{c}") for c in ("green", "yellow", "red")] == ["1", "0", "0"]
    assert f'href="/tasks/{scene["co_to"].id}"' in page
    for unit in ("province", "ha_long"):
        assert client.get(f"/dashboard/units/{units[unit].id}").status_code == 404
        assert client.get(f"/dashboard/units/{units[unit].id}/tasks").status_code == 404


def test_an_id_out_of_range_is_not_found(login_as):
    assert login_as("admin").get("/dashboard/units/99999999999999").status_code == 404


def test_the_trend_is_an_inline_svg_of_the_processed_cutoffs(login_as, units, scene, clock):
    cutoff_through(date(2026, 11, 17), clock())
    days = db.session.scalars(select(CutoffRun.day).order_by(CutoffRun.day)).all()
    # A day with no task counted (the 2nd: every task new, not started and green) has no
    # rate: no point, rather than a 100% that nobody earned.
    rated = [s.day for s in green_rate_trend(units["province"], date(2026, 11, 17))
             if s.green_rate is not None]
    db.session.commit()
    page = login_as("supervisor").get("/dashboard").get_data(as_text=True)
    svg = re.search(r'<svg[^>]*role="img".*?</svg>', page, re.S).group(0)
    assert days[0] not in rated and len(rated) == len(days) - 1
    assert svg.count("<circle") == len(rated) > 1 and "<polyline" in svg
    assert f"{rated[0]:%d/%m/%Y}" in svg and f"{days[0]:%d/%m/%Y}" not in svg
    assert "17/11/2026" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page.split("</main>")[0].split("<main>")[1]


def test_without_cutoffs_the_trend_says_so(login_as):
    page = login_as("supervisor").get("/dashboard").get_data(as_text=True)
    assert 'data-testid="trend"' in page and 'aria-labelledby="trend-title' not in page


def test_the_counts_are_live_right_after_an_update(login_as, users, units, scene, clock):
    silent = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 2, 9, 0),
                       start_date="2026-11-02")
    refresh_colour(silent, clock())
    db.session.commit()
    assert silent.colour == "red"  # no update since its assignment
    client = login_as("viewer")
    page = client.get("/dashboard").get_data(as_text=True)
    assert [_numbers(page, f"count-{c}") for c in ("green", "yellow", "red")] == ["4", "1", "2"]
    post_update(users["ha_long"], silent, {"progress": 10, "work_done": "Đã khảo sát"},
                now=clock())
    db.session.commit()
    page = client.get("/dashboard").get_data(as_text=True)
    assert [_numbers(page, f"count-{c}") for c in ("green", "yellow", "red")] == ["5", "1", "1"]


def test_the_nation_rolls_up_every_level_as_each_subtree_does(units, users, scene, clock):
    """The root's counts come from every task at once; each unit's totals must still be
    exactly its own subtree's."""
    province, ha_long = units["province"], units["ha_long"]
    nation = rollup(units["nation"])
    for unit in (province, ha_long, units["co_to"]):
        assert nation[unit.id] == rollup(unit)[unit.id]
    assert nation[units["nation"].id] == nation[province.id] + Counter(units=1)
    assert nation[province.id]["units"] == 54 and nation[province.id]["communes"] == 54
    assert nation[ha_long.id]["communes_green"] == 0 and nation[province.id][
        "communes_green"] == 0
    assert nation[province.id]["communes_none"] == 53


def test_the_page_defines_the_green_rate_and_the_share_of_green_communes(login_as, scene):
    page = login_as("viewer").get("/dashboard").get_data(as_text=True)
    definitions = re.search(r'data-testid="definitions">(.*?)</section>', page, re.S).group(1)
    assert "Tỷ lệ xanh = số nhiệm vụ xanh ÷ số nhiệm vụ được tính" in definitions
    assert "Tỷ lệ xã, phường xanh = số xã, phường xanh ÷ số xã, phường có nhiệm vụ" \
        in definitions
    assert _numbers(page, "not-started") == "2 chưa thực hiện, chưa tính"


def test_assigning_a_task_to_every_commune_moves_no_figure(login_as, users, units, scene,
                                                         clock):
    """The issue's case: 54 new tasks, not started, once raised the green rate and made
    every commune green."""
    communes = [u.id for u in units.values() if u.parent_id == units["province"].id]
    bulk_assign(users["admin"], task_input(units["ha_long"]), communes, now=clock())
    db.session.commit()
    page = login_as("viewer").get("/dashboard").get_data(as_text=True)
    assert _numbers(page, "green-rate") == "50%"
    assert _numbers(page, "communes-green") == "0/1"
    assert _numbers(page, "communes-none") == "53 chưa có nhiệm vụ"
    assert _numbers(page, "not-started") == "56 chưa thực hiện, chưa tính"


def test_a_task_not_started_counts_once_its_unit_posts_progress(login_as, users, scene,
                                                              clock):
    post_update(users["ha_long"], scene["green"], {"progress": 10, "work_done": "Khảo sát"},
                now=clock())
    db.session.commit()
    page = login_as("viewer").get("/dashboard").get_data(as_text=True)
    assert _numbers(page, "green-rate") == "60%"  # 3 of the 5 counted


def test_a_commune_with_no_task_is_shown_as_such(login_as, units, scene):
    client = login_as("admin")
    client.get("/lang/en")
    page = client.get(f"/dashboard/units/{units['bai_chay'].id}").get_data(as_text=True)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert "No task" in heading and "Green" not in heading
    assert _numbers(page, "green-rate") == "–"
