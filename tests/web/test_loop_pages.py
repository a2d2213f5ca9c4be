"""The loop on the pages (issue 13, items 1–3): the supervisor's inbox of decisions, decided
from the list; the member sees where each request stands on /today and the task page; each
user chooses how they are notified."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login
from tests.factories import ict, make_task
from tracker.evidence.service import attach_link
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.notifications.preferences import preferences_of, pushed_groups
from tracker.tasks import counts
from tracker.tasks.inbox import _completions, waiting_counts
from tracker.tasks.lifecycle import (
    confirm_completion,
    decide_extension,
    request_extension,
    return_completion,
    submit_completion,
)
from tracker.tasks.models import ExtensionRequest, Status, Task

ASSIGNED = ict(2026, 11, 13, 9, 0)


@pytest.fixture
def waiting(users, units):
    """Two Hạ Long completions submitted (Monday, then Tuesday) and a Hạ Long extension
    request; a Cô Tô completion."""
    older = make_task(users["admin"], units["ha_long"], at=ASSIGNED, title="Rà soát tài sản")
    newer = make_task(users["admin"], units["ha_long"], at=ASSIGNED, title="Sắp xếp thôn")
    extended = make_task(users["admin"], units["ha_long"], at=ASSIGNED, title="Số hoá hồ sơ")
    co_to = make_task(users["admin"], units["co_to"], at=ASSIGNED, title="Chuyển giao đất")
    submit_completion(users["ha_long"], newer, result="Đã sắp xếp 12 thôn",
                      now=ict(2026, 11, 17, 9, 0))
    submit_completion(users["ha_long"], older, result="Đã rà soát 40 tài sản",
                      now=ict(2026, 11, 16, 9, 0))
    request = request_extension(users["ha_long"], extended, new_deadline="2027-01-31",
                                reason="Chờ kinh phí số hoá", now=ict(2026, 11, 17, 14, 0))
    submit_completion(users["co_to"], co_to, result="Đã bàn giao", now=ict(2026, 11, 17, 9, 0))
    db.session.commit()
    return older, newer, extended, co_to, request


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- the inbox -----------------------------------------------------------------------------


def test_the_inbox_lists_what_waits_in_scope_oldest_first_with_counts(app, waiting):
    older, newer, extended, co_to, _request = waiting
    page = _text(_client(app, "supervisor").get("/supervise/inbox"))

    assert page.index(older.code) < page.index(newer.code)  # oldest first
    assert co_to.code in page and extended.code in page
    assert "Chờ kinh phí số hoá" in page and "31/01/2027" in page
    assert 'data-testid="count-completion">3<' in page
    assert 'data-testid="count-extension">1<' in page
    # the header's badge on every page: 4 decisions wait
    assert re.search(r'data-testid="nav-inbox">Chờ xử lý <span class="count"[^>]*>4</span>',
                     _text(_client(app, "supervisor").get("/tasks")))


def test_the_inbox_shows_each_completions_product_to_check_before_deciding(app, users,
                                                                           waiting):
    older, newer, *_rest = waiting
    attach_link(users["ha_long"], older, "https://halong.gov.vn/bien-ban-ra-soat.pdf",
                now=ict(2026, 11, 16, 9, 0))
    db.session.commit()
    page = _client(app, "supervisor").get("/supervise/inbox").get_data(as_text=True)
    row = page[page.index(f'id="completion-{older.id}"'):]
    row = row[:row.index("</li>\n")]
    assert 'href="https://halong.gov.vn/bien-ban-ra-soat.pdf"' in row
    other = page[page.index(f'id="completion-{newer.id}"'):]
    assert "bien-ban-ra-soat" not in other[:other.index("</li>\n")]


def test_the_waiting_completions_summed_from_the_kept_counts_are_the_tasks_in_scope(
        app, users, waiting):
    """The figure every page's header shows is summed from the units' kept counts; it is
    the submitted tasks each user supervises, whether the counts' deltas are folded in or
    not, and follows a decision."""
    def counted_from_the_tasks(user) -> int:
        return db.session.scalar(_completions(user).with_only_columns(func.count()))

    def both(name: str) -> tuple[int, int]:
        return waiting_counts(users[name])["completion"], counted_from_the_tasks(users[name])

    expected = {"admin": 3, "supervisor": 3, "co_to_supervisor": 1, "viewer": 0,
                "ha_long": 0}
    assert {name: both(name) for name in expected} == {n: (e, e) for n, e in expected.items()}
    assert counts.compact() > 0
    assert {name: both(name) for name in expected} == {n: (e, e) for n, e in expected.items()}

    confirm_completion(users["supervisor"], waiting[3], now=ict(2026, 11, 17, 10, 0))
    db.session.commit()
    assert both("supervisor") == (2, 2) and both("co_to_supervisor") == (0, 0)


def test_a_communes_supervisor_sees_only_their_communes_requests(app, waiting):
    older, newer, extended, co_to, _request = waiting
    page = _text(_client(app, "co_to_supervisor").get("/supervise/inbox"))

    assert co_to.code in page
    assert not {older.code, newer.code, extended.code} & set(re.findall(r"NV-\d+-\d+", page))
    assert 'data-testid="count-completion">1<' in page


def test_returning_from_the_list_needs_a_reason_and_comes_back_to_the_inbox(app, waiting):
    older = waiting[0]
    client = _client(app, "supervisor")
    token = csrf_token(client, "/supervise/inbox")

    refused = client.post(f"/supervise/tasks/{older.id}/return",
                          data={"return-csrf_token": token, "return-note": "  ",
                                "next": "/supervise/inbox"})
    assert refused.status_code == 422
    assert 'data-field="note"' in refused.get_data(as_text=True)
    assert db.session.get(Task, older.id).status == Status.SUBMITTED

    done = client.post(f"/supervise/tasks/{older.id}/return",
                       data={"return-csrf_token": token, "return-note": "Thiếu biên bản",
                             "next": "/supervise/inbox"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/supervise/inbox")
    assert db.session.get(Task, older.id).status == Status.RETURNED
    assert older.code not in _text(client.get("/supervise/inbox"))


def test_confirming_and_approving_from_the_list(app, waiting):
    older, _newer, extended, _co_to, request = waiting
    client = _client(app, "supervisor")
    token = csrf_token(client, "/supervise/inbox")

    confirmed = client.post(f"/supervise/tasks/{older.id}/confirm",
                            data={"confirm-csrf_token": token, "next": "/supervise/inbox"})
    approved = client.post(f"/supervise/tasks/{extended.id}/extensions/{request.id}",
                           data={"decision-csrf_token": token, "decision": "approve",
                                 "next": "/supervise/inbox"})

    assert confirmed.headers["Location"].endswith("/supervise/inbox")
    assert approved.headers["Location"].endswith("/supervise/inbox")
    assert db.session.get(Task, older.id).status == Status.DONE
    assert db.session.get(Task, extended.id).deadline.isoformat() == "2027-01-31"
    page = _text(client.get("/supervise/inbox"))
    assert 'data-testid="count-completion">2<' in page
    assert 'data-testid="count-extension">0<' in page


def test_a_next_address_elsewhere_is_not_followed(app, waiting):
    older = waiting[0]
    client = _client(app, "supervisor")
    response = client.post(f"/supervise/tasks/{older.id}/confirm",
                           data={"confirm-csrf_token": csrf_token(client, "/supervise/inbox"),
                                 "next": "https://example.com/phish"})
    assert response.status_code == 302
    assert "example.com" not in response.headers["Location"]


# --- the member's view of each request ---------------------------------------------------


def test_a_returned_task_says_so_with_the_reason_on_today_and_the_task_page(
        app, users, waiting):
    older = waiting[0]
    return_completion(users["supervisor"], older, note="Thiếu biên bản nghiệm thu",
                      now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    member = _client(app, "ha_long")

    today = _text(member.get("/today"))
    row = today[today.index(f'id="task-{older.id}"'):]
    row = row[:row.index("</li>")]
    assert "Bị trả lại" in row and "Thiếu biên bản nghiệm thu" in row
    assert "Hôm nay không cần báo cáo tiến độ" not in row

    page = _text(member.get(f"/tasks/{older.id}"))
    top = page[page.index("<h1>"):page.index('id="post-update"')]
    assert "Bị trả lại" in top and "Thiếu biên bản nghiệm thu" in top

    notes = _text(member.get("/notifications"))
    assert "Hoàn thành bị trả lại: Thiếu biên bản nghiệm thu" in notes


def test_pending_requests_show_as_waiting_on_today(app, waiting):
    newer, extended = waiting[1], waiting[2]
    today = _text(_client(app, "ha_long").get("/today"))

    def row(task):
        part = today[today.index(f'id="task-{task.id}"'):]
        return part[:part.index("</li>")]

    assert "Đang chờ xác nhận hoàn thành" in row(newer)
    assert "Đang chờ duyệt gia hạn" in row(extended) and "31/01/2027" in row(extended)


def test_a_rejected_extension_shows_with_its_reason_and_the_deadline_that_stays(
        app, users, waiting):
    extended, request = waiting[2], waiting[4]
    decide_extension(users["supervisor"], db.session.get(ExtensionRequest, request.id),
                     approve=False, note="Chưa đủ căn cứ", now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    member = _client(app, "ha_long")

    for url in ("/today", f"/tasks/{extended.id}"):
        page = _text(member.get(url))
        assert "Không đồng ý gia hạn" in page and "Chưa đủ căn cứ" in page
        assert f"Hạn vẫn là {extended.deadline.strftime('%d/%m/%Y')}" in page


# --- each user's choice -------------------------------------------------------------------


def test_the_account_page_shows_and_saves_the_choice_for_each_group(app, users):
    client = _client(app, "ha_long")
    page = _text(client.get("/account/notifications"))
    assert page.count('type="radio"') == 15  # five groups × three choices
    assert page.count('type="checkbox"') == 5  # each group also pushed to the phone …
    assert page.count("checked") == 10  # … by default, beside its one chosen delivery

    choices = {"decisions": "now", "requests": "app", "comments": "digest",
               "nudges": "app", "reminders": "digest"}
    response = client.post("/account/notifications", data={
        "csrf_token": csrf_token(client, "/account/notifications"), **choices,
        "push-shown": "1", "push-reminders": "1", "push-nudges": "1"})
    assert response.status_code == 302
    assert preferences_of(users["ha_long"]) == choices
    assert pushed_groups(users["ha_long"]) == {"reminders", "nudges"}


def test_an_unknown_choice_is_refused_naming_the_group_and_nothing_is_saved(app, users):
    client = _client(app, "ha_long")
    response = client.post("/account/notifications", data={
        "csrf_token": csrf_token(client, "/account/notifications"),
        "decisions": "fax", "requests": "app", "comments": "app", "nudges": "app",
        "reminders": "app"})
    assert response.status_code == 422
    assert 'data-field="decisions"' in response.get_data(as_text=True)
    assert set(preferences_of(users["ha_long"]).values()) == {"now"}
    assert db.session.scalars(select(Notification)).all() == []
