"""The login throttle stops guessing without letting anyone lock the owner out: failures
are counted per username and client, per username (slower), per address; a browser the
owner logged in from before is counted on its own; the records are kept; a parallel
burst cannot slip past a limit; the client address comes from a trusted proxy only."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, make_app
from tests.factories import PASSWORD
from tracker.auth.models import LoginAttempt, UserSession
from tracker.extensions import db

ATTACKER, OWNER, OTHER = "198.51.100.66", "203.0.113.10", "203.0.113.20"


def attempt(client, username, password=PASSWORD, *, addr=OWNER, headers=None):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": addr}, headers=headers or {})


def sessions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(UserSession))


def test_five_failures_pause_that_client_even_with_the_right_password(app, users):
    client = app.test_client()
    for _ in range(5):
        assert attempt(client, "admin", "wrong password", addr=ATTACKER).status_code == 401
    response = attempt(client, "admin", addr=ATTACKER)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert sessions() == 0


def test_failures_from_another_address_do_not_lock_the_owner_out(app, users):
    for _ in range(5):
        attempt(app.test_client(), "admin", "wrong password", addr=ATTACKER)
    assert attempt(app.test_client(), "admin", addr=OWNER).status_code == 302


def test_a_guesser_on_many_addresses_is_slowed_by_the_username_limit(app, users):
    app.config["TRACKER_LOGIN_USER_MAX_FAILURES"] = 8
    for n in range(4):
        for _ in range(2):
            attempt(app.test_client(), "admin", "wrong password", addr=f"198.51.100.{n}")
    # A fifth address, never seen: the username's limit holds it off for a while...
    assert attempt(app.test_client(), "admin", addr=OTHER).status_code == 429


def test_the_owners_own_browser_is_never_locked_out_by_others(app, users):
    app.config["TRACKER_LOGIN_USER_MAX_FAILURES"] = 8
    owner = app.test_client()
    assert attempt(owner, "admin", addr=OWNER).status_code == 302  # trusted from now on
    owner.post("/logout", data={"csrf_token": csrf_token(owner, "/tasks")})
    # Guessing from everywhere, the owner's own address included (one office, one NAT).
    for addr in (ATTACKER, OWNER, OTHER, "198.51.100.1"):
        for _ in range(5):
            attempt(app.test_client(), "admin", "wrong password", addr=addr)
    assert attempt(app.test_client(), "admin", addr=OWNER).status_code == 429
    assert attempt(owner, "admin", addr=OWNER).status_code == 302


def test_a_trusted_browser_is_still_limited_on_its_own_failures(app, users):
    owner = app.test_client()
    attempt(owner, "admin", addr=OWNER)
    owner.post("/logout", data={"csrf_token": csrf_token(owner, "/tasks")})
    for _ in range(5):
        assert attempt(owner, "admin", "wrong password").status_code == 401
    assert attempt(owner, "admin").status_code == 429


def test_the_device_cookie_of_one_user_does_not_trust_another_username(app, users):
    browser = app.test_client()
    attempt(browser, "ha_long", addr=OWNER)
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/tasks")})
    for _ in range(5):
        attempt(app.test_client(), "admin", "wrong password", addr=OWNER)
    assert attempt(browser, "admin", addr=OWNER).status_code == 429


def test_a_forged_device_cookie_is_ignored(app, users):
    for _ in range(5):
        attempt(app.test_client(), "admin", "wrong password", addr=OWNER)
    forger = app.test_client()
    forger.set_cookie("tracker_device", '{"d": "x", "u": []}.forged.sig')
    assert attempt(forger, "admin", addr=OWNER).status_code == 429


def test_many_failures_from_one_address_over_all_usernames_pause_that_address(app, users):
    app.config["TRACKER_LOGIN_ADDRESS_MAX_FAILURES"] = 6
    for name in ("admin", "viewer", "supervisor"):
        for _ in range(2):
            attempt(app.test_client(), name, "wrong password", addr=ATTACKER)
    assert attempt(app.test_client(), "ha_long", addr=ATTACKER).status_code == 429
    assert attempt(app.test_client(), "ha_long", addr=OWNER).status_code == 302


def test_the_pause_lifts_after_the_window(app, users, clock):
    for _ in range(5):
        attempt(app.test_client(), "ha_long", "wrong password")
    clock.advance(minutes=16)
    assert attempt(app.test_client(), "ha_long").status_code == 302


def test_failure_records_are_kept_after_a_successful_login(app, users):
    client = app.test_client()
    for _ in range(4):
        attempt(client, "ha_long", "wrong password")
    assert attempt(client, "ha_long").status_code == 302
    db.session.rollback()
    failed = select(func.count()).select_from(LoginAttempt) \
        .where(LoginAttempt.succeeded.is_(False))
    assert db.session.scalar(failed) == 4
    # ...though the owner's own count starts again after a success.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    for _ in range(4):
        attempt(app.test_client(), "ha_long", "wrong password")
    assert attempt(app.test_client(), "ha_long").status_code == 302


def test_records_are_pruned_once_older_than_every_window(app, users, clock):
    for _ in range(3):
        attempt(app.test_client(), "ha_long", "wrong password")
    clock.advance(minutes=61)
    attempt(app.test_client(), "ha_long", "wrong password")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


# --- the client's address: from a trusted proxy only -------------------------------------


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app, users):
    for n in range(5):  # a guesser inventing a new address each time
        attempt(app.test_client(), "admin", "wrong password", addr=ATTACKER,
                headers={"X-Forwarded-For": f"192.0.2.{n}"})
    response = attempt(app.test_client(), "admin", addr=ATTACKER,
                       headers={"X-Forwarded-For": "192.0.2.99"})
    assert response.status_code == 429


@pytest.fixture
def proxied(app, migrated):
    """The app behind one trusted reverse proxy (TRACKER_TRUSTED_PROXIES=1)."""
    behind = make_app(migrated, TRACKER_TRUSTED_PROXIES=1)
    yield behind
    with behind.app_context():
        db.engine.dispose()


def test_behind_a_trusted_proxy_each_client_has_its_own_address(proxied, users):
    proxy = "10.0.0.2"
    for _ in range(5):
        attempt(proxied.test_client(), "admin", "wrong password", addr=proxy,
                headers={"X-Forwarded-For": ATTACKER})
    # Everyone comes through the proxy: the owner is not held up by the attacker's count.
    assert attempt(proxied.test_client(), "admin", addr=proxy,
                   headers={"X-Forwarded-For": OWNER}).status_code == 302
    # The proxy appends the real address; one the client wrote itself is not believed.
    assert attempt(proxied.test_client(), "admin", addr=proxy,
                   headers={"X-Forwarded-For": f"{OWNER}, {ATTACKER}"}).status_code == 429
    db.session.rollback()
    addresses = set(db.session.scalars(select(LoginAttempt.remote_addr)))
    assert addresses == {ATTACKER, OWNER}


# --- race-free: a parallel burst -------------------------------------------------------------


def test_a_parallel_burst_of_wrong_passwords_gets_at_most_the_limit_checked(app, units):
    """Twelve wrong passwords at once, each verified with the real argon2 profile (so the
    check-then-record window of a naive throttle is a quarter of a second wide): at most
    five are checked (401), the rest are refused (429), on SQLite and PostgreSQL."""
    from tests.factories import make_user

    app.config["TRACKER_ARGON2_PROFILE"] = "RFC_9106_LOW_MEMORY"
    make_user("chief", "admin", units["province"])
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    n, answers, start = 12, [], threading.Barrier(12)

    def guess():
        client = app.test_client()
        start.wait()
        response = client.post("/login", data={"username": "chief", "password": "guess!"},
                               environ_base={"REMOTE_ADDR": ATTACKER})
        answers.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [401] * 5 + [429] * (n - 5), answers
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 5


def test_a_login_checking_its_password_holds_no_sqlite_write_lock(app, users, monkeypatch):
    """While argon2 (the real profile) checks a password, another writer with a short
    busy timeout still gets the write lock at once."""
    import sqlite3

    from tracker.auth import sessions

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    app.config["TRACKER_ARGON2_PROFILE"] = "RFC_9106_LOW_MEMORY"
    path, unit_id = db.engine.url.database, users["admin"].unit_id
    db.session.rollback()  # the test itself holds no lock
    writer_errors: list[Exception] = []
    checked = []
    real_verify = sessions.verify_password

    def verify_while_another_writes(stored, password):
        writer = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE units SET name = name WHERE id = ?", (unit_id,))
            writer.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            writer_errors.append(exc)
        finally:
            writer.close()
        checked.append(True)
        return real_verify(stored, password)

    monkeypatch.setattr(sessions, "verify_password", verify_while_another_writes)
    assert attempt(app.test_client(), "ha_long").status_code == 302
    assert attempt(app.test_client(), "ha_long", "wrong password").status_code == 401
    assert checked == [True, True]
    assert writer_errors == []


def test_retry_after_counts_down_to_when_the_oldest_failure_ages_out(app, users, clock):
    for _ in range(5):
        attempt(app.test_client(), "ha_long", "wrong password")
        clock.advance(minutes=1)
    # The first failure was 5 minutes ago; it ages out of the 15-minute window in 10.
    response = attempt(app.test_client(), "ha_long")
    assert response.status_code == 429
    # (Flask-Limiter re-states it against the real clock: a second may have passed.)
    ten_minutes = int(timedelta(minutes=10).total_seconds())
    assert ten_minutes - 2 <= int(response.headers["Retry-After"]) <= ten_minutes
