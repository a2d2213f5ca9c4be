"""The kiến nghị's authorization decisions in `tracker.scope` answer the same in their
Python and SQL forms, for a user of every role at the nation, the province and communes
(active or deactivated) and kiến nghị at every stage, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import ict, make_department, make_user
from tracker.auth.models import Role
from tracker.auth.service import set_active
from tracker.extensions import db
from tracker.kiennghi import service
from tracker.kiennghi.models import Recommendation
from tracker.scope import (
    answers_to_judge,
    can_answer,
    can_judge_answer,
    can_route,
    can_see_recommendation,
    recommendations_to_answer,
    recommendations_to_route,
    visible_recommendations,
)

HOMES = ("nation", "province", "ha_long", "co_to", "van_don", "department")
AT = ict(2026, 11, 16, 9, 0)


@pytest.fixture
def people(app, units):
    units["department"] = make_department(units["province"], "Sở Xây dựng")
    made = []
    for home in HOMES:
        for role in Role:
            for active in (True, False):
                user = make_user(f"{role.value}_{home}_{'on' if active else 'off'}",
                                 role.value, units[home])
                if not active:
                    set_active(None, user, False)
                made.append(user)
    db.session.commit()
    return {u.username: u for u in made}


@pytest.fixture
def recs(people, units):
    """From three communes: waiting at the commune, forwarded to the province, merged,
    assigned to a commune or the department, answered, asked again, closed."""
    def raise_(commune):
        return service.raise_recommendation(people[f"member_{commune}_on"], {
            "title": f"Kiến nghị của {commune}", "content": "Nội dung", "field": "Đất đai",
            "legal_basis": "Luật Đất đai 2024", "level_asked": "province"}, now=AT)

    province = people["supervisor_province_on"]
    made = [raise_(c) for c in ("ha_long", "co_to", "van_don")]  # waiting
    forwarded = raise_("co_to")
    service.forward(people["supervisor_co_to_on"], forwarded, note="Cấp tỉnh", now=AT)
    merged = raise_("van_don")
    service.merge(province, merged, into_id=made[0].id, now=AT)
    at_commune = raise_("ha_long")
    service.route(people["supervisor_ha_long_on"], at_commune,
                  responsible_unit_id=units["ha_long"].id, response_days=3, now=AT)
    stages = []
    for _ in range(3):
        rec = raise_("co_to")
        service.route(province, rec, responsible_unit_id=units["department"].id,
                      response_days=3, now=AT)
        stages.append(rec)
    answerer = people["member_department_on"]
    for rec in stages[1:]:
        service.answer(answerer, rec, answer_text="Trả lời", now=AT)
    service.ask_again(people["member_co_to_on"], stages[2], reason="Chưa rõ", now=AT)
    closed = raise_("ha_long")
    service.route(province, closed, responsible_unit_id=units["department"].id,
                  response_days=3, now=AT)
    service.answer(answerer, closed, answer_text="Trả lời", now=AT)
    service.accept_answer(people["member_ha_long_on"], closed, now=AT)
    db.session.commit()
    return db.session.scalars(select(Recommendation)).all()


def _ids(query) -> set[int]:
    return set(db.session.scalars(query.with_only_columns(Recommendation.id)))


@pytest.mark.parametrize("python, sql", [
    (can_see_recommendation, visible_recommendations),
    (can_route, recommendations_to_route),
    (can_answer, recommendations_to_answer),
    (can_judge_answer, answers_to_judge),
])
def test_each_sql_form_selects_what_its_python_form_allows(people, recs, python, sql):
    assert {r.status for r in recs} == {"raised", "merged", "assigned", "answered",
                                        "reopened", "closed"}
    allowed_somewhere = False
    for user in people.values():
        allowed = {r.id for r in recs if python(user, r)}
        allowed_somewhere |= bool(allowed)
        assert _ids(sql(user)) == allowed, user.username
    assert allowed_somewhere
