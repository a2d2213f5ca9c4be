"""A kiến nghị's files over the API: the raiser adds one, the responsible unit adds the
answer's documents and answers; each role lists and downloads only what its scope holds,
the raiser of a merged duplicate the answer's documents; the limits are the evidence
files'."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.factories import ict, make_department, make_user
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.kiennghi import service

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MONDAY = ict(2026, 11, 16, 9, 0)


@pytest.fixture(autouse=True)
def folder(app, tmp_path):
    app.config["TRACKER_EVIDENCE_PATH"] = str(tmp_path / "evidence")


def _upload(client, path: str, purpose: str, *, name="to-trinh.pdf", content=PDF):
    boundary, body = encode_multipart({"purpose": purpose,
                                       "file": FileStorage(io.BytesIO(content), name)})
    return client.post(path, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _input(title):
    return {"title": title, "kind": "obstacle", "content": "Nội dung", "field": "Tài sản công",
            "legal_basis": "Nghị định 151/2017/NĐ-CP", "level_asked": "province"}


@pytest.fixture
def way(api, client, users, units):
    """Cô Tô's kiến nghị (Hạ Long's duplicate merged into it) routed to the Sở Tài chính."""
    department = make_department(units["province"], "Sở Tài chính")
    office = make_user("so_tai_chinh", "member", department)
    first = service.raise_recommendation(users["co_to"], _input("Trụ sở"), now=MONDAY)
    duplicate = service.raise_recommendation(users["ha_long"], _input("Trụ sở cũ"), now=MONDAY)
    service.route(users["supervisor"], first, responsible_unit_id=department.id,
                  response_days=5, now=MONDAY)
    service.merge(users["supervisor"], duplicate, into_id=first.id, now=MONDAY)
    _token, raw = create_token(None, office, name="t", now=MONDAY)
    db.session.commit()
    from tests.api.conftest import ApiClient
    return {"first": first.id, "duplicate": duplicate.id, "office": ApiClient(client, raw)}


def test_the_raiser_and_the_responsible_unit_add_files_each_to_their_part(api, way):
    rec = f"/recommendations/{way['first']}"
    raised = _upload(api("co_to"), f"{rec}/files", "recommendation")
    assert raised.status_code == 201, raised.get_json()
    assert raised.get_json()["purpose"] == "recommendation"
    # Not the raiser's to add to the answer, nor the department's to add to the kiến nghị.
    assert _upload(api("co_to"), f"{rec}/files", "answer").status_code == 403
    assert _upload(way["office"], f"{rec}/files", "recommendation").status_code == 403
    document = _upload(way["office"], f"{rec}/files", "answer", name="huong-dan.pdf")
    assert document.status_code == 201 and document.get_json()["purpose"] == "answer"
    answered = way["office"].post(f"{rec}/answer", json={"answer": "Đã có hướng dẫn"})
    assert answered.status_code == 200
    # No answer is owed any more: no more documents to it.
    assert _upload(way["office"], f"{rec}/files", "answer").status_code == 403


def test_a_wrong_file_or_purpose_is_refused_naming_the_field(api, way):
    path = f"/recommendations/{way['first']}/files"
    wrong = _upload(api("co_to"), path, "recommendation", content=b"MZ not a pdf")
    assert wrong.status_code == 422 and "file" in wrong.get_json()["fields"]
    purpose = _upload(api("co_to"), path, "update")
    assert purpose.status_code == 422 and "purpose" in purpose.get_json()["fields"]


def test_each_role_lists_and_downloads_what_its_scope_holds(api, way):
    rec = f"/recommendations/{way['first']}"
    raised_id = _upload(api("co_to"), f"{rec}/files", "recommendation").get_json()["id"]
    answer_id = _upload(way["office"], f"{rec}/files", "answer").get_json()["id"]
    for who in ("co_to", "co_to_viewer", "supervisor", "viewer", "admin"):
        listed = {f["id"] for f in api(who).get(f"{rec}/files").get_json()}
        assert listed == {raised_id, answer_id}, who
        response = api(who).get(f"/recommendations/files/{raised_id}")
        assert response.status_code == 200 and response.data == PDF, who
    assert {f["id"] for f in way["office"].get(f"{rec}/files").get_json()} == {
        raised_id, answer_id}
    # Hạ Long sees its duplicate, and through it the answer's documents only.
    duplicate = f"/recommendations/{way['duplicate']}/files"
    assert [f["id"] for f in api("ha_long").get(duplicate).get_json()] == [answer_id]
    assert api("ha_long").get(f"/recommendations/files/{answer_id}").status_code == 200
    assert api("ha_long").get(f"/recommendations/files/{raised_id}").status_code == 404
    assert api("ha_long").get(f"{rec}/files").status_code == 404
