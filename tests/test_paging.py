"""One paging helper (tracker.paging) for the pages and the API: the same numbering, the
same page size and bounds, and past the last page an empty page, never an error."""

from __future__ import annotations

from functools import partial

import pytest
from flask import Flask
from sqlalchemy import event, select

from tracker import clock
from tracker.auth.models import User
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.paging import (
    MAX_PAGE,
    MAX_PER_PAGE,
    PER_PAGE,
    Page,
    paginate,
    paginate_counted,
    requested_page,
)
from tracker.tasks.listing import task_page


@pytest.mark.parametrize(("raw", "page"), [
    (None, 1), ("", 1), ("1", 1), ("2", 2), (" 3", 3), ("abc", 1), ("2.5", 1), ("0", 1),
    ("-4", 1), ("99999999999999999999", 99999999999999999999)])
def test_the_pages_read_the_page_number_and_take_anything_else_as_page_1(raw, page):
    query = {} if raw is None else {"page": raw}
    with Flask(__name__).test_request_context("/", query_string=query):
        assert requested_page() == page


def test_a_page_knows_its_neighbours():
    assert (PER_PAGE, MAX_PER_PAGE) == (50, 200)
    empty = Page(items=[], page=1, per_page=50, total=0)
    assert (empty.pages, empty.has_prev, empty.has_next, empty.prev_num, empty.next_num) == \
        (0, False, False, None, None)
    middle = Page(items=[1] * 50, page=2, per_page=50, total=101)
    assert (middle.pages, middle.prev_num, middle.next_num) == (3, 1, 3)
    past = Page(items=[], page=9, per_page=50, total=101)
    assert (past.has_prev, past.prev_num, past.has_next, past.next_num) == (True, 8, False, None)
    assert middle.with_items(["x"]) == Page(items=["x"], page=2, per_page=50, total=101)


def test_paginate_counts_pages_and_queries_nothing_past_the_end(app, users):
    statements = []

    def listen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        query = select(User).order_by(User.id)
        ids = sorted(u.id for u in users.values())
        pages = [paginate(query, n, 3) for n in (1, 2, 3)]
        assert [[u.id for u in p.items] for p in pages] == [ids[:3], ids[3:6], ids[6:]]
        assert {(p.total, p.pages) for p in pages} == {(7, 3)}
        statements.clear()
        past = paginate(query, 10**20, 3)
        assert (past.items, past.total, past.page) == ([], 7, 10**20)
        assert len(statements) == 1  # the count only
        statements.clear()
        known = paginate(query, 4, 3, total=7)
        assert known.items == [] and statements == []
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def test_a_page_counted_in_its_own_statement_is_the_page_counted_apart(app, users):
    """`paginate_counted` answers what `paginate` does — every page, past the end, with a
    bound on the count or none — in one statement while the page has rows."""
    statements = []

    def listen(_conn, _cursor, statement, *_args):
        if statement.startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(statement)

    query = select(User).order_by(User.id)  # 7 users
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        for per_page, count_at_most in ((3, None), (2, 3), (2, 10), (7, None), (10, 3)):
            for page in (1, 2, 3, 4, 5, 10**20):
                statements.clear()
                counted = paginate_counted(query, page, per_page, count_at_most=count_at_most)
                # A page past the end is counted apart (a page past MAX_PAGE, only counted).
                apart = not counted.items and 1 < page <= MAX_PAGE
                assert len(statements) == (2 if apart else 1)
                assert counted == paginate(query, page, per_page,
                                           count_at_most=count_at_most), (per_page, page)
        assert paginate_counted(query.where(User.id < 0), 1, 3) == \
            Page(items=[], page=1, per_page=3, total=0)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


@pytest.mark.parametrize(("user", "url"), [
    ("admin", "/tasks"), ("admin", "/admin/users"), ("supervisor", "/supervise/red"),
    ("ha_long", "/today"), ("viewer", "/dashboard")])
def test_every_list_page_shows_an_empty_page_past_the_last(login_as, user, url):
    client = login_as(user)
    for page in ("9999", "99999999999999999999"):
        assert client.get(f"{url}?page={page}").status_code == 200, (url, page)


def test_the_api_pages_with_the_same_bounds(client, users):
    _token, raw = create_token(None, users["admin"], name="tests", now=clock.now())
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get("/api/v1/users?page=9999", headers=headers).get_json()
    assert (body["items"], body["page"], body["per_page"], body["total"], body["pages"]) == \
        ([], 9999, PER_PAGE, len(users), 1)
    assert client.get(f"/api/v1/users?per_page={MAX_PER_PAGE + 1}",
                      headers=headers).status_code == 422


def test_a_count_at_most_stops_counting_and_says_more_than(app, users):
    query = select(User).order_by(User.id)  # 7 users
    first = paginate(query, 1, 2, count_at_most=3)
    assert (first.total, first.total_exact, first.counted_to, first.pages) == (4, False, 3, 2)
    assert first.has_next and len(first.items) == 2
    # Further on, the count reaches this page's end: the reader can always walk on.
    third = paginate(query, 3, 2, count_at_most=3)
    assert (third.total, third.total_exact, third.has_next) == (7, False, True)
    last = paginate(query, 4, 2, count_at_most=3)
    assert (last.total, last.total_exact, last.has_next, len(last.items)) == (7, True, False, 1)
    few = paginate(query, 1, 2, count_at_most=10)
    assert (few.total, few.total_exact, few.counted_to) == (7, True, 7)


def test_a_search_finding_many_is_counted_up_to_a_bound_on_the_page_and_the_api(
        app, client, login_as, users, units, monkeypatch):
    from tests.factories import make_task
    from tracker.api import tasks as api_tasks
    from tracker.web import tasks as web_tasks

    for n in range(4):
        make_task(users["admin"], units["ha_long"], title=f"Rà soát hồ sơ {n}")
    # The API and the page count a search as far as a list (a commune's matches lie in one
    # stretch of each one's order).
    monkeypatch.setattr(api_tasks, "LIST_COUNTED", 2)
    monkeypatch.setattr(web_tasks, "LIST_COUNTED", 2)
    _row, raw = create_token(None, users["admin"], name="paging", now=clock.now())
    db.session.commit()
    answer = client.get("/api/v1/tasks?q=ra+soat&per_page=1",
                        headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert (answer["total"], answer["total_exact"], answer["pages"]) == (3, False, 3)
    answer = client.get("/api/v1/tasks?q=ra+soat&per_page=1&page=4",
                        headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert (answer["total"], answer["total_exact"], len(answer["items"])) == (4, True, 1)
    monkeypatch.setattr(api_tasks, "LIST_COUNTED", 3)
    answer = client.get("/api/v1/tasks?q=ra+soat&per_page=1",
                        headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert (answer["total"], answer["total_exact"]) == (4, False)
    # The page lists 50: four matches are fewer than its end, so they are counted exactly.
    browser = login_as("admin")
    page = browser.get("/tasks?q=ra+soat").get_data(as_text=True)
    assert "4 nhiệm vụ" in page and "Hơn" not in page
    monkeypatch.setattr(web_tasks, "task_page", partial(task_page, per_page=1))
    page = browser.get("/tasks?q=ra+soat").get_data(as_text=True)
    assert "Hơn 2 nhiệm vụ" in page


def test_a_list_of_tasks_is_counted_up_to_its_bound_on_the_api_and_the_dashboard(
        app, client, login_as, users, units, monkeypatch):
    from tests.factories import make_task
    from tracker.api import tasks as api_tasks
    from tracker.web import dashboard

    for n in range(4):
        make_task(users["admin"], units["ha_long"], title=f"Số hoá hồ sơ {n}")
    monkeypatch.setattr(api_tasks, "LIST_COUNTED", 2)
    monkeypatch.setattr(dashboard, "LIST_COUNTED", 2)
    monkeypatch.setattr(dashboard, "task_page", partial(task_page, per_page=1))
    _row, raw = create_token(None, users["admin"], name="paging", now=clock.now())
    db.session.commit()
    answer = client.get("/api/v1/tasks?per_page=1",
                        headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert (answer["total"], answer["total_exact"], answer["pages"]) == (3, False, 3)
    page = login_as("admin").get(f"/dashboard/units/{units['ha_long'].id}/tasks")
    text = page.get_data(as_text=True)
    assert "Hơn 2 nhiệm vụ" in text and "Trang 1" in text and "Trang 1/" not in text
