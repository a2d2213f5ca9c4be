"""What one host knows, every host knows: two app instances (two "hosts", each its own
`create_app`, engine and caches) on one database. An admin's calendar or policy change
through host A is used by host B's next request; a user locked out on A is locked out on B;
a rate limit counted on A counts on B; a session ended on A is refused on B
(docs/deployment.md, "Shared state")."""

from __future__ import annotations

import re
from datetime import date

import pytest
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from tests.conftest import csrf_token, login, make_app
from tests.factories import PASSWORD, ict, make_task
from tracker.extensions import db, limiter
from tracker.rules.store import load_calendar

ATTACKER = "198.51.100.66"


@pytest.fixture
def hosts(app, migrated):
    """`make(**config)`: hosts A and B, on the test's database and clock."""
    made = []

    def make(**config):
        config.setdefault("CLOCK", app.config["CLOCK"])
        pair = make_app(migrated, **config), make_app(migrated, **config)
        made.extend(pair)
        return pair

    yield make
    for host in made:
        with host.app_context():
            db.engine.dispose()


def in_its_own_process(host) -> None:
    """The rate limiter's storage as `host`'s own process would hold it. (In this test
    process both apps share Flask-Limiter's one instance, and so whatever storage it made
    last: an in-memory count would seem shared when it is not.)"""
    limiter._storage = storage_from_string(host.config["RATELIMIT_STORAGE_URI"])
    limiter._limiter = FixedWindowRateLimiter(limiter._storage)


def duty_days(page: str) -> set[str]:
    return set(re.findall(r"\d\d/\d\d/2026", page))


def test_a_calendar_change_on_host_a_is_used_by_host_bs_next_request(
        app, users, units, clock, hosts):
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 10, 9, 0))
    db.session.commit()
    clock.set(ict(2026, 11, 18, 16, 30))  # after Wednesday's cutoff: Thursday's updates
    host_a, host_b = hosts()
    member, admin = host_b.test_client(), host_a.test_client()
    assert login(member, "ha_long").status_code == 302
    assert login(admin, "admin").status_code == 302
    assert "19/11/2026" in duty_days(member.get("/today").get_data(as_text=True))
    response = admin.post("/admin/calendar", data={
        "day": "19/11/2026", "kind": "day_off", "note": "Nghỉ đột xuất",
        "csrf_token": csrf_token(admin, "/admin/calendar")})
    assert response.status_code == 302
    days = duty_days(member.get("/today").get_data(as_text=True))
    assert "20/11/2026" in days and "19/11/2026" not in days
    with host_b.app_context():
        assert date(2026, 11, 19) in load_calendar().days_off


def test_a_policy_change_on_host_a_is_used_by_host_bs_next_request(app, users, hosts):
    host_a, host_b = hosts()
    admin_a, admin_b = host_a.test_client(), host_b.test_client()
    assert login(admin_a, "admin").status_code == 302
    assert login(admin_b, "admin").status_code == 302
    assert 'value="3"' in admin_b.get("/admin/policy").get_data(as_text=True)
    response = admin_a.post("/admin/policy", data={
        "warning_working_days": "5", "missed_days_to_red": "2",
        "csrf_token": csrf_token(admin_a, "/admin/policy")})
    assert response.status_code == 302
    page = admin_b.get("/admin/policy").get_data(as_text=True)
    assert 'value="5"' in page and 'value="3"' not in page


def attempt(client, username, password=PASSWORD):
    return client.post("/login", data={
        "username": username, "password": password,
        "csrf_token": csrf_token(client, "/login")}, environ_base={"REMOTE_ADDR": ATTACKER})


def test_a_user_locked_out_on_host_a_is_locked_out_on_host_b(app, users, hosts):
    host_a, host_b = hosts()
    for _ in range(5):
        assert attempt(host_a.test_client(), "admin", "wrong password").status_code == 401
    refused = attempt(host_b.test_client(), "admin")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


@pytest.mark.parametrize("storage, shared", [("tracker-db://", True),
                                             ("tracker-memory://", False)])
def test_a_rate_limit_counted_on_host_a_counts_on_host_b(app, hosts, storage, shared):
    # The in-process storage is the control: the same test sees it is not shared.
    host_a, host_b = hosts(RATELIMIT_STORAGE_URI=storage, TRACKER_API_RATE_LIMIT="3/minute")
    in_its_own_process(host_a)
    for _ in range(3):
        assert host_a.test_client().get("/api/v1/tasks").status_code == 401
    assert host_a.test_client().get("/api/v1/tasks").status_code == 429
    in_its_own_process(host_b)
    answer = host_b.test_client().get("/api/v1/tasks")
    assert answer.status_code == (429 if shared else 401)


def carry_cookies(source, target) -> None:
    """The browser's cookies, as it sends them to whichever host the balancer picks."""
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def test_a_session_logged_out_on_host_a_is_refused_on_host_b(app, users, hosts):
    host_a, host_b = hosts()
    browser_a, browser_b = host_a.test_client(), host_b.test_client()
    assert login(browser_a, "ha_long").status_code == 302
    carry_cookies(browser_a, browser_b)
    assert browser_b.get("/today").status_code == 200  # the same session, on host B
    token = csrf_token(browser_a, "/today")
    assert browser_a.post("/logout", data={"csrf_token": token}).status_code == 302
    assert browser_b.get("/today").status_code == 302  # to the login page
    assert "/login" in browser_b.get("/today").headers["Location"]
