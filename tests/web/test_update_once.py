"""The update forms on /today and the task page carry a key made when they are rendered:
a double submit, or a resubmit after a lost answer, records one update."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from tests.factories import ict
from tracker.extensions import db
from tracker.idempotency.models import IdempotencyKey
from tracker.updates.models import ProgressUpdate

ONCE = "Biểu mẫu này đã được gửi trước đó; cập nhật chỉ được ghi nhận một lần."


def _count(model=ProgressUpdate) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'id="{re.escape(name)}" name="{re.escape(name)}" type="hidden" '
                      rf'value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return match.group(1)


def _task_form(client, task) -> dict:
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    return {"csrf_token": _hidden(page, "csrf_token"),
            "idempotency_key": _hidden(page, "idempotency_key")}


def test_each_rendering_of_the_form_has_its_own_key(login_as, world):
    client = login_as("ha_long")
    keys = {_task_form(client, world.silent)["idempotency_key"] for _ in range(3)}
    assert len(keys) == 3 and all(len(k) == 32 for k in keys)
    today = client.get("/today").get_data(as_text=True)
    on_today = {_hidden(today, f"t{t.id}-idempotency_key")
                for t in (world.silent, world.overdue)}
    assert len(on_today) == 2


def test_a_double_submit_on_the_task_page_records_one_update(login_as, world):
    client = login_as("ha_long")
    data = {**_task_form(client, world.silent), "progress": "20", "work_done": "Đã họp thôn"}
    first = client.post(f"/tasks/{world.silent.id}/updates", data=data)
    again = client.post(f"/tasks/{world.silent.id}/updates", data=data, follow_redirects=True)
    assert first.status_code == 302 and again.status_code == 200
    assert ONCE in again.get_data(as_text=True)
    assert _count() == 2 and _count(IdempotencyKey) == 1  # the world's own and this one


def test_a_resubmit_with_the_same_evidence_file_stores_one_update_and_one_file(
        login_as, world):
    client = login_as("ha_long")
    form = _task_form(client, world.silent)
    for _ in range(2):
        response = client.post(f"/tasks/{world.silent.id}/updates", data={
            **form, "progress": "20", "work_done": "Biên bản họp",
            "evidence_file": (io.BytesIO(b"%PDF-1.4 bien ban"), "bien-ban.pdf")},
            content_type="multipart/form-data")
        assert response.status_code == 302
    from tracker.evidence.models import Evidence
    assert _count() == 2 and _count(Evidence) == 1
    other_file = client.post(f"/tasks/{world.silent.id}/updates", data={
        **form, "progress": "20", "work_done": "Biên bản họp",
        "evidence_file": (io.BytesIO(b"%PDF-1.4 khac"), "bien-ban.pdf")},
        content_type="multipart/form-data")
    assert other_file.status_code == 422 and _count() == 2


def test_a_double_submit_on_today_records_one_update(login_as, world):
    client = login_as("ha_long")
    task, prefix = world.silent, f"t{world.silent.id}-"
    today = client.get("/today").get_data(as_text=True)
    data = {prefix + "csrf_token": _hidden(today, prefix + "csrf_token"),
            prefix + "idempotency_key": _hidden(today, prefix + "idempotency_key"),
            prefix + "progress": "20", prefix + "work_done": "Đã họp lấy ý kiến cử tri"}
    assert client.post(f"/today/tasks/{task.id}/update", data=data).status_code == 302
    again = client.post(f"/today/tasks/{task.id}/update", data=data, follow_redirects=True)
    assert again.status_code == 200 and ONCE in again.get_data(as_text=True)
    assert _count() == 2


def test_the_sent_form_changed_and_sent_again_is_refused_with_a_fresh_key(login_as, world):
    client = login_as("ha_long")
    form = _task_form(client, world.silent)
    client.post(f"/tasks/{world.silent.id}/updates",
                data={**form, "progress": "20", "work_done": "Đã họp thôn"})
    refused = client.post(f"/tasks/{world.silent.id}/updates",
                          data={**form, "progress": "30", "work_done": "Đã họp thôn"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "đã được gửi trước đó với nội dung khác" in page
    fresh = _hidden(page, "idempotency_key")
    assert fresh != form["idempotency_key"] and _count() == 2
    sent = client.post(f"/tasks/{world.silent.id}/updates", data={
        **form, "idempotency_key": fresh, "progress": "30", "work_done": "Đã họp thôn"})
    assert sent.status_code == 302 and _count() == 3


def test_a_refused_form_keeps_its_key_and_its_corrected_sending_is_recorded(login_as, world):
    client = login_as("ha_long")
    form = _task_form(client, world.silent)
    refused = client.post(f"/tasks/{world.silent.id}/updates",
                          data={**form, "progress": "150", "work_done": "x"})
    assert refused.status_code == 422
    assert _hidden(refused.get_data(as_text=True), "idempotency_key") == \
        form["idempotency_key"]
    sent = client.post(f"/tasks/{world.silent.id}/updates",
                       data={**form, "progress": "15", "work_done": "x"})
    assert sent.status_code == 302 and _count() == 2


def test_a_resubmit_after_the_cutoff_keeps_the_first_reporting_day(login_as, world, clock):
    client = login_as("ha_long")
    clock.set(ict(2026, 11, 18, 15, 59, 59))
    data = {**_task_form(client, world.silent), "progress": "20", "work_done": "Đã họp thôn"}
    first = client.post(f"/tasks/{world.silent.id}/updates", data=data, follow_redirects=True)
    assert "tính cho ngày báo cáo 19/11/2026" not in first.get_data(as_text=True)
    clock.set(ict(2026, 11, 18, 16, 0, 30))
    again = client.post(f"/tasks/{world.silent.id}/updates", data=data, follow_redirects=True)
    assert ONCE in again.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(select(ProgressUpdate.created_at).where(
        ProgressUpdate.task_id == world.silent.id)).all() == [ict(2026, 11, 18, 15, 59, 59)]


def test_an_update_sent_after_the_cutoff_says_the_day_it_counts_for(login_as, world, clock):
    clock.set(ict(2026, 11, 20, 16, 0, 1))  # a Friday, one second late
    client = login_as("ha_long")
    data = {**_task_form(client, world.silent), "progress": "20", "work_done": "Đã họp thôn"}
    page = client.post(f"/tasks/{world.silent.id}/updates", data=data,
                       follow_redirects=True).get_data(as_text=True)
    note = "Cập nhật gửi sau giờ chốt hoặc vào ngày nghỉ nên được tính cho ngày báo cáo 23/11/2026."
    assert note in page
    clock.set(ict(2026, 11, 20, 16, 5))
    replayed = client.post(f"/tasks/{world.silent.id}/updates", data=data,
                           follow_redirects=True).get_data(as_text=True)
    assert note in replayed and ONCE in replayed


def test_the_all_tasks_page_sent_twice_records_its_updates_once(login_as, world):
    client = login_as("ha_long")
    page = client.get("/today/all").get_data(as_text=True)
    form = {"csrf_token": _hidden(page, "csrf_token"),
            "idempotency_key": _hidden(page, "idempotency_key")}
    rows = {world.silent.id: "Đã họp thôn", world.overdue.id: "Đã rà soát"}
    data = {**form, "task_id": [str(i) for i in rows],
            **{f"work_done-{i}": text for i, text in rows.items()},
            **{f"progress-{i}": "20" for i in rows}}
    assert client.post("/today/all", data=data).status_code == 302
    again = client.post("/today/all", data=data, follow_redirects=True)
    assert ONCE in again.get_data(as_text=True)
    assert _count() == 3
    changed = client.post("/today/all", data={**data, f"progress-{world.silent.id}": "30"})
    assert changed.status_code == 422 and _count() == 3
    assert _hidden(changed.get_data(as_text=True), "idempotency_key") != form["idempotency_key"]
