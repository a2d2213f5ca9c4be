"""The server's side of working offline (docs/offline.md): the service worker served from
the root with its scope allowed, the manifest, a fresh CSRF token for a draft, the update
forms answering a draft in JSON with the server's stamp and the reporting day, once per
key, and gzip only where no request input is reflected."""

from __future__ import annotations

import gzip
import re
from datetime import datetime

import pytest

from tests.factories import ict, make_task
from tracker.extensions import db
from tracker.updates.models import ProgressUpdate

JSON = {"Accept": "application/json"}


@pytest.fixture
def task(users, units):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    db.session.commit()
    return task


def _draft(client, task, key: str, token: str | None = None) -> dict:
    """The fields of /today's quick update form for `task`, as a kept draft holds them."""
    if token is None:
        token = client.get("/offline/csrf-token").get_json()["csrf_token"]
    prefix = f"t{task.id}-"
    return {prefix + "csrf_token": token, prefix + "idempotency_key": key,
            prefix + "progress": "30", prefix + "work_done": "Đã rà soát hồ sơ",
            prefix + "obstacles": "", prefix + "next_steps": "", prefix + "evidence_url": ""}


def test_the_service_worker_is_served_from_the_root_with_the_whole_site_as_its_scope(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert b'"/static/js/offline.js"' in response.data


def test_the_manifest_installs_the_members_page_with_icons_the_app_serves(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["start_url"] == "/today" and body["display"] == "standalone"
    for icon in body["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200
        response.close()
    assert body["name"] == "Tracker – Hệ thống giám sát nhiệm vụ"


def test_a_draft_sent_after_the_cutoff_is_stamped_by_the_server_and_counts_for_the_next_day(
        app, clock, login_as, task):
    client = login_as("ha_long")
    clock.set(ict(2026, 11, 18, 16, 0, 1))
    response = client.post(f"/today/tasks/{task.id}/update", headers=JSON,
                           data=_draft(client, task, "draft-1"))
    assert response.status_code == 200
    answer = response.get_json()
    assert datetime.fromisoformat(answer["created_at"]) == ict(2026, 11, 18, 16, 0, 1)
    assert answer["reporting_day"] == "2026-11-19" and answer["later_day"] is True
    assert "19/11/2026" in answer["messages"][1]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_draft_sent_twice_is_recorded_once_and_answered_with_the_first_stamp(
        app, clock, login_as, task):
    client = login_as("ha_long")
    clock.set(ict(2026, 11, 18, 15, 59, 59))
    first = client.post(f"/today/tasks/{task.id}/update", headers=JSON,
                        data=_draft(client, task, "draft-2")).get_json()
    clock.set(ict(2026, 11, 18, 16, 30))  # the answer was lost; sent again after 16:00
    again = client.post(f"/today/tasks/{task.id}/update", headers=JSON,
                        data=_draft(client, task, "draft-2")).get_json()
    assert again["replayed"] is True and first["replayed"] is False
    assert (again["created_at"], again["reporting_day"]) == (first["created_at"], "2026-11-18")
    assert again["later_day"] is False
    assert db.session.query(ProgressUpdate).count() == 1


def test_a_stale_csrf_token_is_answered_so_that_the_script_fetches_a_fresh_one(
        app, login_as, task):
    client = login_as("ha_long")
    response = client.post(f"/tasks/{task.id}/updates", headers=JSON, data={
        "csrf_token": "stale", "idempotency_key": "draft-3", "work_done": "Đã làm"})
    assert response.status_code == 400 and response.get_json()["code"] == "csrf"
    assert db.session.query(ProgressUpdate).count() == 0
    token = client.get("/offline/csrf-token")
    assert token.headers["Cache-Control"] == "no-store"
    response = client.post(f"/tasks/{task.id}/updates", headers=JSON, data={
        "csrf_token": token.get_json()["csrf_token"], "idempotency_key": "draft-3",
        "progress": "20", "work_done": "Đã làm"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["messages"] == ["Đã ghi nhận báo cáo tiến độ."]


def test_a_draft_the_service_refuses_is_answered_with_its_fields(app, login_as, task):
    client = login_as("ha_long")
    data = _draft(client, task, "draft-4")
    data[f"t{task.id}-work_done"] = ""
    response = client.post(f"/today/tasks/{task.id}/update", headers=JSON, data=data)
    assert response.status_code == 422
    assert "work_done" in response.get_json()["fields"]


def test_the_offline_pages_are_compressed_and_a_page_reflecting_a_search_is_not(
        app, login_as, task):
    client = login_as("ha_long")
    today = client.get("/today", headers={"Accept-Encoding": "gzip"})
    assert today.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in today.headers["Vary"]
    assert b"data-page-state" in gzip.decompress(today.data)
    style = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert style.headers["Content-Encoding"] == "gzip"
    assert b".offline-banner" in gzip.decompress(style.data)
    style.close()
    search = client.get("/tasks?q=abc", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in search.headers  # BREACH: the CSRF token beside `q`
    assert re.search(rb'name="csrf_token"', search.data)
    # The offline pages too, once the address carries a query string: the language links
    # reflect it beside the CSRF token.
    guess = client.get(f"/today?x=csrf_token%3D{'a' * 40}", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in guess.headers
    assert b"a" * 40 in guess.data and b'name="csrf_token"' in guess.data  # both there
    assert "Content-Encoding" not in client.get(
        f"/tasks/{task.id}?page=2", headers={"Accept-Encoding": "gzip"}).headers
    plain = client.get("/today")
    assert "Content-Encoding" not in plain.headers
