"""The pages as a phone user reads them (issue 13, item 7): the duty's words follow the
time of day ("hôm nay" only before today's cutoff), a row's actions are in sight, the
nudge box holds a message ready to send, a returned task says so in its badge, and no
form asks for the Ctrl key."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from tests.conftest import csrf_token
from tests.factories import ict
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.lifecycle import request_extension, return_completion, submit_completion


def _row(page: str, task) -> str:
    match = re.search(rf'<li class="task-row[^"]*" id="task-{task.id}".*?</li>', page, re.S)
    assert match, f"no row for {task.code}"
    return re.sub(r"\s+", " ", match.group(0))


def _duty(row: str) -> str:
    return re.search(r'data-testid="duty">([^<]*)<', row).group(1)


# --- the duty's words follow the time of day ---------------------------------------------


def test_before_the_cutoff_a_row_speaks_of_today(login_as, world):
    page = login_as("ha_long").get("/today").get_data(as_text=True)  # Wednesday 10:00
    assert _duty(_row(page, world.silent)) == "✖ Chưa gửi báo cáo tiến độ hôm nay"


def test_after_the_cutoff_a_row_names_the_next_reporting_day_not_today(
        login_as, world, clock):
    clock.set(ict(2026, 11, 18, 16, 30))  # Wednesday, after the 16:00 cutoff
    page = login_as("ha_long").get("/today").get_data(as_text=True)
    duty = _duty(_row(page, world.silent))
    assert "hôm nay" not in duty
    assert duty.startswith("✖ Chưa gửi báo cáo tiến độ cho") and "19/11/2026" in duty


def test_on_a_saturday_a_row_names_monday(login_as, world, clock):
    clock.set(ict(2026, 11, 21, 10, 0))  # Saturday
    client = login_as("ha_long")
    page = client.get("/today").get_data(as_text=True)
    for task in (world.silent, world.fresh, world.overdue):
        duty = _duty(_row(page, task))
        assert "hôm nay" not in duty and "23/11/2026" in duty, duty


def test_an_update_posted_after_the_cutoff_is_acknowledged_for_its_day(
        login_as, world, clock):
    clock.set(ict(2026, 11, 18, 17, 5))
    client = login_as("ha_long")
    task = world.silent
    prefix = f"t{task.id}-"
    response = client.post(f"/today/tasks/{task.id}/update", data={
        prefix + "csrf_token": csrf_token(client, "/today"),
        prefix + "progress": "20", prefix + "work_done": "Đã họp lấy ý kiến cử tri"})
    assert response.status_code == 302
    page = client.get("/today").get_data(as_text=True)
    duty = _duty(_row(page, task))
    assert duty.startswith("✔ Đã gửi báo cáo tiến độ cho") and "19/11/2026" in duty
    assert "17:05" in duty and "hôm nay" not in duty


# --- a row's actions are in sight ----------------------------------------------------------


def test_a_rows_requests_are_buttons_outside_the_collapsed_update(login_as, world):
    page = login_as("ha_long").get("/today").get_data(as_text=True)
    row = _row(page, world.silent)
    details = row[row.index("<details"):row.index("</details>")]
    actions = row[row.index('data-testid="row-actions"'):]
    for words in ("Đề nghị xác nhận hoàn thành", "Đề nghị gia hạn"):
        assert words not in details
        assert re.search(rf'<a class="button" href="[^"]+">{words}</a>', actions)
    # The day's update, owed, is the primary action.
    assert '<summary class="primary" data-testid="quick-update">' in row


def test_no_extension_button_while_one_is_pending(login_as, world, users):
    request_extension(users["ha_long"], world.fresh, new_deadline="2027-01-31",
                      reason="Chờ kinh phí", now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    row = _row(login_as("ha_long").get("/today").get_data(as_text=True), world.fresh)
    assert "Đề nghị gia hạn</a>" not in row and "Đang chờ duyệt gia hạn" in row


# --- the nudge box holds a message ready to send ------------------------------------------


def _nudge_box(page: str) -> str:
    match = re.search(r'<textarea[^>]*name="nudge-message"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "no nudge box"
    return html.unescape(match.group(1)).strip()


def test_the_nudge_box_is_filled_with_what_the_unit_owes_and_when(login_as, world):
    page = login_as("supervisor").get(f"/tasks/{world.silent.id}").get_data(as_text=True)
    assert _nudge_box(page) == (f"Đề nghị đơn vị gửi báo cáo tiến độ nhiệm vụ "
                                f"{world.silent.code} trước 16:00 ngày 18/11/2026.")
    assert "placeholder=" not in page[page.index('name="nudge-message"') - 200:][:400]


def test_after_the_cutoff_the_nudge_names_the_next_reporting_day(login_as, world, clock):
    clock.set(ict(2026, 11, 20, 16, 30))  # Friday after the cutoff: Monday is next
    page = login_as("supervisor").get(f"/tasks/{world.silent.id}").get_data(as_text=True)
    assert "trước 16:00 ngày 23/11/2026" in _nudge_box(page)


def test_an_overdue_tasks_nudge_asks_for_the_completion_or_an_extension(login_as, world):
    page = login_as("supervisor").get(f"/tasks/{world.overdue.id}").get_data(as_text=True)
    text = _nudge_box(page)
    assert text.startswith(f"Nhiệm vụ {world.overdue.code} đã quá hạn từ ngày 12/11/2026.")
    assert "đề nghị gia hạn" in text


def test_the_prefilled_nudge_is_sent_as_it_stands(login_as, world):
    client = login_as("supervisor")
    text = _nudge_box(client.get(f"/tasks/{world.silent.id}").get_data(as_text=True))
    response = client.post(f"/supervise/tasks/{world.silent.id}/nudge", data={
        "nudge-csrf_token": csrf_token(client, f"/tasks/{world.silent.id}"),
        "nudge-message": text})
    assert response.status_code == 302
    sent = db.session.scalar(select(Notification).where(Notification.kind == "nudge"))
    assert text in sent.message


# --- a returned task says so in its badge -------------------------------------------------


def _status_line(page: str) -> str:
    start = page.index('<p class="status-line">')
    return re.sub(r"\s+", " ", page[start:page.index("</p>", start)])


def _returned(users, task, note: str):
    """`task` submitted on Tuesday afternoon, returned with `note` on Wednesday morning."""
    submit_completion(users["ha_long"], task, result="Đã hoàn thành",
                      now=ict(2026, 11, 17, 15, 0))
    return_completion(users["supervisor"], task, note=note, now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    return task


def test_a_returned_tasks_badge_says_returned_not_green_on_today_and_the_task_page(
        login_as, world, users):
    task = _returned(users, world.fresh, "Thiếu danh mục hồ sơ")
    assert task.colour == "green" and task.colour_reason == "on_track"
    client = login_as("ha_long")

    row = _row(client.get("/today").get_data(as_text=True), task)
    meta = row[row.index('<span class="meta">'):row.index('data-testid="request-state"')]
    assert '<span class="badge badge-returned" data-testid="task-badge">' in meta
    assert "Bị trả lại" in meta
    assert "badge-green" not in meta and "Xanh" not in meta and "Đúng tiến độ" not in meta
    assert "Thiếu danh mục hồ sơ" in row  # the reason, in the request's state
    assert "Hôm nay không cần báo cáo" not in row

    line = _status_line(client.get(f"/tasks/{task.id}").get_data(as_text=True))
    assert "badge-returned" in line and "Bị trả lại" in line
    assert "Xanh" not in line and "Đúng tiến độ" not in line


def test_a_task_awaiting_confirmation_says_so_once(login_as, world, users):
    submit_completion(users["ha_long"], world.fresh, result="Đã hoàn thành",
                      now=ict(2026, 11, 17, 15, 0))
    db.session.commit()
    line = _status_line(login_as("ha_long").get(f"/tasks/{world.fresh.id}")
                        .get_data(as_text=True))
    assert line.count("Chờ xác nhận") == 1, line


def test_a_returned_task_that_is_red_keeps_its_colour_and_reason_beside_returned(
        login_as, world, users):
    task = _returned(users, world.overdue, "Chưa có phương án xử lý")
    row = _row(login_as("ha_long").get("/today").get_data(as_text=True), task)
    assert "badge-returned" in row and "badge-red" in row and "Quá hạn 6 ngày" in row


# --- no Ctrl key on a phone ----------------------------------------------------------------


def test_coordinating_units_are_ticked_not_chosen_with_ctrl(login_as, units):
    page = login_as("admin").get("/admin/tasks/new").get_data(as_text=True)
    assert "Ctrl" not in page and " multiple" not in page
    assert re.search(rf'<input type="checkbox" name="coordinating_unit_ids" '
                     rf'value="{units["co_to"].id}">', page)
