"""Two-factor login (TOTP and recovery codes), driven through the real forms: enrolment on
the account page, the second step of the login, the admin's duty to enrol, the reset by
an admin. Codes are computed with pyotp at the app's fixed clock."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select, text

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, ict, make_user
from tracker.audit.models import SecurityEvent
from tracker.auth import two_factor
from tracker.auth.two_factor_models import LoginChallenge, SecondFactor
from tracker.extensions import db

PAGE = "/account/two-factor"


@pytest.fixture
def required(app):
    app.config["TRACKER_ADMIN_2FA"] = "required"


def _code(secret: str, clock, *, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock(), counter_offset=steps)


def _post(client, url: str, data: dict, page: str = PAGE):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def enrol(client, clock) -> tuple[str, list[str]]:
    """Set up the app through the page: returns the secret (as shown) and the codes."""
    assert _post(client, f"{PAGE}/setup", {}).status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn by the app itself
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = _post(client, f"{PAGE}/confirm", {"code": _code(secret, clock)})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r"<li><code>([A-Z2-7-]+)</code></li>", response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"
    return secret, codes


def _events(kind: str) -> list[SecurityEvent]:
    db.session.rollback()
    return db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind)
                              .order_by(SecurityEvent.id)).all()


def _second_step(client, code: str):
    return client.post("/login/code", data={"csrf_token": csrf_token(client, "/login"),
                                            "code": code})


@pytest.fixture
def enrolled(app, users, client, clock):
    """The supervisor has turned two-factor login on and logged out."""
    login(client, "supervisor")
    secret, codes = enrol(client, clock)
    client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    clock.advance(seconds=60)  # the next login's codes are of later steps
    return secret, codes


def test_enrolment_shows_ten_recovery_codes_once_and_keeps_the_secret_encrypted(
        app, users, client, clock):
    login(client, "ha_long")
    secret, codes = enrol(client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    # Shown once: the page seen afterwards holds none of them (a random token in the page,
    # such as the form's CSRF token, may look like a code by chance, so look for the codes)
    later = client.get(PAGE).get_data(as_text=True)
    assert not [code for code in codes if code in later or code.replace("-", "") in later]
    assert not re.findall(r"<li><code>([A-Z2-7-]+)</code></li>", later)
    stored = db.session.scalar(text("SELECT secret FROM second_factors"))
    assert secret not in stored and stored.startswith("v1:")
    hashes = db.session.scalars(text("SELECT code_hash FROM recovery_codes")).all()
    assert len(hashes) == 10 and not {c.replace("-", "") for c in codes} & set(hashes)
    [event] = _events("two_factor_enabled")
    assert event.user_id == users["ha_long"].id


def test_the_code_is_asked_for_as_a_verification_code(app, users, client, clock, enrolled):
    login(client, "supervisor")
    asked = client.get("/login/code").get_data(as_text=True)
    member = app.test_client()
    login(member, "ha_long")
    _post(member, f"{PAGE}/setup", {})
    setup = member.get(PAGE).get_data(as_text=True)
    for page in (setup, asked):
        assert "Mã xác thực" in page and "Mã nhiệm vụ" not in page


def test_a_wrong_code_does_not_turn_it_on(app, users, client, clock):
    login(client, "ha_long")
    _post(client, f"{PAGE}/setup", {})
    response = _post(client, f"{PAGE}/confirm", {"code": "000000"})
    assert response.status_code == 422
    assert not two_factor.is_enrolled(users["ha_long"])


def test_login_waits_for_the_code_and_reaches_no_page_before(app, users, client, clock,
                                                            enrolled):
    secret, _codes = enrolled
    response = login(client, "supervisor")
    assert response.headers["Location"].endswith("/login/code")
    for page in ("/supervise/red", "/account/tokens", PAGE, "/dashboard"):
        assert client.get(page).headers["Location"].startswith("/login"), page
    assert _second_step(client, _code(secret, clock)).status_code == 302
    assert client.get("/supervise/red").status_code == 200


def test_a_code_of_the_next_or_previous_step_is_accepted_not_two_steps_away(
        app, users, client, clock, enrolled):
    secret, _codes = enrolled
    login(client, "supervisor")
    assert _second_step(client, _code(secret, clock, steps=2)).status_code == 401
    assert _second_step(client, _code(secret, clock, steps=-2)).status_code == 401
    assert _second_step(client, _code(secret, clock, steps=1)).status_code == 302


def test_a_code_is_never_accepted_twice(app, users, client, clock, enrolled):
    secret, _codes = enrolled
    code = _code(secret, clock)
    login(client, "supervisor")
    assert _second_step(client, code).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/tokens")})
    login(client, "supervisor")
    assert _second_step(client, code).status_code == 401  # same step: replayed
    clock.advance(seconds=30)
    assert _second_step(client, _code(secret, clock)).status_code == 302


def test_five_wrong_codes_send_back_to_the_password_and_are_recorded(
        app, users, client, clock, enrolled):
    login(client, "supervisor")
    for _ in range(4):
        assert _second_step(client, "123456").status_code == 401
    response = _second_step(client, "123456")
    assert response.headers["Location"].endswith("/login")
    assert client.get("/login/code").headers["Location"].endswith("/login")
    failures = _events("login_failed")
    assert len(failures) == 5
    assert {(e.detail, e.user_id) for e in failures} == {("totp", users["supervisor"].id)}
    assert db.session.scalar(select(LoginChallenge.id)) is None


def test_wrong_codes_over_several_logins_pause_the_second_step(app, users, client, clock,
                                                             enrolled):
    secret, _codes = enrolled
    for _ in range(2):
        login(client, "supervisor")
        for _ in range(5):
            _second_step(client, "123456")
    login(client, "supervisor")
    response = _second_step(client, _code(secret, clock))  # right, but paused
    assert response.status_code == 429
    assert _events("login_throttled")[-1].detail == "totp"
    clock.advance(minutes=16)
    login(client, "supervisor")
    assert _second_step(client, _code(secret, clock)).status_code == 302


def test_the_waiting_login_expires(app, users, client, clock, enrolled):
    secret, _codes = enrolled
    login(client, "supervisor")
    clock.advance(minutes=6)
    response = _second_step(client, _code(secret, clock))
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/supervise/red").headers["Location"].startswith("/login")


def test_a_recovery_code_logs_in_once(app, users, client, clock, enrolled):
    _secret, codes = enrolled
    login(client, "supervisor")
    assert _second_step(client, codes[0].lower()).status_code == 302
    [event] = _events("recovery_code_used")
    assert event.user_id == users["supervisor"].id and event.detail == "9 left"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/tokens")})
    login(client, "supervisor")
    assert _second_step(client, codes[0]).status_code == 401


def test_new_recovery_codes_replace_the_old(app, users, client, clock, enrolled):
    secret, codes = enrolled
    login(client, "supervisor")
    _second_step(client, _code(secret, clock))
    clock.advance(seconds=30)
    response = _post(client, f"{PAGE}/recovery-codes", {"code": _code(secret, clock)})
    fresh = re.findall(r"<li><code>([A-Z2-7-]+)</code></li>", response.get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    login(client, "supervisor")
    assert _second_step(client, codes[1]).status_code == 401
    assert _second_step(client, fresh[0]).status_code == 302


@pytest.mark.parametrize("proof", ["code", "password"])
def test_disable_needs_a_current_code_or_the_password(app, users, client, clock, enrolled,
                                                      proof):
    secret, _codes = enrolled
    login(client, "supervisor")
    _second_step(client, _code(secret, clock))
    refused = _post(client, f"{PAGE}/disable", {"code": "000000", "password": "wrong"})
    assert refused.status_code == 422
    clock.advance(seconds=30)
    given = {"code": _code(secret, clock)} if proof == "code" else {"password": PASSWORD}
    assert _post(client, f"{PAGE}/disable", given).status_code == 302
    [event] = _events("two_factor_disabled")
    assert event.detail == f"by {proof}"
    client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    assert login(client, "supervisor").headers["Location"] == "/"  # the password alone


def test_an_admin_without_it_is_sent_to_enrol_before_any_page(app, users, client, clock,
                                                               required):
    response = login(client, "admin")
    assert response.status_code == 302
    for page in ("/admin", "/admin/users", "/dashboard", "/tasks", "/account/tokens"):
        response = client.get(page)
        assert response.headers["Location"] == PAGE, page
    assert client.get(PAGE).status_code == 200
    enrol(client, clock)
    assert client.get("/admin").status_code == 200


def test_optional_for_admins_when_the_deployment_says_so(app, users, client):
    app.config["TRACKER_ADMIN_2FA"] = "optional"
    login(client, "admin")
    assert client.get("/admin").status_code == 200


def test_other_roles_are_not_sent_to_enrol(app, users, client, required):
    login(client, "supervisor")
    assert client.get("/supervise/red").status_code == 200


def test_api_tokens_are_not_concerned(app, users, client, required):
    from tracker import clock as app_clock
    from tracker.auth.tokens import create_token

    _token, raw = create_token(None, users["admin"], name="cổng", now=app_clock.now())
    db.session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


def test_an_admin_resets_a_users_second_factor_in_scope_only(app, users, units, client,
                                                             clock, enrolled):
    outsider = make_user("other_admin", "admin", units["co_to"])
    db.session.commit()
    supervisor = users["supervisor"]
    login(client, "other_admin")  # Cô Tô's admin does not see a province supervisor
    url = f"/admin/users/{supervisor.id}/two-factor/reset"
    assert _post(client, url, {}, page="/account/tokens").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/tokens")})
    login(client, "admin")
    page = client.get(f"/admin/users/{supervisor.id}").get_data(as_text=True)
    assert "two-factor/reset" in page
    assert _post(client, url, {}, page=f"/admin/users/{supervisor.id}").status_code == 302
    assert db.session.get(SecondFactor, supervisor.id) is None
    [event] = _events("two_factor_disabled")
    assert (event.actor_id, event.user_id, event.detail) == \
        (users["admin"].id, supervisor.id, "reset by an admin")
    assert outsider.id != event.actor_id


def test_the_check_uses_the_apps_clock_not_the_system_time(app, users, clock):
    user = users["ha_long"]
    factor = two_factor.begin_enrolment(user, now=clock())
    secret = two_factor.secret_text(factor)
    then = ict(2031, 1, 1, 9, 0)
    clock.set(then)
    two_factor.confirm_enrolment(user, pyotp.TOTP(secret).at(then), now=clock())
    assert two_factor.is_enrolled(user)


def test_the_operator_resets_it_at_the_command_line(app, users, client, clock, enrolled):
    result = app.test_cli_runner().invoke(args=["tracker", "users", "reset-two-factor",
                                                "supervisor"])
    assert result.exit_code == 0, result.output
    assert not two_factor.is_enrolled(users["supervisor"])
    [event] = _events("two_factor_disabled")
    assert (event.actor_id, event.detail) == (None, "reset by the operator")
    assert login(client, "supervisor").headers["Location"] == "/"


def test_the_demo_says_admins_enrol_at_first_login(app, monkeypatch):
    app.config["TRACKER_ADMIN_2FA"] = "required"
    monkeypatch.setenv("TRACKER_DEMO_PASSWORD", "demo password 2026")
    result = app.test_cli_runner().invoke(args=["tracker", "demo"])
    assert "authenticator app" in result.output


def test_one_code_sent_twice_at_once_passes_once(app, users, clock):
    """Two logins answering with the same code at the same moment (PostgreSQL, whose
    readers do not block writers; SQLite's writers take turns): the user's row lock makes
    the second see the step the first accepted."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns")
    import threading

    user = users["supervisor"]
    secret = two_factor.secret_text(two_factor.begin_enrolment(user, now=clock()))
    two_factor.confirm_enrolment(user, _code(secret, clock), now=clock())
    clock.advance(seconds=60)
    raws = [two_factor.start_challenge(user, None, now=clock()) for _ in range(2)]
    db.session.commit()
    code, barrier, passed, errors = _code(secret, clock), threading.Barrier(2), [], []

    def answer(raw):
        with app.app_context():
            try:
                challenge = two_factor.load_challenge(raw, now=clock())
                barrier.wait(10)
                passed.append(two_factor.answer_challenge(challenge, code, now=clock()).passed)
                db.session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=answer, args=(raw,)) for raw in raws]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sorted(passed) == [False, True]
