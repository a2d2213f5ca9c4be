"""Operator commands: creating users and loading the demo."""

import re

from sqlalchemy import func, select

from tests.conftest import login
from tracker.auth.models import Role, User
from tracker.auth.passwords import verify_password
from tracker.extensions import db
from tracker.tasks.models import Task
from tracker.units.models import Unit


def test_users_create_reads_the_password_from_stdin(app, units):
    result = app.test_cli_runner().invoke(
        args=["tracker", "users", "create", "boss", "--role", "admin", "--unit", "22"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "boss"))
    assert user.role == Role.ADMIN and user.unit.name == "Quảng Ninh"
    assert verify_password(user.password_hash, "a long enough password")
    assert "a long enough password" not in result.output


def test_users_create_takes_no_password_on_the_command_line(app, units):
    result = app.test_cli_runner().invoke(
        args=["tracker", "users", "create", "boss", "--role", "admin",
              "--password", "a long enough password"])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_create_refuses_a_short_password(app, units):
    result = app.test_cli_runner().invoke(
        args=["tracker", "users", "create", "boss", "--role", "admin"], input="short\n")
    assert result.exit_code == 2
    assert "password" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_loads_quang_ninh_users_and_tasks(app, client, monkeypatch):
    monkeypatch.setenv("TRACKER_DEMO_PASSWORD", "demo password 2026")
    result = app.test_cli_runner().invoke(args=["tracker", "demo"])
    assert result.exit_code == 0, result.output
    for username in ("admin", "supervisor", "viewer", "ha_long", "co_to"):
        assert re.search(rf"^\s+{username}\s+demo password 2026$", result.output, re.M)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 56
    assert db.session.scalar(select(func.count()).select_from(Task)) >= 30
    colours = set(db.session.scalars(select(Task.colour).distinct()))
    assert {"green", "yellow", "red"} <= colours
    assert login(client, "co_to", "demo password 2026").status_code == 302


def test_demo_generates_passwords_when_none_is_given(app, client, monkeypatch):
    monkeypatch.delenv("TRACKER_DEMO_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(args=["tracker", "demo"])
    password = re.search(r"^\s+ha_long\s+(\S+)$", result.output, re.M).group(1)
    assert len(password) >= 12
    assert login(client, "ha_long", password).status_code == 302


def test_demo_does_nothing_when_users_exist(app, monkeypatch):
    runner = app.test_cli_runner()
    runner.invoke(args=["tracker", "demo"])
    count = db.session.scalar(select(func.count()).select_from(Task))
    again = runner.invoke(args=["tracker", "demo"])
    assert again.exit_code == 0 and "already present" in again.output
    assert db.session.scalar(select(func.count()).select_from(Task)) == count
