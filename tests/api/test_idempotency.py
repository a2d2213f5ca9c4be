"""Idempotency-Key on the API's progress updates: a retry gets the first answer back and
records nothing (draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.api.conftest import ApiClient
from tests.factories import ict
from tracker.extensions import db
from tracker.idempotency.models import IdempotencyKey
from tracker.idempotency.service import purge_expired
from tracker.updates.models import ProgressUpdate

KEY = {"Idempotency-Key": "0b6c3e1e-5d7a-4f1e-9a51-7d3c2f6e8a10"}


def count(model=ProgressUpdate) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_retry_gets_the_first_answer_and_records_nothing(api, world):
    data = {"progress": 20, "work_done": "Đã họp thôn"}
    first = api("ha_long").post(f"/tasks/{world.silent.id}/updates", json=data, headers=KEY)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    again = api("ha_long").post(f"/tasks/{world.silent.id}/updates", json=data, headers=KEY)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert count() == 2  # the world's own and this one
    assert count(IdempotencyKey) == 1


def test_without_a_key_every_request_is_a_new_update(api, world):
    data = {"progress": 20, "work_done": "Đã họp thôn"}
    for _ in range(2):
        assert api("ha_long").post(f"/tasks/{world.silent.id}/updates",
                                   json=data).status_code == 201
    assert count() == 3 and count(IdempotencyKey) == 0


def test_the_key_with_another_body_is_refused_naming_the_header(api, world):
    path = f"/tasks/{world.silent.id}/updates"
    api("ha_long").post(path, json={"progress": 20, "work_done": "Đã họp thôn"}, headers=KEY)
    response = api("ha_long").post(path, json={"progress": 30, "work_done": "Đã họp thôn"},
                                   headers=KEY)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"Idempotency-Key"}
    other_task = api("ha_long").post(f"/tasks/{world.fresh.id}/updates",
                                     json={"progress": 20, "work_done": "Đã họp thôn"},
                                     headers=KEY)
    assert other_task.status_code == 422  # another path is another request
    assert count() == 2


def test_keys_belong_to_their_user(api, world):
    data = {"progress": 20, "work_done": "Đã họp thôn"}
    assert api("ha_long").post(f"/tasks/{world.silent.id}/updates", json=data,
                               headers=KEY).status_code == 201
    response = api("co_to").post(f"/tasks/{world.co_to.id}/updates", json=data, headers=KEY)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert count() == 3


def test_a_refused_request_stores_no_key_so_the_corrected_retry_is_recorded(api, world):
    path = f"/tasks/{world.silent.id}/updates"
    bad = api("ha_long").post(path, json={"progress": 101, "work_done": "x"}, headers=KEY)
    assert bad.status_code == 422 and count(IdempotencyKey) == 0
    good = api("ha_long").post(path, json={"progress": 10, "work_done": "x"}, headers=KEY)
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers
    assert count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "khoá-tiếng-việt".encode().decode("latin-1"),
                                 "a\tb"])
def test_a_malformed_key_is_refused_naming_the_header(api, world, key):
    response = api("ha_long").post(f"/tasks/{world.silent.id}/updates",
                                   json={"progress": 10, "work_done": "x"},
                                   headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"Idempotency-Key"}
    assert count() == 1


def test_a_key_of_255_characters_is_accepted(api, world):
    response = api("ha_long").post(f"/tasks/{world.silent.id}/updates",
                                   json={"progress": 10, "work_done": "x"},
                                   headers={"Idempotency-Key": "k" * 255})
    assert response.status_code == 201


def test_a_batch_retried_is_recorded_once(api, world, units):
    items = [{"task_id": t.id, "progress": 10 + i, "work_done": f"Việc {i}"}
             for i, t in enumerate((world.overdue, world.silent, world.fresh))]
    path = f"/units/{units['ha_long'].id}/updates"
    first = api("ha_long").post(path, json={"items": items}, headers=KEY)
    again = api("ha_long").post(path, json={"items": items}, headers=KEY)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and first.get_json()["count"] == 3
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count() == 4
    changed = api("ha_long").post(path, json={"items": items[:2]}, headers=KEY)
    assert changed.status_code == 422 and set(changed.get_json()["fields"]) == {
        "Idempotency-Key"}


def test_a_retry_after_the_cutoff_keeps_the_first_reporting_day(api, world, clock):
    path = f"/tasks/{world.silent.id}/updates"
    data = {"progress": 20, "work_done": "Gửi lúc 15:59:59"}
    clock.set(ict(2026, 11, 18, 15, 59, 59))
    first = api("ha_long").post(path, json=data, headers=KEY)
    assert first.get_json()["reporting_day"] == "2026-11-18"
    clock.set(ict(2026, 11, 18, 16, 0, 5))  # the answer was lost; the client retries
    again = api("ha_long").post(path, json=data, headers=KEY)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.get_json()["created_at"].startswith("2026-11-18T08:59:59")
    db.session.rollback()
    assert db.session.scalars(select(ProgressUpdate.created_at)
                              .where(ProgressUpdate.task_id == world.silent.id)).all() == [
        ict(2026, 11, 18, 15, 59, 59)]
    late = api("ha_long").post(path, json=data, headers={"Idempotency-Key": "another"})
    assert late.get_json()["reporting_day"] == "2026-11-19"  # a new request is a new day's


def test_a_key_expires_after_a_day(api, world, clock):
    path = f"/tasks/{world.silent.id}/updates"
    data = {"progress": 20, "work_done": "Đã họp thôn"}
    api("ha_long").post(path, json=data, headers=KEY)
    clock.set(clock() + timedelta(hours=23, minutes=59))
    assert api("ha_long").post(path, json=data, headers=KEY).headers.get(
        "Idempotent-Replayed") == "true"
    clock.set(clock() + timedelta(minutes=2))  # more than 24 hours after the first
    again = api("ha_long").post(path, json=data, headers=KEY)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count() == 3 and count(IdempotencyKey) == 1


def test_the_hourly_purge_deletes_the_expired_keys_only(api, world, clock):
    for n in range(2):
        api("ha_long").post(f"/tasks/{world.silent.id}/updates",
                            json={"progress": 20, "work_done": "x"},
                            headers={"Idempotency-Key": f"key-{n}"})
        clock.set(clock() + timedelta(hours=12))
    db.session.rollback()
    assert purge_expired(clock() - timedelta(hours=12)) == 0  # the older is 12 h old then
    assert purge_expired(clock()) == 1  # it is 24 h old now; the other 12 h
    db.session.commit()
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["key-1"]


def test_the_openapi_document_names_the_header_on_the_update_writes(api, world):
    doc = api("ha_long").get("/openapi.json").get_json()
    for path in ("/api/v1/tasks/{task_id}/updates", "/api/v1/units/{unit_id}/updates"):
        names = [p.get("name") for p in doc["paths"][path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in names, path
        assert "409" in doc["paths"][path]["post"]["responses"]
    listing = doc["paths"]["/api/v1/tasks/{task_id}/updates"]["get"].get("parameters", [])
    assert "Idempotency-Key" not in [p.get("name") for p in listing]


def test_two_retries_at_the_same_moment_record_one_update(app, api, tokens, world):
    """Two requests with one key at once (PostgreSQL: truly at once): one records, the
    other replays its answer or is told the first is still in flight (409)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns")
    path = f"/tasks/{world.silent.id}/updates"
    for n in range(6):
        headers = {"Idempotency-Key": f"race-{n}"}
        start, answers = threading.Barrier(2), []

        def post(headers=headers, start=start, answers=answers):
            client = ApiClient(app.test_client(), tokens["ha_long"])
            start.wait()
            answers.append(client.post(path, json={"progress": 20, "work_done": "x"},
                                       headers=headers))

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        statuses = sorted((a.status_code, a.headers.get("Idempotent-Replayed", ""))
                          for a in answers)
        assert statuses in ([(201, ""), (201, "true")], [(201, ""), (409, "")]), statuses
    assert count() == 1 + 6 and count(IdempotencyKey) == 6


def test_the_scheduler_purges_the_expired_keys_every_hour(app, api, world, clock):
    from tracker.cutoff.scheduler import build_scheduler, purge_keys

    assert build_scheduler(app).get_job("idempotency-keys").func is purge_keys
    api("ha_long").post(f"/tasks/{world.silent.id}/updates",
                        json={"progress": 20, "work_done": "x"}, headers=KEY)
    clock.set(clock() + timedelta(hours=24, seconds=1))
    db.session.rollback()
    assert purge_keys(app) == 1 and count(IdempotencyKey) == 0
