"""Evidence files through the API: the list, an upload (a completion's product, or a file
backing one of your updates) and a download — the same service and limits as the forms,
the scope checked on the server."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.factories import make_task
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.tasks.models import Status
from tracker.updates.service import post_update

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def evidence_folder(app, tmp_path):
    app.config["TRACKER_EVIDENCE_PATH"] = str(tmp_path / "evidence")
    return tmp_path / "evidence"


@pytest.fixture
def task(users, units):
    made = make_task(users["admin"], units["ha_long"])
    db.session.commit()
    return made


def _upload(client, path: str, fields: dict, *, file=("bao-cao.pdf", PDF)):
    """A multipart POST, encoded in memory (the test client would spool a big body to a
    temporary file nobody closes)."""
    form = dict(fields)
    if file is not None:
        name, content = file
        form["file"] = FileStorage(io.BytesIO(content), name)
    boundary, body = encode_multipart(form)
    return client.post(path, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Evidence))


def test_a_member_uploads_a_completion_product_and_everyone_in_scope_downloads_it(
        api, task, evidence_folder):
    answer = _upload(api("ha_long"), f"/tasks/{task.id}/evidence", {})
    assert answer.status_code == 201, answer.get_json()
    item = answer.get_json()
    assert (item["purpose"], item["filename"], item["size"]) == ("completion", "bao-cao.pdf",
                                                                 len(PDF))
    assert item["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert item["content_type"] == "application/pdf" and item["uploaded_by"] == "ha_long"
    assert len(list(evidence_folder.iterdir())) == 1
    for who in ("ha_long", "supervisor", "viewer", "admin"):
        listed = api(who).get(f"/tasks/{task.id}/evidence").get_json()
        assert [e["id"] for e in listed] == [item["id"]]
        download = api(who).get(f"/tasks/{task.id}/evidence/{item['id']}")
        assert download.status_code == 200 and download.data == PDF
        assert download.mimetype == "application/pdf"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "bao-cao.pdf" in download.headers["Content-Disposition"]
        download.close()


def test_a_file_backs_one_of_your_own_updates(api, task, users, clock):
    update = post_update(users["ha_long"], task, {"progress": 20, "work_done": "Đã rà soát"},
                         now=clock())
    db.session.commit()
    answer = _upload(api("ha_long"), f"/tasks/{task.id}/evidence",
                     {"update_id": str(update["id"])}, file=("anh.png", PNG))
    assert answer.status_code == 201, answer.get_json()
    assert (answer.get_json()["purpose"], answer.get_json()["update_id"]) == ("update",
                                                                              update["id"])


def test_outside_scope_the_task_and_its_files_are_not_found(api, task):
    item = _upload(api("ha_long"), f"/tasks/{task.id}/evidence", {}).get_json()
    assert api("co_to").get(f"/tasks/{task.id}/evidence").status_code == 404
    assert api("co_to").get(f"/tasks/{task.id}/evidence/{item['id']}").status_code == 404
    assert _upload(api("co_to"), f"/tasks/{task.id}/evidence", {}).status_code == 404
    assert _count() == 1


def test_a_file_is_found_only_under_its_own_task(api, task, users, units):
    other = make_task(users["admin"], units["ha_long"])
    db.session.commit()
    item = _upload(api("ha_long"), f"/tasks/{task.id}/evidence", {}).get_json()
    assert api("admin").get(f"/tasks/{other.id}/evidence/{item['id']}").status_code == 404


@pytest.mark.parametrize("who", ["supervisor", "viewer", "admin"])
def test_only_a_member_of_the_lead_unit_uploads(api, task, who):
    assert _upload(api(who), f"/tasks/{task.id}/evidence", {}).status_code == 403
    assert _count() == 0


def test_a_coordinating_units_member_does_not_upload(api, users, units):
    task = make_task(users["admin"], units["ha_long"], coordinating_unit_ids=[units["co_to"].id])
    db.session.commit()
    assert _upload(api("co_to"), f"/tasks/{task.id}/evidence", {}).status_code == 403
    assert _count() == 0


@pytest.mark.parametrize("fields,file,status,named", [
    ({}, ("virus.exe", b"MZ\x90\x00"), 422, {"file"}),
    ({}, ("gia.pdf", PNG), 422, {"file"}),  # the content is no PDF
    ({}, ("rong.pdf", b""), 422, {"file"}),
    ({}, None, 422, {"file"}),
    ({"purpose": "other"}, ("a.pdf", PDF), 422, {"purpose"}),
    ({"purpose": "update"}, ("a.pdf", PDF), 422, {"update_id"}),
    ({"update_id": "abc"}, ("a.pdf", PDF), 422, {"update_id"}),
    ({"update_id": "99999999999"}, ("a.pdf", PDF), 422, {"update_id"}),
    ({"update_id": "12345"}, ("a.pdf", PDF), 422, {"update_id"}),  # no such update
    ({"purpose": "completion", "update_id": "1"}, ("a.pdf", PDF), 422, {"update_id"}),
    ({"purpose": "other", "update_id": "x"}, None, 422, {"purpose", "update_id", "file"}),
])
def test_bad_uploads_are_refused_naming_the_fields(api, task, evidence_folder, fields, file,
                                                   status, named):
    answer = _upload(api("ha_long"), f"/tasks/{task.id}/evidence", fields, file=file)
    assert answer.status_code == status
    assert set(answer.get_json()["fields"]) == named
    assert _count() == 0
    assert not evidence_folder.exists() or not list(evidence_folder.iterdir())


def test_another_members_update_is_not_yours_to_back(api, task, users, units, clock):
    from tests.factories import make_user

    colleague = make_user("ha_long_2", "member", units["ha_long"])
    update = post_update(colleague, task, {"progress": 20, "work_done": "Đã rà soát"},
                         now=clock())
    db.session.commit()
    answer = _upload(api("ha_long"), f"/tasks/{task.id}/evidence",
                     {"update_id": str(update["id"])})
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"update_id"}


def test_a_file_past_the_limit_is_refused_before_it_is_read(app, api, task):
    app.config["TRACKER_MAX_UPLOAD_BYTES"] = 1024
    answer = _upload(api("ha_long"), f"/tasks/{task.id}/evidence", {},
                     file=("lon.pdf", PDF + bytes(200 * 1024)))
    assert answer.status_code == 413
    assert set(answer.get_json()["fields"]) == {"file"}
    answer = _upload(api("ha_long"), f"/tasks/{task.id}/evidence", {},
                     file=("vua.pdf", PDF + bytes(2048)))  # within the slack, past the limit
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"file"}
    assert _count() == 0


def test_a_closed_task_takes_no_evidence(api, task):
    task.status = Status.CANCELLED
    db.session.commit()
    assert _upload(api("ha_long"), f"/tasks/{task.id}/evidence", {}).status_code == 409
    assert _count() == 0


def test_a_link_is_listed_but_not_downloaded(api, task, users, clock):
    post_update(users["ha_long"], task, {"progress": 20, "work_done": "Đã rà soát"},
                now=clock())
    from tracker.evidence.service import attach_link

    link = attach_link(users["ha_long"], task, "https://stnmt.quangninh.gov.vn/bao-cao",
                       now=clock())
    db.session.commit()
    listed = api("viewer").get(f"/tasks/{task.id}/evidence").get_json()
    assert [(e["url"], e["filename"]) for e in listed] == [
        ("https://stnmt.quangninh.gov.vn/bao-cao", None)]
    assert api("viewer").get(f"/tasks/{task.id}/evidence/{link.id}").status_code == 404
