"""Importing tasks through the API: a dry run that keeps nothing, a commit, every fault
named row by row, the import's limits — the same service as the admin's import page."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.web.test_import import _csv, _row, _xlsx
from tracker.audit.models import AuditEntry
from tracker.extensions import db
from tracker.tasks.models import Task


def _post(client, path: str, data: bytes | None, filename: str = "nhiem-vu.xlsx", **form):
    if data is not None:
        form["file"] = FileStorage(io.BytesIO(data), filename)
    boundary, body = encode_multipart(form)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _count(model=Task) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


GOOD = [_row(), _row(lead="co_to", title="Chuyển giao hồ sơ đất đai", priority="Cao")]


@pytest.mark.parametrize("make,filename", [(_xlsx, "nhiem-vu.xlsx"), (_csv, "nhiem-vu.csv")])
def test_a_dry_run_checks_every_row_and_keeps_nothing(api, units, make, filename):
    answer = _post(api("admin"), "/tasks/import?dry_run=true", make(GOOD), filename)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["dry_run"] is True and body["count"] == 2
    assert [(t["id"], t["title"], t["lead_unit"]["id"]) for t in body["items"]] == [
        (None, "Rà soát tài sản công dôi dư", units["ha_long"].id),
        (None, "Chuyển giao hồ sơ đất đai", units["co_to"].id)]
    assert body["items"][0]["deadline"] == "2026-12-31"
    assert _count() == 0 and _count(AuditEntry) == 0


def test_the_commit_imports_every_row(api, units):
    answer = _post(api("admin"), "/tasks/import", _xlsx(GOOD))
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["dry_run"] is False and body["count"] == 2
    ids = [t["id"] for t in body["items"]]
    assert sorted(ids) == sorted(db.session.scalars(select(Task.id)))
    listed = api("co_to").get("/tasks").get_json()["items"]
    assert [t["title"] for t in listed] == ["Chuyển giao hồ sơ đất đai"]


@pytest.mark.parametrize("dry_run", ["true", "false"])
def test_a_file_with_faults_imports_nothing_and_names_each_row(api, units, dry_run):
    rows = [_row(), _row(deadline="31/02/2026"), _row(lead="khong_co", leader_in_charge="")]
    answer = _post(api("admin"), f"/tasks/import?dry_run={dry_run}", _xlsx(rows))
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["code"] == "invalid"
    faults = {(r["row"], r["column"]) for r in body["rows"]}
    assert faults == {(3, "deadline"), (4, "lead_unit"), (4, "leader_in_charge")}
    assert set(body["fields"]) == {"row 3 deadline", "row 4 lead_unit",
                                   "row 4 leader_in_charge"}
    assert _count() == 0


def test_a_unit_outside_the_admins_subtree_is_refused_by_row(api, app, units, client):
    from tests.api.conftest import ApiClient
    from tests.factories import make_user
    from tracker import clock
    from tracker.auth.tokens import create_token

    commune_admin = make_user("co_to_admin", "admin", units["co_to"])
    _t, raw = create_token(None, commune_admin, name="t", now=clock.now())
    db.session.commit()
    answer = _post(ApiClient(client, raw), "/tasks/import", _xlsx(GOOD))
    assert answer.status_code == 422
    assert {(r["row"], r["column"]) for r in answer.get_json()["rows"]} == {(2, "lead_unit")}
    assert _count() == 0


@pytest.mark.parametrize("data,filename,status", [
    (None, "", 422),  # no file
    (b"", "nhiem-vu.csv", 422),  # empty
    (b"PK\x03\x04 not a zip", "nhiem-vu.xlsx", 422),
    (b"title\n", "nhiem-vu.txt", 422),  # neither xlsx nor csv
])
def test_a_file_that_is_no_task_list_is_refused_naming_it(api, data, filename, status):
    answer = _post(api("admin"), "/tasks/import", data, filename)
    assert answer.status_code == status, answer.get_json()
    body = answer.get_json()
    assert body["fields"] and body["rows"]
    assert _count() == 0


def test_a_file_past_the_size_limit_is_refused_with_413(api, app):
    app.config["TRACKER_IMPORT_MAX_MB"] = 1024  # bytes, as tracker.config stores it
    answer = _post(api("admin"), "/tasks/import", _csv([_row()] * 50), "nhiem-vu.csv")
    assert answer.status_code == 413
    assert set(answer.get_json()["fields"]) == {"file"}
    assert _count() == 0


def test_a_bad_dry_run_flag_is_refused(api):
    answer = _post(api("admin"), "/tasks/import?dry_run=maybe", _xlsx(GOOD))
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"dry_run"}
    assert _count() == 0


@pytest.mark.parametrize("who", ["ha_long", "supervisor", "viewer"])
def test_only_admins_import(api, who):
    assert _post(api(who), "/tasks/import?dry_run=true", _xlsx(GOOD)).status_code == 403
    assert api(who).get("/tasks/import/template").status_code == 403
    assert _count() == 0


@pytest.mark.parametrize("fmt,mimetype", [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("csv", "text/csv")])
def test_the_template_downloads_and_imports_as_it_is(api, fmt, mimetype):
    answer = api("admin").get(f"/tasks/import/template?format={fmt}")
    assert answer.status_code == 200 and answer.mimetype == mimetype
    dry = _post(api("admin"), "/tasks/import?dry_run=true", answer.data, f"mau.{fmt}")
    assert dry.status_code == 200 and dry.get_json()["count"] == 1, dry.get_json()

