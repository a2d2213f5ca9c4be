"""The supervisor's pages: the red queue, the actions on a task, the daily report and its
downloads — each behind the role and the scope."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import make_task
from tests.web.conftest import ASSIGNED
from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.rules.colours import _SEVERITY, Colour
from tracker.tasks.colour import refresh_colour
from tracker.tasks.lifecycle import request_extension, submit_completion
from tracker.tasks.models import Comment, ExtensionRequest, ExtensionStatus, Status, Task
from tracker.web.supervise import RED_REASONS


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _logout(client):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})


def _act(client, task, action: str, prefix: str, **fields):
    data = {f"{prefix}-{k}": v for k, v in fields.items()}
    data[f"{prefix}-csrf_token"] = csrf_token(client, f"/tasks/{task.id}")
    return client.post(f"/supervise/tasks/{task.id}/{action}", data=data)


# --- the red queue -------------------------------------------------------------------------


def test_the_red_queue_lists_red_tasks_worst_first_with_reason_unit_and_owner(
        login_as, world):
    page = login_as("supervisor").get("/supervise/red").get_data(as_text=True)
    codes = re.findall(r'<span class="code">([^<]+)</span>', page)
    assert codes == [world.overdue.code, world.silent.code, world.co_to.code]
    assert world.fresh.code not in page  # green
    assert "Quá hạn 5 ngày" in page
    assert "Chủ tịch UBND đặc khu Cô Tô" in page and "Đặc khu Cô Tô" in page


def test_the_red_queue_filters_by_unit_and_reason(login_as, world, units):
    client = login_as("supervisor")
    page = client.get(f"/supervise/red?unit={units['co_to'].id}").get_data(as_text=True)
    assert re.findall(r'<span class="code">([^<]+)</span>', page) == [world.co_to.code]
    page = client.get("/supervise/red?reason=overdue").get_data(as_text=True)
    assert re.findall(r'<span class="code">([^<]+)</span>', page) == [world.overdue.code]


def test_a_commune_supervisor_sees_only_the_communes_red_tasks(login_as, world, units):
    client = login_as("co_to_supervisor")
    page = client.get("/supervise/red").get_data(as_text=True)
    assert re.findall(r'<span class="code">([^<]+)</span>', page) == [world.co_to.code]
    assert client.get(f"/supervise/red?unit={units['ha_long'].id}").status_code == 404


def _red_codes(page: str) -> list[str]:
    return re.findall(r'<span class="code">([^<]+)</span>', page)


def test_the_red_queue_pages_fifty_at_a_time_worst_first_with_exact_counts(
        login_as, world, users, units, clock):
    for i in range(50):  # silent since their assignment: red for missed updates
        task = make_task(users["admin"], units["co_to"], at=ASSIGNED, title=f"Việc {i}")
        refresh_colour(task, clock())
    db.session.commit()
    red = db.session.scalars(select(Task).where(Task.colour == "red")).all()
    assert len(red) == 53
    worst_first = sorted(red, key=lambda t: (t.colour_reason != "overdue", -t.colour_days,
                                             t.deadline, t.id))
    client = login_as("supervisor")
    client.get("/lang/en")
    first = client.get("/supervise/red").get_data(as_text=True)
    second = client.get("/supervise/red?page=2").get_data(as_text=True)
    assert _red_codes(first) + _red_codes(second) == [t.code for t in worst_first]
    assert len(_red_codes(first)) == 50
    assert "53 red task(s)" in first and "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "?page=2" in first and "page=3" not in second
    # The counts follow the filters; the unit and reason lists count the whole scope.
    page = client.get(f"/supervise/red?unit={units['co_to'].id}").get_data(as_text=True)
    assert "51 red task(s)" in page and "Page 1 of 2" in page
    assert f"{units['co_to'].name} (51)" in page and f"{units['ha_long'].name} (2)" in page
    assert "All units (53)" in page and "Overdue (1)" in page
    page = client.get(f"/supervise/red?unit={units['ha_long'].id}&reason=missed_updates")
    assert _red_codes(page.get_data(as_text=True)) == [world.silent.code]
    assert "1 red task(s)" in page.get_data(as_text=True)
    # Past the last page, or a page that is no number: an empty page, or the first.
    page = client.get("/supervise/red?page=99999999999999999999")
    assert page.status_code == 200 and _red_codes(page.get_data(as_text=True)) == []
    page = client.get("/supervise/red?page=abc").get_data(as_text=True)
    assert _red_codes(page) == _red_codes(first)


def test_the_red_queue_lists_tasks_led_in_scope_not_those_only_coordinated(
        login_as, world, users, units, clock):
    coordinated = make_task(users["admin"], units["ha_long"], at=ASSIGNED,
                            coordinating_unit_ids=[units["co_to"].id])
    refresh_colour(coordinated, clock())
    db.session.commit()
    assert coordinated.colour == "red"
    client = login_as("co_to_supervisor")
    assert _red_codes(client.get("/supervise/red").get_data(as_text=True)) == [
        world.co_to.code]
    assert client.get(f"/tasks/{coordinated.id}").status_code == 200  # still theirs to read


def test_the_red_queue_order_puts_overdue_first_by_reason_descending():
    # RED_ORDER (and its index) sorts the reason descending: right only while a red task's
    # first reason is one of these two, overdue sorting after missed_updates.
    red = {code for code, colour in _SEVERITY.items() if colour == Colour.RED}
    assert red == set(RED_REASONS) == {"overdue", "missed_updates"}
    assert sorted(red, reverse=True)[0] == "overdue"


@pytest.mark.parametrize("url", ["/supervise/red", "/reports/daily", "/reports/daily.csv"])
def test_members_cannot_reach_supervisor_pages(login_as, world, url):
    assert login_as("ha_long").get(url).status_code == 403


def test_viewers_read_the_report_but_have_no_red_queue(login_as, world):
    client = login_as("viewer")
    assert client.get("/supervise/red").status_code == 403
    assert client.get("/reports/daily").status_code == 200


def test_anonymous_users_are_sent_to_log_in(client, world):
    assert client.get("/supervise/red").status_code == 302


# --- actions on a task ---------------------------------------------------------------------


def test_the_task_page_shows_supervision_actions_to_supervisors_only(login_as, world):
    client = login_as("supervisor")
    assert 'id="supervise"' in client.get(f"/tasks/{world.silent.id}").get_data(True)
    _logout(client)
    assert 'id="supervise"' not in login_as("ha_long").get(f"/tasks/{world.silent.id}") \
        .get_data(True)


def test_a_nudge_reaches_the_units_members_and_is_audited(login_as, world, users):
    response = _act(login_as("supervisor"), world.silent, "nudge", "nudge",
                    message="Đề nghị cập nhật trước 16:00")
    assert response.status_code == 302
    note = db.session.scalar(select(Notification).where(Notification.kind == "nudge"))
    assert note.user_id == users["ha_long"].id and "Đề nghị cập nhật" in note.message
    assert _count(AuditEntry, AuditEntry.action == "nudge") == 1


def test_a_nudge_without_a_message_shows_the_error_by_the_field(login_as, world):
    response = _act(login_as("supervisor"), world.silent, "nudge", "nudge", message=" ")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<details class="action" open>\s*<summary data-testid="nudge-toggle">',
                     page)
    assert 'class="field-error"' in page
    assert _count(Notification, Notification.kind == "nudge") == 0


def test_an_acknowledgement_shows_on_the_task_and_in_the_queue(login_as, world):
    client = login_as("supervisor")
    response = _act(client, world.overdue, "acknowledge", "ack",
                    body="Đã nắm tình hình, chờ Sở Tài chính")
    assert response.status_code == 302
    assert db.session.scalar(select(Comment.kind)) == "acknowledge"
    assert "Đã nắm tình hình" in client.get(f"/tasks/{world.overdue.id}").get_data(True)
    assert "Đã nắm tình hình" in client.get("/supervise/red").get_data(True)


def test_a_member_comments_and_the_supervisor_reads_it(login_as, world):
    client = login_as("ha_long")
    response = client.post(f"/tasks/{world.silent.id}/comments", data={
        "comment-csrf_token": csrf_token(client, f"/tasks/{world.silent.id}"),
        "comment-body": "Xin hướng dẫn thêm về quy trình"})
    assert response.status_code == 302
    _logout(client)
    page = login_as("supervisor").get(f"/tasks/{world.silent.id}").get_data(True)
    assert "Xin hướng dẫn thêm về quy trình" in page


def test_a_member_cannot_use_supervisor_actions_by_url(login_as, world):
    client = login_as("ha_long")
    for action, prefix, field in [("nudge", "nudge", "message"), ("acknowledge", "ack", "body"),
                                  ("confirm", "confirm", "note"),
                                  ("return", "return", "note")]:
        assert _act(client, world.silent, action, prefix, **{field: "x"}).status_code == 403
    assert _count(Notification, Notification.kind == "nudge") == 0
    assert _count(Comment) == 0


def test_a_supervisor_cannot_act_outside_the_subtree(login_as, world):
    response = _act(login_as("co_to_supervisor"), world.silent, "nudge", "nudge", message="x")
    assert response.status_code == 404


def test_an_action_without_csrf_is_refused(login_as, world):
    response = login_as("supervisor").post(f"/supervise/tasks/{world.silent.id}/nudge",
                                           data={"nudge-message": "x"})
    assert response.status_code == 400


@pytest.fixture
def submitted(world, users, clock):
    submit_completion(users["ha_long"], world.fresh, result="Kho hồ sơ điện tử", now=clock())
    db.session.commit()
    return world.fresh


def test_a_supervisor_confirms_a_completion(login_as, submitted):
    client = login_as("supervisor")
    assert "completion-decision" in client.get(f"/tasks/{submitted.id}").get_data(True)
    assert _act(client, submitted, "confirm", "confirm", note="Đạt").status_code == 302
    assert db.session.get(Task, submitted.id).status == Status.DONE


def test_returning_a_completion_needs_a_reason(login_as, submitted):
    client = login_as("supervisor")
    response = _act(client, submitted, "return", "return", note="")
    assert response.status_code == 422 and 'class="field-error"' in response.get_data(True)
    assert db.session.get(Task, submitted.id).status == Status.SUBMITTED
    response = _act(client, submitted, "return", "return", note="Thiếu biên bản bàn giao")
    assert response.status_code == 302
    assert db.session.get(Task, submitted.id).status == Status.RETURNED


def test_confirming_a_task_that_is_not_submitted_is_a_conflict(login_as, world):
    response = _act(login_as("supervisor"), world.silent, "confirm", "confirm", note="")
    assert response.status_code == 409


@pytest.fixture
def extension(world, users, clock):
    from datetime import date

    request = request_extension(users["ha_long"], world.overdue,
                                new_deadline=date(2026, 12, 31),
                                reason="Chờ kết quả kiểm kê", now=clock())
    db.session.commit()
    return request


def _decide(client, extension, decision: str, note: str = ""):
    return client.post(
        f"/supervise/tasks/{extension.task_id}/extensions/{extension.id}",
        data={"decision-csrf_token": csrf_token(client, f"/tasks/{extension.task_id}"),
              "decision-note": note, "decision": decision})


def test_approving_an_extension_moves_the_deadline(login_as, extension):
    client = login_as("supervisor")
    assert "extension-decision" in client.get(f"/tasks/{extension.task_id}").get_data(True)
    assert _decide(client, extension, "approve").status_code == 302
    task = db.session.get(Task, extension.task_id)
    assert task.deadline.isoformat() == "2026-12-31"
    assert task.original_deadline.isoformat() == "2026-11-12"
    assert "31/12/2026" in client.get(f"/tasks/{task.id}").get_data(True)


def test_rejecting_an_extension_needs_a_note(login_as, extension):
    client = login_as("supervisor")
    assert _decide(client, extension, "reject").status_code == 422
    assert _decide(client, extension, "reject", "Không đủ căn cứ").status_code == 302
    assert db.session.get(ExtensionRequest, extension.id).status == ExtensionStatus.REJECTED
    assert db.session.get(Task, extension.task_id).deadline.isoformat() == "2026-11-12"


# --- the daily report ----------------------------------------------------------------------


def test_the_daily_report_defaults_to_the_latest_cutoff(login_as, world):
    page = login_as("supervisor").get("/reports/daily").get_data(as_text=True)
    assert "17/11/2026" in page
    assert world.overdue.code in page and world.co_to.code in page  # red tasks
    assert "Phường Hạ Long" in page  # units ranked
    for fmt in ("xlsx", "csv", "pdf"):
        assert f"/reports/daily.{fmt}?date=2026-11-17" in page


def test_a_date_without_a_processed_cutoff_has_no_report(login_as, world):
    client = login_as("supervisor")
    # Wednesday 18/11: its cutoff (16:00) is still ahead of the clock (10:00).
    assert client.get("/reports/daily?date=2026-11-18").status_code == 404
    assert client.get("/reports/daily?date=18/11/2026").status_code == 404
    assert client.get("/reports/daily.csv?date=2026-11-18").status_code == 404


def test_a_commune_supervisor_reads_only_the_communes_report(login_as, world, units):
    client = login_as("co_to_supervisor")
    page = client.get("/reports/daily").get_data(as_text=True)
    assert world.co_to.code in page and world.overdue.code not in page
    assert client.get(f"/reports/daily?unit={units['ha_long'].id}").status_code == 404


def test_the_csv_download_names_the_red_tasks(login_as, world):
    response = login_as("supervisor").get("/reports/daily.csv?date=2026-11-17")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert 'filename="bao-cao-giam-sat-2026-11-17.csv"' in response.headers[
        "Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert any(world.overdue.title in row for row in rows)


@pytest.mark.parametrize(("fmt", "magic"), [("xlsx", b"PK"), ("pdf", b"%PDF")])
def test_the_xlsx_and_pdf_downloads(login_as, world, fmt, magic):
    response = login_as("viewer").get(f"/reports/daily.{fmt}")
    assert response.status_code == 200 and response.data.startswith(magic)
