"""API fixtures: a personal token per demo user and a client that sends it."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from tests.factories import cutoff_through, ict, make_task
from tracker import clock
from tracker.auth.tokens import create_token
from tracker.extensions import db
from tracker.updates.service import post_update


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


class ApiClient:
    """The test client, speaking JSON with one user's token, under /api/v1."""

    def __init__(self, client, raw: str):
        self.client, self.raw = client, raw

    def open(self, method: str, path: str, *, headers=None, **kwargs):
        return self.client.open(f"/api/v1{path}", method=method,
                                headers={**bearer(self.raw), **(headers or {})}, **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def put(self, path, **kwargs):
        return self.open("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)


@pytest.fixture
def tokens(app, users):
    """A raw token for each user of the `users` fixture."""
    raws = {}
    for name, user in users.items():
        _token, raws[name] = create_token(None, user, name="tests", now=clock.now())
    db.session.commit()
    return raws


@pytest.fixture
def api(client, tokens):
    """api("co_to").get("/tasks"): a request as that user."""
    return lambda name: ApiClient(client, tokens[name])


ASSIGNED = ict(2026, 11, 13, 9, 0)  # a Friday: updates are owed from Monday 16/11


@pytest.fixture
def world(users, units):
    """On Wednesday 18/11/2026 10:00: Hạ Long has an overdue task, a silent one (red: two
    missed updates) and a green one updated yesterday; Cô Tô has a silent one. The cutoff of
    Tuesday 17/11 has run, so there is a daily report."""
    admin = users["admin"]
    overdue = make_task(admin, units["ha_long"], at=ASSIGNED, title="Rà soát tài sản công",
                        start_date="2026-11-01", deadline="2026-11-12")
    silent = make_task(admin, units["ha_long"], at=ASSIGNED, title="Sắp xếp thôn, tổ dân phố")
    fresh = make_task(admin, units["ha_long"], at=ASSIGNED, title="Số hoá hồ sơ lưu trữ",
                      deadline="2026-12-31")
    co_to = make_task(admin, units["co_to"], at=ASSIGNED, title="Chuyển giao hồ sơ đất đai")
    post_update(users["ha_long"], fresh, {"progress": 30, "work_done": "Đã số hoá 300 hồ sơ"},
                now=ict(2026, 11, 17, 10, 0))
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return SimpleNamespace(overdue=overdue, silent=silent, fresh=fresh, co_to=co_to)
