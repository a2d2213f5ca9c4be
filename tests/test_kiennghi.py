"""Vướng mắc, kiến nghị (issue 18): raised by a unit's member, routed by its supervisor to
one responsible unit with a deadline in working days (or forwarded up, or merged),
answered, then accepted or asked again — every step checked against the scope, stamped,
audited; and each role sees only what its scope holds."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import ict, make_department, make_task, make_user
from tracker.audit.models import AuditEntry
from tracker.errors import Conflict, Forbidden, InvalidInput
from tracker.extensions import db
from tracker.kiennghi import service
from tracker.kiennghi.colour import colour_of
from tracker.kiennghi.models import Recommendation
from tracker.scope import can_see_recommendation, visible_recommendations

MONDAY = ict(2026, 11, 16, 9, 0)


def rec_input(**overrides) -> dict:
    data = {"title": "Vướng mắc về bàn giao trụ sở", "kind": "obstacle",
            "content": "Chưa có hướng dẫn bàn giao trụ sở dôi dư sau sắp xếp.",
            "field": "Tài sản công", "legal_basis": "Nghị định 151/2017/NĐ-CP",
            "level_asked": "province"}
    data.update(overrides)
    return data


@pytest.fixture
def department(units, users):
    unit = make_department(units["province"], "Sở Tài chính")
    make_user("so_tai_chinh", "member", unit)
    db.session.commit()
    return unit


def raised(users, who="co_to", **overrides) -> Recommendation:
    rec = service.raise_recommendation(users[who], rec_input(**overrides), now=MONDAY)
    db.session.commit()
    return rec


def trail(rec) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.recommendation_id == rec.id).order_by(AuditEntry.id)))


def test_a_member_raises_one_stamped_numbered_and_audited(users, units):
    rec = raised(users)
    assert rec.code == f"KN-2026-{rec.id:06d}"
    assert rec.raised_at == MONDAY and rec.raising_unit_id == units["co_to"].id
    assert rec.status == "raised" and rec.routing_unit_id == units["co_to"].id
    assert trail(rec) == ["raise"]


def test_an_incomplete_one_is_refused_naming_every_field(users):
    with pytest.raises(InvalidInput) as refused:
        service.raise_recommendation(users["co_to"], {"kind": "other", "title": " "},
                                     now=MONDAY)
    assert set(refused.value.fields) == {"title", "content", "field", "legal_basis",
                                         "kind", "level_asked"}


@pytest.mark.parametrize("who", ["supervisor", "admin", "viewer", "co_to_viewer"])
def test_only_members_raise(users, who):
    with pytest.raises(Forbidden):
        service.raise_recommendation(users[who], rec_input(), now=MONDAY)


def test_on_a_task_only_a_member_who_reports_on_it(users, units):
    task = make_task(users["admin"], units["co_to"])
    rec = service.raise_recommendation(users["co_to"], rec_input(), task=task, now=MONDAY)
    assert rec.task_id == task.id
    with pytest.raises(Forbidden):
        service.raise_recommendation(users["ha_long"], rec_input(), task=task, now=MONDAY)


def test_the_communes_supervisor_routes_within_its_subtree_with_a_working_day_deadline(
        users, units):
    rec = raised(users)
    with pytest.raises(InvalidInput) as refused:
        service.route(users["co_to_supervisor"], rec, responsible_unit_id=units["province"].id,
                      response_days="x", now=MONDAY)
    assert set(refused.value.fields) == {"responsible_unit_id", "response_days"}
    service.route(users["co_to_supervisor"], rec, responsible_unit_id=units["co_to"].id,
                  response_days=5, now=MONDAY)
    assert rec.status == "assigned" and rec.response_due == date(2026, 11, 23)
    assert rec.response_due_end == ict(2026, 11, 24, 0, 0)
    with pytest.raises(Conflict):
        service.route(users["supervisor"], rec, responsible_unit_id=units["co_to"].id,
                      response_days=5, now=MONDAY)


def test_another_communes_supervisor_cannot_route_it(users, units):
    rec = raised(users, who="ha_long")
    with pytest.raises(Forbidden):
        service.route(users["co_to_supervisor"], rec, responsible_unit_id=units["co_to"].id,
                      response_days=5, now=MONDAY)


def test_forwarded_up_the_province_routes_it_and_the_commune_no_longer_can(
        users, units, department):
    rec = raised(users)
    with pytest.raises(InvalidInput):
        service.forward(users["co_to_supervisor"], rec, note="", now=MONDAY)
    service.forward(users["co_to_supervisor"], rec, note="Vượt thẩm quyền xã", now=MONDAY)
    db.session.commit()
    assert rec.routing_unit_id == units["province"].id
    with pytest.raises(Forbidden):
        service.route(users["co_to_supervisor"], rec, responsible_unit_id=units["co_to"].id,
                      response_days=5, now=MONDAY)
    service.route(users["supervisor"], rec, responsible_unit_id=department.id,
                  response_days=10, now=MONDAY)
    assert rec.responsible_unit_id == department.id
    assert trail(rec) == ["raise", "forward", "route", "route"]


def test_a_duplicate_merged_is_answered_by_the_one_it_joined(users, units, department):
    first = raised(users, who="ha_long")
    duplicate = raised(users, who="co_to")
    with pytest.raises(InvalidInput) as refused:
        service.merge(users["supervisor"], duplicate, into_id=duplicate.id, now=MONDAY)
    assert "into_id" in refused.value.fields
    service.merge(users["supervisor"], duplicate, into_id=first.id, now=MONDAY)
    db.session.commit()
    assert duplicate.status == "merged" and duplicate.merged_into_id == first.id
    assert colour_of(duplicate, MONDAY).colour is None
    assert "merged_here" in trail(first)


def test_answered_refused_answered_again_and_accepted(users, units, department):
    rec = raised(users)
    service.forward(users["co_to_supervisor"], rec, note="Cấp tỉnh", now=MONDAY)
    service.route(users["supervisor"], rec, responsible_unit_id=department.id,
                  response_days=5, now=MONDAY)
    db.session.commit()
    answerer = db.session.scalar(select(type(users["co_to"])).where(
        type(users["co_to"]).username == "so_tai_chinh"))
    with pytest.raises(Forbidden):
        service.answer(users["ha_long"], rec, answer_text="Không phải việc của xã", now=MONDAY)
    with pytest.raises(InvalidInput) as refused:
        service.answer(answerer, rec, answer_text="", now=MONDAY)
    assert "answer" in refused.value.fields
    service.answer(answerer, rec, answer_text="Thực hiện theo Công văn 12/STC",
                   documents="12/STC-QLCS", now=ict(2026, 11, 20, 9, 0))
    assert rec.status == "answered"
    with pytest.raises(Forbidden):  # another commune is not the raiser
        service.ask_again(users["ha_long"], rec, reason="Chưa rõ", now=MONDAY)
    with pytest.raises(InvalidInput):
        service.ask_again(users["co_to"], rec, reason=" ", now=MONDAY)
    service.ask_again(users["co_to"], rec, reason="Chưa hướng dẫn thủ tục",
                      now=ict(2026, 11, 24, 9, 0))
    assert rec.status == "reopened" and rec.asked_again == 1 and rec.answered_at is None
    assert rec.response_due == date(2026, 12, 1)  # 5 working days from Tuesday 24
    service.answer(answerer, rec, answer_text="Thủ tục theo Quyết định 3/QĐ-UBND",
                   now=ict(2026, 11, 25, 9, 0))
    service.accept_answer(users["co_to"], rec, now=ict(2026, 11, 26, 9, 0))
    db.session.commit()
    assert rec.status == "closed"
    assert trail(rec) == ["raise", "forward", "route", "route", "answer", "ask_again",
                          "answer", "accept"]
    with pytest.raises(Conflict):
        service.accept_answer(users["co_to"], rec, now=ict(2026, 11, 26, 9, 0))


def test_overdue_ones_are_announced_once(users, units):
    rec = raised(users)
    service.route(users["co_to_supervisor"], rec, responsible_unit_id=units["co_to"].id,
                  response_days=1, now=MONDAY)  # due Tuesday 17
    db.session.commit()
    assert service.announce_overdue(ict(2026, 11, 17, 16, 0)) == 0
    assert service.announce_overdue(ict(2026, 11, 18, 16, 0)) == 1
    assert service.announce_overdue(ict(2026, 11, 19, 16, 0)) == 0
    assert colour_of(rec, ict(2026, 11, 18, 16, 0)).colour == "red"


def test_each_role_sees_only_what_its_scope_holds(users, units, department):
    co_to = raised(users, who="co_to")
    ha_long = raised(users, who="ha_long")
    service.forward(users["co_to_supervisor"], co_to, note="Cấp tỉnh", now=MONDAY)
    service.route(users["supervisor"], co_to, responsible_unit_id=department.id,
                  response_days=5, now=MONDAY)
    db.session.commit()
    answerer = make_user("so_tai_chinh_2", "member", department)
    db.session.commit()
    expected = {
        "admin": {co_to.id, ha_long.id}, "supervisor": {co_to.id, ha_long.id},
        "viewer": {co_to.id, ha_long.id}, "ha_long": {ha_long.id}, "co_to": {co_to.id},
        "co_to_supervisor": {co_to.id}, "co_to_viewer": {co_to.id},
    }
    for name, ids in expected.items():
        user = users[name]
        seen = set(db.session.scalars(visible_recommendations(user)
                                      .with_only_columns(Recommendation.id)))
        assert seen == ids, name
        assert {r.id for r in (co_to, ha_long) if can_see_recommendation(user, r)} == ids
    # The responsible unit sees what it must answer, and nothing else.
    assert set(db.session.scalars(visible_recommendations(answerer)
                                  .with_only_columns(Recommendation.id))) == {co_to.id}


def _told(kind) -> set[str]:
    from tracker.auth.models import User
    from tracker.notifications.models import Notification
    return set(db.session.scalars(select(User.username).join(
        Notification, Notification.user_id == User.id).where(Notification.kind == kind)))


def test_raised_the_supervisors_above_hear_of_it(users):
    raised(users)
    assert _told("kn_raised") == {"co_to_supervisor", "supervisor", "admin"}


def test_forwarded_only_the_level_above_hears_again(users):
    rec = raised(users)
    service.forward(users["co_to_supervisor"], rec, note="Cấp tỉnh", now=MONDAY)
    db.session.commit()
    from tracker.notifications.models import Notification
    kinds = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "kn_raised")).all()
    assert sorted(kinds) == sorted([users["co_to_supervisor"].id, users["supervisor"].id,
                                    users["admin"].id, users["supervisor"].id,
                                    users["admin"].id])


def test_the_answer_reaches_every_raiser_of_merged_duplicates(users, units, department):
    first = raised(users, who="ha_long")
    duplicate = raised(users, who="co_to")
    service.merge(users["supervisor"], duplicate, into_id=first.id, now=MONDAY)
    service.route(users["supervisor"], first, responsible_unit_id=department.id,
                  response_days=5, now=MONDAY)
    db.session.commit()
    assert _told("kn_routed") >= {"so_tai_chinh", "ha_long", "co_to"}
    answerer = db.session.scalar(select(type(users["co_to"])).where(
        type(users["co_to"]).username == "so_tai_chinh"))
    service.answer(answerer, first, answer_text="Đã có hướng dẫn", now=MONDAY)
    db.session.commit()
    assert _told("kn_answered") == {"ha_long", "co_to"}


def test_overdue_the_responsible_unit_and_its_router_hear_of_it_once(users, units, department,
                                                                    clock):
    from tracker.cli.daily import after_cutoff

    rec = raised(users)
    service.forward(users["co_to_supervisor"], rec, note="Cấp tỉnh", now=MONDAY)
    service.route(users["supervisor"], rec, responsible_unit_id=department.id,
                  response_days=1, now=MONDAY)  # due Tuesday 17
    db.session.commit()
    clock.set(ict(2026, 11, 17, 23, 59))
    after_cutoff()  # the scheduler's look when no cutoff is due
    assert _told("kn_overdue") == set()
    clock.set(ict(2026, 11, 18, 0, 0, 1))
    after_cutoff()
    assert _told("kn_overdue") == {"so_tai_chinh", "supervisor"}
    after_cutoff()
    from tracker.notifications.models import Notification
    assert len(db.session.scalars(select(Notification.id).where(
        Notification.kind == "kn_overdue")).all()) == 2
