"""The cutoff's stored figures of a day (`unit_day_stats`) equal the dashboard's live ones
(`tracker.reports.live.rollup`) at the cutoff moment: one roll-up, one set of rules."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from tests.factories import cutoff_through, ict, make_task
from tracker.cutoff.models import UnitDayStat
from tracker.extensions import db
from tracker.reports.live import rollup
from tracker.rules.store import load_calendar
from tracker.rules.units import green_rate, unit_colour
from tracker.tasks.lifecycle import (
    cancel_task,
    confirm_completion,
    return_completion,
    submit_completion,
)
from tracker.updates.service import post_update

FIGURES = ("total", "green", "yellow", "red", "not_started", "done_on_time", "done_late",
           "open_within_deadline", "open_overdue", "communes", "communes_green",
           "communes_none")


def test_stored_figures_equal_the_live_ones_at_the_cutoff_moment(app, users, units):
    rng = random.Random(11)
    admin, supervisor = users["admin"], users["supervisor"]
    members = {"ha_long": users["ha_long"], "co_to": users["co_to"]}
    start = ict(2026, 11, 16, 8, 0)  # Monday
    tasks = []
    for _ in range(36):
        name = rng.choice(list(members))
        deadline = (start + timedelta(days=rng.randrange(-3, 8))).date()
        task = make_task(admin, units[name], at=start, start_date="2026-11-10",
                         deadline=deadline.isoformat())
        tasks.append((task, members[name]))
    # Three days of work: some updates each day, completions submitted on time or late,
    # confirmed or returned, a few cancelled.
    for day in (16, 17, 18):
        for task, member in tasks:
            at = ict(2026, 11, day, 9 + rng.randrange(6), rng.randrange(60))
            roll = rng.random()
            if task.status in ("done", "cancelled"):
                continue
            if task.status == "submitted":
                if roll < 0.5:
                    confirm_completion(supervisor, task, now=at)
                elif roll < 0.7:
                    return_completion(supervisor, task, note="Bổ sung hồ sơ", now=at)
            elif roll < 0.45:
                post_update(member, task, {"progress": 40, "work_done": "Đang làm"}, now=at)
            elif roll < 0.6:
                submit_completion(member, task, result="Đã xong", now=at)
            elif roll < 0.63:
                cancel_task(admin, task, note="Không còn cần", now=at)
            db.session.commit()
    # Not started: Bãi Cháy's only tasks start next month (green, not counted: the commune
    # has no task counted); one of Hạ Long's starts and is due on Friday (yellow: counted); two
    # assigned an hour before the cutoff owe nothing yet (green, not counted).
    for deadline in ("2026-12-20", "2026-12-22"):
        make_task(admin, units["bai_chay"], at=start, start_date="2026-12-01",
                  deadline=deadline)
    make_task(admin, units["ha_long"], at=start, start_date="2026-11-20",
              deadline="2026-11-20")
    for name in ("ha_long", "co_to"):
        make_task(admin, units[name], at=ict(2026, 11, 18, 15, 0))
    calendar = load_calendar()
    day = ict(2026, 11, 18).date()
    moment = calendar.cutoff_moment(day)
    cutoff_through(day, moment + timedelta(seconds=1))

    stored = {s.unit_id: s for s in db.session.scalars(
        select(UnitDayStat).where(UnitDayStat.day == day))}
    live = rollup(units["nation"])  # the stored colours, refreshed by the cutoff
    assert stored, "the cutoff stored no figures"
    for unit_id, stat in stored.items():
        counts = live[unit_id]
        assert {f: getattr(stat, f) for f in FIGURES} == {f: counts[f] for f in FIGURES}, \
            unit_id
        assert stat.colour == unit_colour(counts)
        assert stat.green_rate == green_rate(counts)
    # The day was varied enough for the comparison to mean something.
    nation = stored[units["nation"].id]
    assert nation.total and nation.red and nation.green and nation.done_on_time \
        and nation.open_overdue and nation.open_within_deadline
    assert nation.not_started >= 4 and nation.communes_none == 52
    assert stored[units["bai_chay"].id].colour == "none"
    assert stored[units["bai_chay"].id].green_rate is None
