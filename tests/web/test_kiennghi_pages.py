"""The kiến nghị pages: raise (on its own and from a task), route, answer, ask again,
accept through the real forms with CSRF; refusals name their fields (4xx); lists and
queues hold only what the user's scope allows."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.factories import make_department, make_task, make_user
from tracker.extensions import db
from tracker.kiennghi.models import Recommendation

FORM = {"kind": "recommendation", "title": "Kiến nghị bổ sung biên chế",
        "content": "Xã thiếu công chức địa chính sau sắp xếp.", "field": "Tổ chức bộ máy",
        "legal_basis": "Nghị định 33/2023/NĐ-CP", "level_asked": "province"}


def _raise(client, data=FORM, query=""):
    token = csrf_token(client, f"/kien-nghi/new{query}")
    return client.post(f"/kien-nghi/new{query}", data={**data, "csrf_token": token})


def _latest() -> Recommendation:
    db.session.rollback()
    return db.session.scalars(select(Recommendation).order_by(Recommendation.id.desc())).first()


def test_a_member_raises_one_and_finds_it_in_the_list(login_as, users):
    client = login_as("co_to")
    response = _raise(client)
    rec = _latest()
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/kien-nghi/{rec.id}")
    page = client.get("/kien-nghi").get_data(as_text=True)
    assert rec.code in page and "Kiến nghị bổ sung biên chế" in page
    row = page[page.index('data-testid="kn-row"'):]
    row = row[:row.index("</li>")]
    assert row.count("Chờ phân loại") == 1, row  # the reason says it; the status not again


def test_an_incomplete_one_is_refused_naming_the_fields(login_as, users):
    client = login_as("co_to")
    response = _raise(client, {**FORM, "title": "", "legal_basis": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field="title"' in page and 'data-field="legal_basis"' in page
    assert _latest() is None


def test_without_csrf_nothing_is_raised(login_as, users):
    client = login_as("co_to")
    assert client.post("/kien-nghi/new", data=FORM).status_code == 400
    assert _latest() is None


def test_raised_from_a_task_page(login_as, users, units):
    task = make_task(users["admin"], units["co_to"])
    client = login_as("co_to")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f"/kien-nghi/new?task_id={task.id}" in page
    _raise(client, query=f"?task_id={task.id}")
    assert _latest().task_id == task.id


def test_another_communes_member_cannot_raise_on_a_task_it_does_not_report_on(
        login_as, users, units):
    task = make_task(users["admin"], units["co_to"])
    client = login_as("ha_long")
    assert client.get(f"/kien-nghi/new?task_id={task.id}").status_code == 404


def test_the_whole_way_through_the_pages(client, users, units):
    department = make_department(units["province"], "Sở Nội vụ")
    make_user("so_noi_vu", "member", department)
    db.session.commit()
    login(client, "co_to")
    _raise(client)
    rec = _latest()
    url = f"/kien-nghi/{rec.id}"
    # Another commune sees nothing of it.
    other = client.application.test_client()
    login(other, "ha_long")
    assert other.get(url).status_code == 404
    assert rec.code not in other.get("/kien-nghi").get_data(as_text=True)
    # The province's supervisor routes it to the department: refused first, named.
    boss = client.application.test_client()
    login(boss, "supervisor")
    assert rec.code in boss.get("/kien-nghi/queue").get_data(as_text=True)
    token = csrf_token(boss, url)
    refused = boss.post(f"{url}/route", data={"csrf_token": token, "route-response_days": "0",
                                              "route-responsible_unit_id": str(department.id)})
    assert refused.status_code == 422 and 'data-field="response_days"' in refused.get_data(
        as_text=True)
    boss.post(f"{url}/route", data={"csrf_token": token, "route-response_days": "5",
                                    "route-responsible_unit_id": str(department.id)})
    assert _latest().status == "assigned"
    # The department answers from its queue.
    answerer = client.application.test_client()
    login(answerer, "so_noi_vu")
    assert rec.code in answerer.get("/kien-nghi/queue").get_data(as_text=True)
    token = csrf_token(answerer, url)
    answerer.post(f"{url}/answer", data={"csrf_token": token, "answer-answer": "Đã bổ sung",
                                         "answer-answer_documents": "15/SNV"})
    assert _latest().status == "answered"
    # The commune asks again (a reason is required), then accepts the new answer.
    token = csrf_token(client, url)
    assert client.post(f"{url}/ask-again", data={"csrf_token": token,
                                                 "again-reason": ""}).status_code == 422
    client.post(f"{url}/ask-again", data={"csrf_token": token, "again-reason": "Chưa rõ"})
    assert _latest().status == "reopened"
    token = csrf_token(answerer, url)
    answerer.post(f"{url}/answer", data={"csrf_token": token, "answer-answer": "Bổ sung 2"})
    token = csrf_token(client, url)
    client.post(f"{url}/accept", data={"csrf_token": token})
    assert _latest().status == "closed"
    page = client.get(url).get_data(as_text=True)
    assert "Bổ sung 2" in page


def test_the_export_groups_by_field_and_legal_basis(login_as, users):
    client = login_as("co_to")
    _raise(client)
    _raise(client, {**FORM, "field": "Đất đai", "legal_basis": "Luật Đất đai 2024",
                    "title": "=HYPERLINK(\"x\")"})
    response = client.get("/kien-nghi/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    summary = [row for row in book["Tổng hợp"].iter_rows(values_only=True)][2:]
    assert [(r[0], r[1], r[2]) for r in summary] == [
        ("Đất đai", "Luật Đất đai 2024", 1), ("Tổ chức bộ máy", "Nghị định 33/2023/NĐ-CP", 1)]
    rows = list(book["Kiến nghị"].iter_rows(values_only=True))
    assert rows[1][4] == "=HYPERLINK(\"x\")"  # inert text, not a formula
    assert book["Kiến nghị"]["E2"].data_type == "s"


def test_the_overdue_queue_is_for_supervisors(login_as, users):
    assert login_as("co_to").get("/kien-nghi/overdue").status_code == 403
