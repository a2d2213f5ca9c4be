"""A unit's colour, green rate and share of green communes (docs/status-rules.md §7): a unit
with no task counted is never green, and tasks not started that are still green wait
outside the green rate — so that neither idle communes nor newly assigned work can make a
dashboard look greener than the work is."""

from __future__ import annotations

from collections import Counter

import pytest

from tracker.rules.units import (
    UnitColour,
    UnitRow,
    communes_share,
    green_rate,
    roll_up,
    unit_colour,
    waits_to_count,
)


def counts(*tasks: tuple[str, str]) -> Counter:
    """A unit's own counts from (status, colour) pairs, as the cutoff and the live counts
    make them (cancelled tasks leave the counts)."""
    made = Counter()
    for status, colour in tasks:
        if status == "cancelled":
            continue
        made.update([colour, "total"])
        if waits_to_count(status, colour):
            made["not_started"] += 1
    return made


def test_a_unit_with_no_task_has_no_colour_and_no_rate():
    assert unit_colour(Counter()) == UnitColour.NONE
    assert green_rate(Counter()) is None


def test_a_unit_whose_tasks_are_all_cancelled_has_no_task():
    only = counts(("cancelled", "green"))
    assert (unit_colour(only), green_rate(only)) == (UnitColour.NONE, None)


def test_a_unit_with_only_tasks_not_started_and_green_is_not_green():
    waiting = counts(("not_started", "green"), ("not_started", "green"))
    assert (unit_colour(waiting), green_rate(waiting)) == (UnitColour.NONE, None)


@pytest.mark.parametrize("colour", ["yellow", "red"])
def test_a_task_not_started_counts_once_it_is_at_risk(colour):
    at_risk = counts(("not_started", colour), ("in_progress", "green"))
    assert green_rate(at_risk) == 0.5
    assert unit_colour(at_risk) == colour


def test_new_work_neither_raises_nor_lowers_the_green_rate():
    before = counts(("in_progress", "green"), ("in_progress", "red"), ("returned", "red"))
    after = before + counts(*[("not_started", "green")] * 54)
    assert green_rate(before) == green_rate(after) == pytest.approx(1 / 3)
    assert unit_colour(after) == UnitColour.RED


def test_a_task_counts_once_its_unit_has_started_it():
    assert green_rate(counts(("in_progress", "green"), ("not_started", "green"))) == 1.0
    assert green_rate(counts(("in_progress", "green"), ("in_progress", "yellow"))) == 0.5


def test_done_and_submitted_tasks_count():
    assert green_rate(counts(("done", "green"), ("submitted", "red"))) == 0.5


def test_cancelled_tasks_leave_the_rate():
    assert green_rate(counts(("in_progress", "green"), ("cancelled", "green"),
                             ("in_progress", "red"))) == 0.5


def _tree(*communes: int) -> list[UnitRow]:
    province = UnitRow(1, None, "province", 1)
    return [province, *(UnitRow(i, 1, "commune", 2) for i in communes)]


def test_communes_with_no_task_count_apart_never_green():
    own = {2: counts(("in_progress", "red")), 3: counts(("in_progress", "green")),
           4: counts(("not_started", "green"))}  # 5 and 6 have none
    province = roll_up(_tree(2, 3, 4, 5, 6), own)[1]
    assert (province["communes"], province["communes_green"], province["communes_none"]) \
        == (5, 1, 3)
    assert communes_share(province) == 0.5
    assert unit_colour(province) == UnitColour.RED
    assert province["not_started"] == 1 and green_rate(province) == 0.5


def test_a_province_of_communes_with_no_task_has_no_share():
    province = roll_up(_tree(2, 3), {})[1]
    assert (province["communes_green"], province["communes_none"]) == (0, 2)
    assert communes_share(province) is None
    assert unit_colour(province) == UnitColour.NONE
