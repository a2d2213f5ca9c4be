"""The member's pages: today's duties and the countdown, the daily update one task at a
time or all at once, completion with evidence, extension requests — and their limits."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.factories import ict
from tracker.evidence.models import Evidence
from tracker.evidence.service import path_of, sniff
from tracker.extensions import db
from tracker.tasks.models import ExtensionRequest, Status
from tracker.updates.models import ProgressUpdate

pytestmark = pytest.mark.usefixtures("evidence_dir")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


def _row(page: str, task) -> str:
    match = re.search(rf'<li class="task-row[^"]*" id="task-{task.id}".*?</li>', page, re.S)
    assert match, f"no row for {task.code}"
    return match.group(0)


# --- the today page ------------------------------------------------------------------------


def test_today_lists_the_units_open_tasks_with_colour_reason_and_deadline(login_as, world):
    page = login_as("ha_long").get("/today").get_data(as_text=True)
    row = _row(page, world.overdue)
    assert "badge-red" in row and "Đỏ" in row  # the colour comes with its label
    assert "Quá hạn 5 ngày" in row  # as stored by the 17/11 cutoff
    assert "12/11/2026" in row
    assert "duty-missing" in row
    assert world.co_to.code not in page  # another commune's task


def test_today_is_for_members_only(login_as, world):
    for username in ("supervisor", "admin", "viewer"):
        client = login_as(username)
        assert client.get("/today").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})


def test_the_countdown_is_written_by_the_server_and_kept_live_by_a_served_script(
        login_as, world, client):
    page = login_as("ha_long").get("/today").get_data(as_text=True)
    # 10:00 on a working day: six hours to the 16:00 cutoff.
    assert re.search(r'data-countdown-to="2026-11-18T09:00:00\+00:00"', page)
    assert ">06:00:00<" in page
    assert '<script src="/static/js/countdown.js" defer></script>' in page
    assert "<script>" not in page  # no inline script
    with client.get("/static/js/countdown.js") as script:
        assert script.status_code == 200
        assert "data-countdown-to" in script.get_data(as_text=True)


def test_after_the_cutoff_updates_count_for_the_next_working_day(login_as, world, clock):
    clock.set(ict(2026, 11, 20, 16, 30))  # a Friday, after the cutoff
    page = login_as("ha_long").get("/today").get_data(as_text=True)
    assert "23/11/2026" in page  # Monday
    assert ">2 ngày 23:30:00<" in page or ">2 day(s) 23:30:00<" in page


def test_a_quick_update_turns_todays_status_to_received(login_as, world, clock):
    client = login_as("ha_long")
    task = world.silent
    prefix = f"t{task.id}-"
    response = client.post(f"/today/tasks/{task.id}/update", data={
        prefix + "csrf_token": csrf_token(client, "/today"),
        prefix + "progress": "20", prefix + "work_done": "Đã họp lấy ý kiến cử tri",
    })
    assert response.status_code == 302
    update = db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.task_id == task.id))
    assert update.created_at == clock() and update.progress == 20
    row = _row(client.get("/today").get_data(as_text=True), task)
    assert "duty-reported" in row and "10:00" in row


def test_an_invalid_quick_update_shows_the_error_by_the_field_and_saves_nothing(
        login_as, world):
    client = login_as("ha_long")
    task = world.silent
    prefix = f"t{task.id}-"
    response = client.post(f"/today/tasks/{task.id}/update", data={
        prefix + "csrf_token": csrf_token(client, "/today"),
        prefix + "progress": "150", prefix + "work_done": "x",
    })
    assert response.status_code == 422
    row = _row(response.get_data(as_text=True), task)
    assert 'class="field-error"' in row and "<details class=\"quick-update\" open>" in row
    assert _count(ProgressUpdate) == 1  # only the world's own


def test_a_quick_update_without_csrf_is_refused(login_as, world):
    task = world.silent
    response = login_as("ha_long").post(f"/today/tasks/{task.id}/update", data={
        f"t{task.id}-progress": "20", f"t{task.id}-work_done": "x"})
    assert response.status_code == 400
    assert _count(ProgressUpdate) == 1


def test_a_member_cannot_update_another_communes_task(login_as, world):
    client = login_as("ha_long")
    task = world.co_to
    response = client.post(f"/today/tasks/{task.id}/update", data={
        f"t{task.id}-csrf_token": csrf_token(client, "/today"),
        f"t{task.id}-progress": "20", f"t{task.id}-work_done": "x"})
    assert response.status_code == 404


# --- all owed tasks at once ----------------------------------------------------------------


def _bulk(client, rows: dict) -> object:
    data = {"csrf_token": csrf_token(client, "/today/all"), "task_id": [str(i) for i in rows]}
    for task_id, values in rows.items():
        data.update({f"{name}-{task_id}": value for name, value in values.items()})
    return client.post("/today/all", data=data)


def test_the_update_all_page_lists_the_tasks_still_owing_todays_update(login_as, world):
    page = login_as("ha_long").get("/today/all").get_data(as_text=True)
    assert page.count('data-testid="bulk-row"') == 3
    assert world.co_to.code not in page


def test_update_all_saves_every_filled_row_together(login_as, world, clock):
    client = login_as("ha_long")
    response = _bulk(client, {
        world.overdue.id: {"progress": "60", "work_done": "Đã lập danh mục tài sản"},
        world.silent.id: {"progress": "10", "work_done": "Đã xây dựng phương án"},
        world.fresh.id: {"progress": "30", "work_done": ""},  # untouched: skipped
    })
    assert response.status_code == 302
    saved = db.session.scalars(select(ProgressUpdate.task_id)
                               .where(ProgressUpdate.created_at == clock())).all()
    assert sorted(saved) == sorted([world.overdue.id, world.silent.id])


def test_update_all_saves_nothing_when_one_row_is_invalid(login_as, world):
    client = login_as("ha_long")
    response = _bulk(client, {
        world.overdue.id: {"progress": "60", "work_done": "Đã lập danh mục tài sản"},
        world.silent.id: {"progress": "70", "work_done": ""},  # progress without work done
        world.fresh.id: {"progress": "30", "work_done": "ok", "evidence_url": "ftp://x"},
    })
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') == 2
    assert "Đã lập danh mục tài sản" in page  # what was typed is kept
    assert _count(ProgressUpdate) == 1
    assert db.session.get(type(world.overdue), world.overdue.id).progress == 0


def test_update_all_with_nothing_filled_is_refused(login_as, world):
    response = _bulk(login_as("ha_long"), {world.silent.id: {"progress": "0"}})
    assert response.status_code == 422
    assert _count(ProgressUpdate) == 1


def test_update_all_refuses_a_task_outside_the_members_unit(login_as, world):
    response = _bulk(login_as("ha_long"), {world.co_to.id: {"progress": "5", "work_done": "x"}})
    assert response.status_code == 404
    assert _count(ProgressUpdate) == 1


# --- completion and evidence ---------------------------------------------------------------


def _complete(client, task, **data):
    data.setdefault("csrf_token", csrf_token(client, f"/tasks/{task.id}/complete"))
    return client.post(f"/tasks/{task.id}/complete", data=data,
                       content_type="multipart/form-data")


def test_completion_with_a_file_is_submitted_and_the_file_kept_outside_the_database(
        login_as, world, clock, evidence_dir):
    client = login_as("ha_long")
    response = _complete(client, world.fresh, result="Kho hồ sơ điện tử đã cập nhật",
                         evidence_file=(io.BytesIO(PDF), "Biên bản nghiệm thu.pdf"))
    assert response.status_code == 302
    task = db.session.get(type(world.fresh), world.fresh.id)
    assert task.status == Status.SUBMITTED and task.submitted_at == clock()
    evidence = db.session.scalar(select(Evidence))
    assert evidence.filename == "Biên bản nghiệm thu.pdf"
    assert evidence.content_type == "application/pdf" and evidence.size == len(PDF)
    path = path_of(evidence)
    assert path.read_bytes() == PDF
    assert path.parent == evidence_dir
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Biên bản nghiệm thu.pdf" in page and "Kho hồ sơ điện tử đã cập nhật" in page


def test_completion_with_a_link(login_as, world):
    response = _complete(login_as("ha_long"), world.fresh, result="Xong",
                         evidence_url="https://quangninh.gov.vn/van-ban/123")
    assert response.status_code == 302
    assert db.session.scalar(select(Evidence.url)) == "https://quangninh.gov.vn/van-ban/123"


def test_evidence_is_downloaded_only_by_users_in_scope(login_as, world, client):
    _complete(login_as("ha_long"), world.fresh, result="Xong",
              evidence_file=(io.BytesIO(PNG), "anh.png"))
    evidence = db.session.scalar(select(Evidence))
    url = f"/tasks/{world.fresh.id}/evidence/{evidence.id}"
    with client.get(url) as response:
        assert response.status_code == 200 and response.data == PNG
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response.headers["Content-Disposition"]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    with login_as("supervisor").get(url) as response:
        assert response.status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    assert login_as("co_to").get(url).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    assert login_as("co_to_supervisor").get(url).status_code == 404


@pytest.mark.parametrize(("name", "content"), [
    ("bao-cao.pdf", PNG),  # the extension lies
    ("bao-cao.exe", PDF),  # not an accepted type
    ("bao-cao.xlsx", _office("word/document.xml")),  # a Word file named .xlsx
    ("bao-cao.docx", b"PK\x03\x04 not really a zip"),
])
def test_a_file_of_the_wrong_type_is_refused_and_nothing_is_kept(
        login_as, world, evidence_dir, name, content):
    response = _complete(login_as("ha_long"), world.fresh, result="Xong",
                         evidence_file=(io.BytesIO(content), name))
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert _count(Evidence) == 0
    assert db.session.get(type(world.fresh), world.fresh.id).status != Status.SUBMITTED
    assert not evidence_dir.exists() or not any(evidence_dir.iterdir())


def test_evidence_files_live_under_the_instance_folder_by_default(app):
    from tracker.evidence.service import storage_dir

    app.config.pop("TRACKER_EVIDENCE_PATH")
    assert storage_dir() == Path(app.instance_path) / "evidence"


def test_a_file_over_the_limit_is_refused(login_as, world, app):
    app.config["TRACKER_MAX_UPLOAD_BYTES"] = 1000
    response = _complete(login_as("ha_long"), world.fresh, result="Xong",
                         evidence_file=(io.BytesIO(PDF + b"0" * 2000), "lon.pdf"))
    assert response.status_code == 422
    assert _count(Evidence) == 0


def test_a_request_over_the_size_limit_is_refused_with_413(login_as, world, app):
    client = login_as("ha_long")
    token = csrf_token(client, f"/tasks/{world.fresh.id}/complete")
    app.config["MAX_CONTENT_LENGTH"] = 5000
    response = _complete(client, world.fresh, result="Xong", csrf_token=token,
                         evidence_file=(io.BytesIO(PDF + b"0" * 10000), "lon.pdf"))
    assert response.status_code == 413
    assert _count(Evidence) == 0


def test_office_files_are_recognised_by_their_content():
    assert sniff(_office("word/document.xml")) == "docx"
    assert sniff(_office("xl/workbook.xml")) == "xlsx"
    assert sniff(PDF) == "pdf" and sniff(PNG) == "png"
    assert sniff(b"\xff\xd8\xff\xe0JFIF") == "jpeg"
    assert sniff(b"MZ\x90\x00") is None


def test_completion_needs_the_product_and_shows_every_error_at_once(login_as, world):
    response = _complete(login_as("ha_long"), world.fresh, result=" ",
                         evidence_url="javascript:alert(1)")
    assert response.status_code == 422
    assert response.get_data(as_text=True).count('class="field-error"') == 2
    assert _count(Evidence) == 0


def test_a_submitted_task_cannot_be_submitted_again(login_as, world):
    client = login_as("ha_long")
    _complete(client, world.fresh, result="Xong")
    response = _complete(client, world.fresh, result="Lần hai",
                         csrf_token=csrf_token(client, f"/tasks/{world.silent.id}/complete"))
    assert response.status_code == 409


def test_only_the_lead_units_member_submits(login_as, world):
    assert login_as("co_to").get(f"/tasks/{world.fresh.id}/complete").status_code == 404


# --- extension requests --------------------------------------------------------------------


def _extend(client, task, **data):
    data.setdefault("csrf_token", csrf_token(client, f"/tasks/{task.id}/extension"))
    return client.post(f"/tasks/{task.id}/extension", data=data)


@pytest.mark.parametrize("typed", ["31/12/2026", "2026-12-31"])
def test_an_extension_request_is_sent_with_its_reason(login_as, world, typed):
    response = _extend(login_as("ha_long"), world.overdue, requested_deadline=typed,
                       reason="Chờ kết quả kiểm kê của Sở Tài chính")
    assert response.status_code == 302
    request = db.session.scalar(select(ExtensionRequest))
    assert request.requested_deadline.isoformat() == "2026-12-31"
    assert request.reason == "Chờ kết quả kiểm kê của Sở Tài chính"
    task = db.session.get(type(world.overdue), world.overdue.id)
    assert task.deadline.isoformat() == "2026-11-12"  # unchanged until approved


def test_an_extension_request_names_each_bad_field(login_as, world):
    response = _extend(login_as("ha_long"), world.overdue, requested_deadline="31/02/2026",
                       reason="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "dd/mm/yyyy" in page and page.count('class="field-error"') == 2
    assert _count(ExtensionRequest) == 0


def test_a_quick_update_can_carry_an_evidence_file_shown_under_the_update(login_as, world):
    client = login_as("ha_long")
    task = world.silent
    prefix = f"t{task.id}-"
    response = client.post(f"/today/tasks/{task.id}/update", data={
        prefix + "csrf_token": csrf_token(client, "/today"),
        prefix + "progress": "20", prefix + "work_done": "Đã chụp biên bản họp",
        prefix + "evidence_file": (io.BytesIO(b"\xff\xd8\xff\xe0JFIF"), "bien-ban.jpg"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    evidence = db.session.scalar(select(Evidence))
    update = db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.task_id == task.id))
    assert evidence.update_id == update.id and evidence.content_type == "image/jpeg"
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f"/tasks/{task.id}/evidence/{evidence.id}" in page


def test_the_task_page_shows_the_colour_at_each_cutoff(login_as, world):
    page = login_as("ha_long").get(f"/tasks/{world.silent.id}").get_data(as_text=True)
    history = page[page.index('id="colour-history"'):]
    history = history[:history.index("</section>")]
    assert "17/11/2026" in history and "badge-red" in history


def test_the_today_page_speaks_english_on_request(login_as, world):
    client = login_as("ha_long")
    client.get("/lang/en")
    page = client.get("/today").get_data(as_text=True)
    assert 'lang="en"' in page and "Wednesday 18/11/2026" in page
    assert "Time left until the 16:00 cutoff" in page
