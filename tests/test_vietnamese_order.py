"""Every list sorted by a name is in Vietnamese order (CLDR vi: a ă â b c d đ e ê …, tones
second), on SQLite and PostgreSQL: the lead-unit and unit choices, the unit tree, the red
queue's filter, the dashboard's and the daily report's rankings, the API's units and the
admin's users — with names that code-point order gets wrong (issue 14)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.factories import cutoff_through, ict, make_task, make_user
from tracker import clock
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.reports.history import daily_report
from tracker.rules.vietnamese import sorted_by_name

# Communes of Quảng Ninh whose code-point order is not their Vietnamese order.
NAMES = ["Phường Hoành Bồ", "Phường Hà An", "Phường Việt Hưng", "Phường Vàng Danh",
         "Phường Đông Mai", "Xã Đầm Hà", "Đặc khu Vân Đồn", "Đặc khu Cô Tô", "Xã Quảng Hà"]
IN_ORDER = ["Đặc khu Cô Tô", "Đặc khu Vân Đồn", "Phường Đông Mai", "Phường Hà An",
            "Phường Hoành Bồ", "Phường Vàng Danh", "Phường Việt Hưng", "Xã Đầm Hà",
            "Xã Quảng Hà"]


def test_the_expected_order_is_not_code_point_order():
    assert sorted_by_name(NAMES) == IN_ORDER != sorted(NAMES)


def _units_named(units) -> dict:
    named = {u.name: u for u in units.values()}
    return {name: named[name] for name in NAMES}


def order_in(html: str, names) -> list[str]:
    """`names` in the order they first appear in `html` (each must appear)."""
    where = {name: html.find(name) for name in names}
    missing = [n for n, i in where.items() if i < 0]
    assert not missing, missing
    return sorted(names, key=where.get)


@pytest.fixture
def red_everywhere(users, units):
    """One overdue (red) task led by each of NAMES, assigned before the cutoff of 17/11."""
    named = _units_named(units)
    for unit in named.values():
        make_task(users["admin"], unit, at=ict(2026, 11, 13, 9, 0), start_date="2026-11-01",
                  deadline="2026-11-12")
    return named


def test_unit_choices_are_in_vietnamese_order(login_as, units):
    page = login_as("admin").get("/admin/users/new").get_data(as_text=True)
    options = re.findall(r'<option value="\d+"[^>]*>(?:\xa0)*([^<]+)</option>', page)
    communes = [name for name in options if name in NAMES]
    assert communes == IN_ORDER
    all_children = options[1:]  # the province first, then its units
    assert all_children == sorted_by_name(all_children)


def test_the_unit_tree_and_the_apis_units_are_in_vietnamese_order(app, login_as, users,
                                                                  units):
    page = login_as("admin").get("/admin/units").get_data(as_text=True)
    assert order_in(page.split('data-testid="unit-tree"')[1], NAMES) == IN_ORDER
    _token, raw = create_token(None, users["admin"], name="order", now=clock.now())
    db.session.commit()
    children = app.test_client().get(f"/api/v1/units?parent_id={units['province'].id}",
                                     headers={"Authorization": f"Bearer {raw}"}).get_json()
    names = [u["name"] for u in children]
    assert names == sorted_by_name(names) != sorted(names)
    assert [n for n in names if n in NAMES] == IN_ORDER


def test_the_red_queues_unit_filter_is_in_vietnamese_order(login_as, red_everywhere):
    page = login_as("supervisor").get("/supervise/red").get_data(as_text=True)
    select = page.split('id="red-unit"')[1].split("</select>")[0]
    assert order_in(select, NAMES) == IN_ORDER


def test_the_dashboards_ranking_breaks_ties_in_vietnamese_order(login_as, red_everywhere):
    page = login_as("viewer").get("/dashboard").get_data(as_text=True)
    ranking = page.split('data-testid="ranking"')[1].split("</table>")[0]  # all at 0 % green
    assert order_in(ranking, NAMES) == IN_ORDER


def test_the_daily_reports_ranking_and_missed_units_are_in_vietnamese_order(
        users, units, red_everywhere):
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    report = daily_report(units["province"], date(2026, 11, 17))
    ranked = [row["unit"] for row in report["units"] if row["unit"] in NAMES]
    assert ranked == IN_ORDER
    missed = [row["unit"] for row in report["missed_units"] if row["unit"] in NAMES]
    assert missed == IN_ORDER


def test_the_admins_user_list_is_in_vietnamese_order_of_units(login_as, units):
    for n, unit in enumerate(_units_named(units).values()):
        make_user(f"can_bo_{n}", "member", unit)
    db.session.commit()
    page = login_as("admin").get("/admin/users?role=member")
    table = page.get_data(as_text=True).split('data-testid="users"')[1]
    assert order_in(table, NAMES) == IN_ORDER
