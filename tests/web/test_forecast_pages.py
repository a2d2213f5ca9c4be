"""The early warning where people read it (issue 16, item 1): the supervisors' list, in
their scope, highest risk first, filtered by unit; the API's list; the line on the task
page and on the member's /today; the count on the dashboard and in the daily report.

On Wednesday 18/11/2026 at 10:00 the horizon is Thursday 19, Friday 20 and Monday 23.
Hạ Long's task is due Friday 20/11 at 30 %, reached from nothing in the three working days
since Friday 13/11 (10 %/day: 50 % expected by then); Cô Tô's is due Thursday 19/11 at 0 %.
"""

from __future__ import annotations

import pytest

from tests.factories import ict, make_task
from tracker import clock
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.updates.service import post_update

HA_LONG_LINE = ("hạn còn 2 ngày làm việc, tiến độ 30 %, tốc độ 10 %/ngày → dự kiến 50 % khi "
                "đến hạn")
CO_TO_LINE = "hạn còn 1 ngày làm việc, tiến độ 0 %, tốc độ 0 %/ngày → dự kiến 0 % khi đến hạn"


@pytest.fixture
def soon(world, users, units):
    admin = users["admin"]
    at = ict(2026, 11, 13, 9, 0)
    ha_long = make_task(admin, units["ha_long"], at=at, title="Kiểm kê tài sản",
                        deadline="2026-11-20")
    post_update(users["ha_long"], ha_long, {"progress": 30, "work_done": "Đã kiểm kê 3 thôn"},
                now=ict(2026, 11, 17, 10, 0))
    co_to = make_task(admin, units["co_to"], at=at, title="Bàn giao hồ sơ",
                      deadline="2026-11-19")
    post_update(users["co_to"], co_to, {"progress": 0, "work_done": "Đã lập danh mục"},
                now=ict(2026, 11, 17, 10, 0))
    db.session.commit()
    return ha_long, co_to


def test_the_list_puts_the_highest_risk_first_with_its_reasons(soon, login_as):
    client = login_as("supervisor")
    page = client.get("/supervise/warnings").get_data(as_text=True)
    assert "Sắp chuyển đỏ" in page
    assert "2 nhiệm vụ có khả năng chuyển đỏ" in page
    assert HA_LONG_LINE in page and CO_TO_LINE in page
    # Both 90 %; the nearer deadline (Cô Tô's) first.
    assert page.index(soon[1].code) < page.index(soon[0].code)
    # The silent and overdue tasks are red already: no warning.
    assert page.count('data-testid="warning-row"') == 2


def test_the_list_filters_by_unit(soon, login_as, units):
    client = login_as("supervisor")
    page = client.get(f"/supervise/warnings?unit={units['ha_long'].id}").get_data(as_text=True)
    assert soon[0].code in page and soon[1].code not in page
    assert "1 nhiệm vụ có khả năng chuyển đỏ" in page


def test_a_commune_supervisor_sees_only_its_commune(soon, login_as, units):
    client = login_as("co_to_supervisor")
    page = client.get("/supervise/warnings").get_data(as_text=True)
    assert soon[1].code in page and soon[0].code not in page
    assert client.get(f"/supervise/warnings?unit={units['ha_long'].id}").status_code == 404


def test_the_api_lists_the_warnings_in_scope(soon, client, users, units):
    _token, raw = create_token(None, users["co_to_supervisor"], name="t", now=clock.now())
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get("/api/v1/forecast/warnings", headers=headers).get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["code"] == soon[1].code and item["risk"] == 90
    assert item["horizon_end"] == "2026-11-23"
    assert item["signs"] == [{"code": "deadline", "values": [1, 0, 0, 0], "text": CO_TO_LINE}]
    refused = client.get(f"/api/v1/forecast/warnings?unit_id={units['ha_long'].id}",
                         headers=headers)
    assert refused.status_code == 422 and "unit_id" in refused.get_data(as_text=True)


def test_the_member_and_the_task_page_read_the_line(soon, login_as):
    client = login_as("ha_long")
    today = client.get("/today").get_data(as_text=True)
    assert f"Sắp chuyển đỏ (khả năng 90 %): {HA_LONG_LINE}" in today
    assert today.count('data-testid="warning-line"') == 1
    task_page = client.get(f"/tasks/{soon[0].id}").get_data(as_text=True)
    assert HA_LONG_LINE in task_page


def test_the_dashboard_counts_the_warnings_of_the_unit(soon, login_as, units):
    client = login_as("viewer")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="count-likely-red">2<' in page
    page = client.get(f"/dashboard/units/{units['co_to'].id}").get_data(as_text=True)
    assert 'data-testid="count-likely-red">1<' in page


def test_the_daily_report_counts_the_warnings_as_of_its_cutoff(soon, login_as):
    # At Tuesday 17/11's cutoff the horizon closes at Friday 20/11's: Cô Tô's deadline
    # (Thursday) passes within it, Hạ Long's (Friday, overdue from midnight) does not.
    client = login_as("supervisor")
    page = client.get("/reports/daily?date=2026-11-17").get_data(as_text=True)
    assert 'data-testid="report-likely-red">1<' in page


def test_the_daily_reports_data_carries_the_count(soon, login_as):
    client = login_as("supervisor")
    data = client.get("/reports/daily.csv?date=2026-11-17").get_data().decode("utf-8-sig")
    assert "Sắp chuyển đỏ,1" in data.replace("\r", "").splitlines()
