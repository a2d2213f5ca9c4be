"""The past-day pages and API (issue 16, items 3 and 5): the dashboard, its tasks and the red
queue at a chosen cutoff, the comparison page and its XLSX, the streaks and the week's
movement on the dashboard; scope per role and the 422 on a bad day."""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.test_past_day import seeded_history
from tracker.auth.tokens import create_token
from tracker.extensions import db

history = pytest.fixture(seeded_history, name="history")


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_the_past_dashboard_shows_the_figures_that_cutoff_recorded(history, units, login_as):
    client = login_as("supervisor")
    text = page(client, f"/dashboard/units/{units['province'].id}?date=17/11/2026")
    assert "tính đến 16 giờ 00 ngày 17/11/2026" in text
    assert 'data-testid="count-red">2<' in text  # silent and recovers, red that day
    assert 'data-testid="count-yellow">1<' in text and 'data-testid="count-green">2<' in text
    assert units["bai_chay"].name in text and 'value="2026-11-17"' in text


def test_the_live_dashboard_has_the_picker_the_streaks_and_the_weeks_movement(
        history, units, login_as):
    client = login_as("supervisor")
    text = page(client, f"/dashboard/units/{units['province'].id}")
    assert 'data-testid="day-picker"' in text and 'max="2026-11-25"' in text
    assert 'data-testid="most-improved"' in text
    improved = text.split('data-testid="most-improved"')[1].split("</ol>")[0]
    declined = text.split('data-testid="most-declined"')[1].split("</ol>")[0]
    assert units["bai_chay"].name in improved and "+100.0" in improved
    assert units["ha_long"].name in declined and "-50.0" in declined
    # Bãi Cháy, ranked first, green at the 19th, 20th, 23rd and 25th cutoffs
    first = text.split('data-testid="ranking"')[1].split("</tr>")[1]
    assert units["bai_chay"].name in first and 'data-testid="streak">4<' in first


def test_the_past_drill_down_lists_the_tasks_with_that_days_colours(history, units,
                                                                    login_as):
    client = login_as("viewer")
    text = page(client, f"/dashboard/units/{units['co_to'].id}/tasks?date=2026-11-17"
                        "&colour=red")
    assert history["silent"].code in text and history["recovers"].code in text
    assert "2 ngày báo cáo liên tiếp" in text  # missed two days in a row, as of the 17th
    text = page(client, f"/dashboard/units/{units['co_to'].id}/tasks?date=2026-11-25"
                        "&colour=red")
    assert history["silent"].code in text and history["recovers"].code not in text


def test_the_past_red_queue_is_that_days_in_the_users_scope(history, units, login_as):
    text = page(login_as("supervisor"), "/supervise/red?date=2026-11-25")
    assert "tính đến 16 giờ 00 ngày 25/11/2026" in text
    assert all(history[n].code in text for n in ("steady", "late", "silent"))
    assert history["recovers"].code not in text
    assert "Quá hạn 5 ngày" in text  # late: deadline the 20th, five days over by the 25th


def test_a_communes_supervisor_sees_only_the_communes_past_day(history, units, client):
    from tests.conftest import login

    login(client, "co_to_supervisor")
    text = page(client, "/supervise/red?date=2026-11-25")
    assert history["silent"].code in text and history["late"].code not in text
    page(client, f"/dashboard/units/{units['province'].id}?date=2026-11-25", 404)
    page(client, f"/dashboard/compare?unit={units['province'].id}"
                 "&from=2026-11-17&to=2026-11-25", 404)
    page(client, f"/dashboard/units/{units['co_to'].id}?date=2026-11-25")


@pytest.mark.parametrize(("query", "words"), [
    ("date=2026-11-27", "chưa đến"), ("date=2026-11-21", "Không có giờ chốt 16:00"),
    ("date=abc", "dd/mm/yyyy"),
])
def test_a_bad_day_is_refused_with_a_vietnamese_message_naming_the_field(
        history, units, login_as, query, words):
    client = login_as("supervisor")
    for url in (f"/dashboard?{query}", f"/supervise/red?{query}",
                f"/dashboard/units/{units['co_to'].id}/tasks?{query}"):
        text = page(client, url, 422)
        assert words in text


def test_the_comparison_page_and_its_workbook(history, units, login_as):
    client = login_as("viewer")
    query = f"unit={units['province'].id}&from=17/11/2026&to=2026-11-25"
    text = page(client, f"/dashboard/compare?{query}")
    red = text.split('data-testid="turned-red"')[1].split("</ul>")[0]
    green = text.split('data-testid="turned-green"')[1].split("</ul>")[0]
    assert history["steady"].code in red and history["late"].code in red
    assert history["recovers"].code in green and history["silent"].code not in red + green
    response = client.get(f"/dashboard/compare.xlsx?{query}")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.data))
    assert [r[0].value for r in book.worksheets[3].iter_rows(min_row=2)] == [
        history["recovers"].code]
    page(client, f"/dashboard/compare?{query.replace('from=17', 'from=21')}", 422)


def test_the_comparison_page_defaults_to_the_week_before_the_latest_cutoff(history,
                                                                          login_as):
    text = page(login_as("supervisor"), "/dashboard/compare")
    assert 'value="2026-11-18"' in text and 'value="2026-11-25"' in text


# --- the API ----------------------------------------------------------------------------


def bearer(user, clock):
    _token, raw = create_token(None, user, name="tests", now=clock())
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_the_api_gives_a_past_days_figures_with_streaks_and_movement(history, users,
                                                                     units, client, clock):
    response = client.get("/api/v1/dashboard/day?date=2026-11-25",
                          headers=bearer(users["viewer"], clock))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["totals"]["red"] == 3 and body["date"] == "2026-11-25"
    streaks = {u["unit"]: u["green_streak"] for u in body["units"]}
    assert streaks[units["bai_chay"].name] == 4 and streaks[units["ha_long"].name] == 0
    assert body["movement"]["since"] == "2026-11-18"
    assert [m["unit"] for m in body["movement"]["declined"]] == [units["ha_long"].name]


def test_the_api_refuses_a_bad_day_and_a_unit_outside_scope(history, users, units, client,
                                                            clock):
    headers = bearer(users["co_to_viewer"], clock)
    response = client.get("/api/v1/dashboard/day?date=2026-11-21", headers=headers)
    assert response.status_code == 422 and list(response.json["fields"]) == ["date"]
    response = client.get(f"/api/v1/dashboard/day?date=2026-11-25&unit_id="
                          f"{units['province'].id}", headers=headers)
    assert response.status_code == 422 and list(response.json["fields"]) == ["unit_id"]
    response = client.get("/api/v1/dashboard/compare?from=2026-11-25&to=2026-11-17",
                          headers=headers)
    assert response.status_code == 422 and list(response.json["fields"]) == ["to"]


def test_the_api_compares_two_days_in_json_and_xlsx(history, users, units, client, clock):
    headers = bearer(users["supervisor"], clock)
    url = "/api/v1/dashboard/compare?from=2026-11-17&to=2026-11-25"
    body = client.get(url, headers=headers).json
    assert body["turned_red_total"] == 2 and body["turned_green"][0]["code"] == \
        history["recovers"].code
    assert body["units"][0]["moved"] == 1
    response = client.get(url + "&format=xlsx", headers=headers)
    assert response.status_code == 200 and response.data[:2] == b"PK"


def test_a_units_own_green_streak_heads_its_dashboard(history, units, login_as):
    client = login_as("viewer")
    bai_chay = units["bai_chay"].id
    assert "4 ngày xanh liên tiếp" in page(client, f"/dashboard/units/{bai_chay}")
    assert "2 ngày xanh liên tiếp" in page(client, f"/dashboard/units/{bai_chay}"
                                                   "?date=2026-11-17")
    assert 'data-testid="own-streak"' not in page(
        client, f"/dashboard/units/{units['ha_long'].id}?date=2026-11-25")


def test_the_past_dashboard_counts_the_forecast_stored_that_day(history, units, users,
                                                              login_as):
    """The count of tasks likely to turn red is the one stored after that day's cutoff, and
    it leads to that day's list; a day with none stored says so. Cô Tô's new task is due
    Thursday 19/11 at 0 % on the 17th: likely red within the horizon."""
    from datetime import date

    from tests.factories import ict, make_task
    from tracker.forecast import stored
    from tracker.forecast.store import run_forecast
    from tracker.updates.service import post_update

    task = make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0),
                     title="Bàn giao hồ sơ", deadline="2026-11-19")
    post_update(users["co_to"], task, {"progress": 0, "work_done": "Đã lập danh mục"},
                now=ict(2026, 11, 17, 10, 0))
    db.session.commit()
    run_forecast(date(2026, 11, 17))
    province = units["province"]
    expected = stored.count_in(province, stored.of_day(date(2026, 11, 17)))
    assert expected > 0  # the late task, due Friday 20/11 and behind
    client = login_as("supervisor")
    text = page(client, f"/dashboard/units/{province.id}?date=17/11/2026")
    assert f'data-testid="count-likely-red">{expected}<' in text
    assert "date=2026-11-17" in text.split('class="stat stat-warning"')[1].split(">")[0]
    listed = page(client, "/supervise/warnings?date=2026-11-17")
    assert "tính đến 16 giờ 00 ngày 17/11/2026" in listed
    assert listed.count('data-testid="warning-row"') == expected
    assert 'data-testid="warning-past"' in listed
    other = page(client, f"/dashboard/units/{province.id}?date=18/11/2026")
    assert 'data-testid="likely-red-none"' in other
    none = page(client, "/supervise/warnings?date=2026-11-18")
    assert "Không có dự báo nào được lưu sau thời điểm chốt ngày 18/11/2026" in none
