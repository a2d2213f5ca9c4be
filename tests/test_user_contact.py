"""A user's contact details — full name, e-mail, phone — changed by an admin who sees the
account or by the user themselves, checked the same way for every caller, each change
recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_user
from tracker.audit.models import SecurityEvent
from tracker.auth.service import change_contact, create_user
from tracker.errors import InvalidInput
from tracker.extensions import db


def _changes() -> list[SecurityEvent]:
    return list(db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == "user_changed")))


def test_an_admin_changes_a_user_s_name_e_mail_and_phone(users):
    member = users["ha_long"]
    changed = change_contact(users["admin"], member, {
        "full_name": " Nguyễn Văn An ", "email": "an.nv@halong.quangninh.gov.vn",
        "phone": "0912 345 678"})
    assert changed == ["full_name", "email", "phone"]
    assert (member.full_name, member.email, member.phone) == (
        "Nguyễn Văn An", "an.nv@halong.quangninh.gov.vn", "0912 345 678")
    [event] = _changes()
    assert (event.actor_id, event.user_id, event.unit_id) == (
        users["admin"].id, member.id, member.unit_id)
    assert "email: – → an.nv@halong.quangninh.gov.vn" in event.detail
    assert "phone: – → 0912 345 678" in event.detail


def test_a_user_changes_their_own_phone_alone(users):
    member = users["co_to"]
    member.email = "co.to@quangninh.gov.vn"
    assert change_contact(member, member, {"phone": "+84 203 3825 123"}) == ["phone"]
    assert (member.phone, member.email) == ("+84 203 3825 123", "co.to@quangninh.gov.vn")
    assert _changes()[0].actor_id == member.id


def test_blank_removes_and_nothing_new_records_nothing(users):
    member = users["co_to"]
    change_contact(member, member, {"email": "co.to@quangninh.gov.vn"})
    assert change_contact(member, member, {"email": "   "}) == ["email"]
    assert member.email is None
    assert change_contact(member, member, {"email": None, "full_name": ""}) == []
    assert len(_changes()) == 2


@pytest.mark.parametrize("given,fields", [
    ({"email": "x@y"}, {"email"}),  # as at creation: a dot in the domain
    ({"email": "an nv@halong.vn"}, {"email"}),
    ({"email": "a@" + "b" * 250 + ".vn"}, {"email"}),
    ({"phone": "0912"}, {"phone"}),  # too few digits
    ({"phone": "0912 345 678 901 234"}, {"phone"}),  # 16 digits
    ({"phone": "gọi 0912345678"}, {"phone"}),
    ({"full_name": "x" * 201}, {"full_name"}),
    ({"full_name": "An\x00"}, {"full_name"}),
    ({"full_name": 7, "email": ["a@b.vn"], "phone": 912345678}, {"full_name", "email", "phone"}),
    ({"full_name": "Ok", "email": "x@", "phone": "12"}, {"email", "phone"}),
])
def test_a_refusal_names_every_field_at_fault_and_changes_nothing(users, given, fields):
    member = users["ha_long"]
    with pytest.raises(InvalidInput) as refused:
        change_contact(users["admin"], member, given)
    assert set(refused.value.fields) == fields
    assert (member.full_name, member.email, member.phone) == ("", None, None)
    assert not _changes()


def test_the_e_mail_is_checked_as_at_creation(users, units):
    with pytest.raises(InvalidInput) as refused:
        create_user(users["admin"], username="moi", password="correct horse battery",
                    role="member", unit=units["ha_long"], email="x@y", phone="12")
    assert {"email", "phone"} <= set(refused.value.fields)


@pytest.mark.parametrize("actor", ["co_to", "supervisor", "viewer", "co_to_supervisor"])
def test_nobody_else_changes_an_account(users, actor):
    with pytest.raises(InvalidInput) as refused:
        change_contact(users[actor], users["ha_long"], {"phone": "0912345678"})
    assert set(refused.value.fields) == {"user"}
    assert users["ha_long"].phone is None


def test_an_admin_changes_only_the_accounts_of_their_subtree(users, units):
    commune_admin = make_user("co_to_admin", "admin", units["co_to"])
    change_contact(commune_admin, users["co_to"], {"phone": "0203 3888 999"})
    with pytest.raises(InvalidInput):
        change_contact(commune_admin, users["ha_long"], {"phone": "0203 3888 999"})
    with pytest.raises(InvalidInput):
        change_contact(commune_admin, users["admin"], {"phone": "0203 3888 999"})
