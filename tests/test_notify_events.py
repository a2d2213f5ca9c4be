"""Every decision reaches whoever waits for it (issue 13, item 1): the lifecycle and comment
operations send their signals, and the notifications go to the lead unit's members (a
completion confirmed or returned, an extension approved or rejected, a supervisor's
comment) or to everyone who may supervise the task (a completion submitted, an extension
requested, a comment from the unit) — never to the actor, never outside the scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import ict, make_task, make_user
from tracker import signals
from tracker.auth.service import set_active
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.notifications.models import Notification
from tracker.tasks.lifecycle import (
    confirm_completion,
    decide_extension,
    request_extension,
    return_completion,
    submit_completion,
)
from tracker.tasks.service import add_comment
from tracker.units.importer import find_province, import_units
from tracker.units.models import Unit

ASSIGNED = ict(2026, 11, 13, 9, 0)
NOW = ict(2026, 11, 18, 10, 0)
LATER = ict(2026, 11, 18, 11, 30)


@pytest.fixture
def people(users, units):
    """Besides the usual users: a second Hạ Long member, a national supervisor, a deactivated
    province supervisor, and a supervisor and an admin of another province (Cao Bằng)."""
    import_units([find_province("Cao Bằng")])
    db.session.commit()
    cao_bang = db.session.scalar(select(Unit).where(Unit.kind == "province",
                                                    Unit.id != units["province"].id))
    made = dict(users)
    made["ha_long_2"] = make_user("ha_long_2", "member", units["ha_long"])
    made["national"] = make_user("national", "supervisor", units["nation"])
    made["gone"] = make_user("gone", "supervisor", units["province"])
    set_active(None, made["gone"], False)
    made["cao_bang_supervisor"] = make_user("cao_bang_supervisor", "supervisor", cao_bang)
    made["cao_bang_admin"] = make_user("cao_bang_admin", "admin", cao_bang)
    db.session.commit()
    return made


@pytest.fixture
def task(people, units):
    return make_task(people["admin"], units["ha_long"], at=ASSIGNED)


def _sent(kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def _to(people, notifications) -> set[str]:
    names = {u.id: name for name, u in people.items()}
    return {names[n.user_id] for n in notifications}


SUPERVISORS_OF_HA_LONG = {"supervisor", "admin", "national"}  # province, province, nation


def _submitted(people, task, at=NOW):
    submit_completion(people["ha_long"], task, result="Đã số hoá 1.000 hồ sơ", now=at)
    db.session.commit()


# --- to the supervisors -------------------------------------------------------------------


def test_a_submitted_completion_reaches_every_supervisor_of_the_task_and_no_one_else(
        people, task):
    _submitted(people, task)

    sent = _sent("submitted")
    assert _to(people, sent) == SUPERVISORS_OF_HA_LONG
    for n in sent:
        assert n.task_id == task.id and n.created_at == NOW and n.read_at is None
        assert task.code in n.message and "Kiểm tra sản phẩm" in n.message  # what to do


def test_another_provinces_and_another_communes_supervisors_hear_nothing(people, task):
    _submitted(people, task)
    request_extension(people["ha_long"], task, new_deadline="2027-01-31",
                      reason="Chờ kinh phí", now=LATER)
    db.session.commit()

    told = _to(people, _sent())
    assert not told & {"cao_bang_supervisor", "cao_bang_admin", "co_to_supervisor",
                        "co_to", "viewer", "co_to_viewer"}


def test_an_extension_request_reaches_the_supervisors_with_the_dates_and_the_reason(
        people, task):
    request_extension(people["ha_long"], task, new_deadline="31/01/2027",
                      reason="Chờ bố trí kinh phí", now=NOW)
    db.session.commit()

    sent = _sent("extension_requested")
    assert _to(people, sent) == SUPERVISORS_OF_HA_LONG
    assert all("31/01/2027" in n.message and "Chờ bố trí kinh phí" in n.message
               and "chấp thuận hoặc từ chối" in n.message for n in sent)


def test_a_comment_from_the_unit_reaches_the_supervisors_not_its_author(people, task):
    add_comment(people["ha_long"], task, "Đề nghị hướng dẫn mẫu biểu", now=NOW)
    db.session.commit()

    sent = _sent("comment")
    assert _to(people, sent) == SUPERVISORS_OF_HA_LONG
    assert all("Đề nghị hướng dẫn mẫu biểu" in n.message for n in sent)


# --- to the lead unit ---------------------------------------------------------------------


def test_a_confirmed_completion_reaches_the_lead_units_members(people, task):
    _submitted(people, task)
    confirm_completion(people["supervisor"], task, now=LATER)
    db.session.commit()

    sent = _sent("confirmed")
    assert _to(people, sent) == {"ha_long", "ha_long_2"}
    assert all(n.created_at == LATER and n.task_id == task.id and "18/11/2026" in n.message
               for n in sent)


def test_a_returned_completion_tells_the_members_why_and_what_to_do_next(people, task):
    _submitted(people, task)
    return_completion(people["supervisor"], task, note="Thiếu biên bản nghiệm thu", now=LATER)
    db.session.commit()

    sent = _sent("returned")
    assert _to(people, sent) == {"ha_long", "ha_long_2"}
    assert sent[0].message == (
        f"{task.code}: Hoàn thành bị trả lại: Thiếu biên bản nghiệm thu. Tiếp tục thực hiện "
        "và báo cáo tiến độ hằng ngày.")


def test_a_reason_ending_its_sentence_is_not_given_a_second_full_stop(people, task):
    _submitted(people, task)
    return_completion(people["supervisor"], task, note="Thiếu biên bản nghiệm thu. ",
                      now=LATER)
    db.session.commit()

    [message] = {n.message for n in _sent("returned")}
    assert "Thiếu biên bản nghiệm thu. Tiếp tục" in message and ".." not in message


def test_an_approved_extension_tells_the_members_the_new_deadline(people, task):
    request = request_extension(people["ha_long"], task, new_deadline="2027-01-31",
                                reason="Chờ kinh phí", now=NOW)
    decide_extension(people["supervisor"], request, approve=True, note=None, now=LATER)
    db.session.commit()

    [first, *rest] = sent = _sent("extension_approved")
    assert _to(people, sent) == {"ha_long", "ha_long_2"}
    assert "31/01/2027" in first.message and len(rest) == 1


def test_a_rejected_extension_tells_the_members_the_reason_and_the_deadline_that_stays(
        people, task):
    request = request_extension(people["ha_long"], task, new_deadline="2027-01-31",
                                reason="Chờ kinh phí", now=NOW)
    decide_extension(people["supervisor"], request, approve=False,
                     note="Không có căn cứ gia hạn", now=LATER)
    db.session.commit()

    sent = _sent("extension_rejected")
    assert _to(people, sent) == {"ha_long", "ha_long_2"}
    assert all("Không có căn cứ gia hạn" in n.message and task.deadline.strftime("%d/%m/%Y")
               in n.message for n in sent)


def test_a_supervisors_comment_reaches_the_members_not_the_supervisors(people, task):
    add_comment(people["supervisor"], task, "Đề nghị bổ sung ảnh chụp", now=NOW)
    db.session.commit()

    assert _to(people, _sent("comment")) == {"ha_long", "ha_long_2"}


# --- never the actor; nothing for a refused operation -----------------------------------


def test_the_actor_is_never_notified_even_when_they_would_be_a_recipient(people, task):
    # A supervisor of the task sending the "submitted" event themselves (as an admin's
    # tool might): every other supervisor hears of it, not them.
    signals.completion_submitted.send(task, actor=people["supervisor"], now=NOW)
    db.session.commit()

    assert _to(people, _sent("submitted")) == SUPERVISORS_OF_HA_LONG - {"supervisor"}


def test_a_refused_return_notifies_nobody(people, task):
    _submitted(people, task)
    with pytest.raises(InvalidInput):
        return_completion(people["supervisor"], task, note="  ", now=LATER)
    db.session.rollback()

    assert _sent("returned") == []


def test_a_rolled_back_operation_leaves_no_notification(people, task):
    submit_completion(people["ha_long"], task, result="Xong", now=NOW)
    db.session.rollback()

    assert _sent() == []
