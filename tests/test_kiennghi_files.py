"""A kiến nghị and its answer carry files (issue 18), through the evidence files' one upload
path (type by content, size limit, removed with a rolled-back step), each in the trail;
a file is downloaded only by whoever may see it — per role, and an answer's documents
also by the raisers of the duplicates merged into it — and the scope rule's SQL twin
selects the same files."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.conftest import csrf_token, login
from tests.factories import ict, make_department, make_user
from tracker.audit.models import AuditEntry
from tracker.auth.models import User
from tracker.errors import Forbidden, InvalidInput
from tracker.evidence.models import Evidence
from tracker.evidence.service import path_of
from tracker.extensions import db
from tracker.kiennghi import service
from tracker.kiennghi.models import Recommendation
from tracker.scope import can_see_recommendation_file, recommendation_file_visible

MONDAY = ict(2026, 11, 16, 9, 0)
PDF = b"%PDF-1.7\n" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def upload(data: bytes = PDF, name: str = "bien-ban.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def rec_input(title="Vướng mắc về trụ sở") -> dict:
    return {"title": title, "kind": "obstacle", "content": "Nội dung", "field": "Tài sản công",
            "legal_basis": "Nghị định 151/2017/NĐ-CP", "level_asked": "province"}


@pytest.fixture(autouse=True)
def storage(app, tmp_path):
    app.config["TRACKER_EVIDENCE_PATH"] = str(tmp_path / "evidence")
    return tmp_path / "evidence"


@pytest.fixture
def department(units, users):
    unit = make_department(units["province"], "Sở Tài chính")
    make_user("so_tai_chinh", "member", unit)
    make_user("so_xay_dung", "member", make_department(units["province"], "Sở Xây dựng"))
    db.session.commit()
    return unit


@pytest.fixture
def answered(users, units, department):
    """Cô Tô raises one with a file; Hạ Long raises the same, merged into it; the Sở Tài
    chính answers with a document."""
    first = service.raise_recommendation(users["co_to"], rec_input(), now=MONDAY,
                                         files=[upload(PNG, "so-do.png")])
    duplicate = service.raise_recommendation(users["ha_long"], rec_input("Trụ sở cũ"),
                                             now=MONDAY)
    service.route(users["supervisor"], first, responsible_unit_id=department.id,
                  response_days=5, now=MONDAY)
    service.merge(users["supervisor"], duplicate, into_id=first.id, now=MONDAY)
    office = db.session.scalar(select(User).where(User.username == "so_tai_chinh"))
    service.answer(office, first, answer_text="Đã có hướng dẫn", documents="15/HD-STC",
                   files=[upload(name="huong-dan.pdf")], now=ict(2026, 11, 17, 9, 0))
    db.session.commit()
    files = {e.purpose: e.id for e in db.session.scalars(select(Evidence))}
    return {"first": first.id, "duplicate": duplicate.id, "raised_file": files["recommendation"],
            "answer_file": files["answer"]}


def test_raised_with_a_file_kept_like_evidence_and_in_the_trail(users, storage):
    rec = service.raise_recommendation(users["co_to"], rec_input(), now=MONDAY,
                                       files=[upload(), upload(PNG, "anh.png")])
    db.session.commit()
    files = db.session.scalars(select(Evidence).where(Evidence.recommendation_id == rec.id)
                               .order_by(Evidence.id)).all()
    assert [(f.filename, f.purpose, f.task_id) for f in files] == [
        ("bien-ban.pdf", "recommendation", None), ("anh.png", "recommendation", None)]
    assert path_of(files[0]).read_bytes() == PDF
    trail = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.recommendation_id == rec.id).order_by(AuditEntry.id)).all()
    assert trail == ["raise", "attach", "attach"]


@pytest.mark.parametrize("data,name", [(b"not a pdf", "gia.pdf"), (PDF, "chay.exe"),
                                        (b"", "rong.pdf")])
def test_a_wrong_file_refuses_the_whole_raise_naming_the_field(users, storage, data, name):
    with pytest.raises(InvalidInput) as refused:
        service.raise_recommendation(users["co_to"], rec_input(), now=MONDAY,
                                     files=[upload(), upload(data, name)])
    assert "files" in refused.value.fields
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Recommendation)) == 0
    assert not any(storage.glob("*")) if storage.exists() else True


def test_a_file_over_the_limit_is_refused(app, users):
    app.config["TRACKER_MAX_UPLOAD_BYTES"] = 100
    with pytest.raises(InvalidInput) as refused:
        service.raise_recommendation(users["co_to"], rec_input(), now=MONDAY, files=[upload()])
    assert "files" in refused.value.fields
    db.session.rollback()


def test_only_the_responsible_unit_adds_the_answers_documents(users, answered):
    rec = db.session.get(Recommendation, answered["first"])
    service.ask_again(users["co_to"], rec, reason="Chưa rõ", now=ict(2026, 11, 18, 9, 0))
    db.session.commit()
    for who in ("co_to", "ha_long", "viewer", "co_to_supervisor"):
        with pytest.raises(Forbidden):
            service.attach_alone(users[who], rec, [upload()], purpose="answer")
        db.session.rollback()
    office = db.session.scalar(select(User).where(User.username == "so_tai_chinh"))
    [added] = service.attach_alone(office, rec, [upload(name="bo-sung.pdf")], purpose="answer")
    assert added.purpose == "answer"
    db.session.rollback()


ROLES = ("co_to", "co_to_supervisor", "co_to_viewer", "ha_long", "supervisor", "viewer",
         "admin", "so_tai_chinh", "so_xay_dung")
# Who downloads what: the raised file by whoever sees the kiến nghị (Cô Tô's subtree, the
# province, the responsible department); the answer's document also by Hạ Long, whose
# duplicate was merged into it.
RAISED = {"co_to", "co_to_supervisor", "co_to_viewer", "supervisor", "viewer", "admin",
          "so_tai_chinh"}
ANSWER = RAISED | {"ha_long"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_downloads_only_what_its_scope_holds(client, answered, role):
    login(client, role)
    raised = client.get(f"/kien-nghi/files/{answered['raised_file']}")
    raised.close()
    assert raised.status_code == (200 if role in RAISED else 404)
    document = client.get(f"/kien-nghi/files/{answered['answer_file']}")
    body = document.data
    document.close()
    assert document.status_code == (200 if role in ANSWER else 404)
    if role in ANSWER:
        assert body == PDF and document.mimetype == "application/pdf"
        assert document.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in document.headers["Content-Disposition"]


def test_the_scope_rule_and_its_sql_twin_agree(users, answered):
    files = db.session.scalars(select(Evidence).where(Evidence.recommendation_id.is_not(None)))
    files = list(files)
    everyone = db.session.scalars(select(User)).all()
    for user in everyone:
        twin = set(db.session.scalars(select(Evidence.id).where(recommendation_file_visible(
            user, Evidence.recommendation_id, Evidence.purpose))))
        rule = {f.id for f in files if can_see_recommendation_file(
            user, db.session.get(Recommendation, f.recommendation_id), f.purpose)}
        assert twin == rule, user.username
    assert len({u.username for u in everyone}) >= len(ROLES)


def test_the_pages_show_the_files_where_they_belong(client, answered):
    login(client, "ha_long")
    page = client.get(f"/kien-nghi/{answered['duplicate']}").get_data(as_text=True)
    assert f"/kien-nghi/files/{answered['answer_file']}" in page
    assert f"/kien-nghi/files/{answered['raised_file']}" not in page
    other = client.application.test_client()
    login(other, "co_to")
    page = other.get(f"/kien-nghi/{answered['first']}").get_data(as_text=True)
    assert "so-do.png" in page and "huong-dan.pdf" in page


def test_raised_with_a_file_through_the_form(client, users):
    login(client, "co_to")
    response = client.post("/kien-nghi/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/kien-nghi/new"), **rec_input(),
        "files": [(io.BytesIO(PDF), "to-trinh.pdf")]})
    assert response.status_code == 302
    [item] = db.session.scalars(select(Evidence)).all()
    assert item.filename == "to-trinh.pdf" and item.recommendation_id is not None
    refused = client.post("/kien-nghi/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/kien-nghi/new"), **rec_input(),
        "files": [(io.BytesIO(b"MZ..."), "to-trinh.pdf")]})
    assert refused.status_code == 422
    assert re.search(r'data-field="files"', refused.get_data(as_text=True))
    assert db.session.scalar(select(db.func.count()).select_from(Recommendation)) == 1


def test_answered_with_a_document_through_the_form(client, users, units, department):
    rec = service.raise_recommendation(users["co_to"], rec_input(), now=MONDAY)
    service.route(users["supervisor"], rec, responsible_unit_id=department.id,
                  response_days=5, now=MONDAY)
    db.session.commit()
    login(client, "so_tai_chinh")
    url = f"/kien-nghi/{rec.id}"
    response = client.post(f"{url}/answer", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, url), "answer-answer": "Trả lời",
        "answer-files": [(io.BytesIO(PDF), "cong-van.pdf")]})
    assert response.status_code == 302
    [item] = db.session.scalars(select(Evidence)).all()
    assert (item.purpose, item.filename) == ("answer", "cong-van.pdf")
