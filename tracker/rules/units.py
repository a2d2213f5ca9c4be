"""A unit's colour and figures from its tasks', and the roll-up of a subtree (SPEC §6).

One roll-up serves the cutoff's stored figures of the day (`unit_day_stats`) and the
dashboard's live ones, so that the two agree at the cutoff moment (a test compares them).
Pure: the caller reads the units and each unit's own counts.

What is counted (docs/status-rules.md §7), so that no figure can mislead a leader:

- a task **not started** (chưa thực hiện: no progress posted yet) that is still green has
  shown nothing yet: it is kept out of the green rate (`not_started` in the counts) until
  its unit posts progress or it turns yellow or red (a missed first report, a near or past
  deadline), when it counts like any other task. Assigning new work thus neither raises
  nor lowers a rate; ignoring it lowers it at the first missed report;
- a unit with no task counted in its green rate has no colour of its own ("none": chưa có
  nhiệm vụ), is never green, and is left out of the share of green communes, which says
  apart how many communes have none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple

COMMUNE = "commune"
NOT_STARTED = "not_started"


class UnitColour(StrEnum):
    """A unit's colour: xanh, vàng, đỏ — or none (chưa có nhiệm vụ) with no task counted."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NONE = "none"


class UnitRow(NamedTuple):
    id: int
    parent_id: int | None
    kind: str
    depth: int


def waits_to_count(status: str, colour: str | None) -> bool:
    """A task not started and still green: outside the green rate for now (it is counted
    in `not_started`). Yellow or red, or once started, it counts."""
    return str(status) == NOT_STARTED and colour == "green"


def rated(counts: Mapping[str, int]) -> tuple[int, int]:
    """(green tasks counted, tasks counted) in the green rate: the unit's non-cancelled
    tasks less the ones not started and still green."""
    waiting = counts.get("not_started", 0)
    return counts.get("green", 0) - waiting, counts.get("total", 0) - waiting


def green_rate(counts: Mapping[str, int]) -> float | None:
    """Tỷ lệ xanh: green tasks / tasks counted (cancelled tasks, and tasks not started that
    are still green, are not counted); None when no task is counted."""
    green, total = rated(counts)
    return green / total if total else None


def unit_colour(counts: Mapping[str, int]) -> UnitColour:
    """Red if any of the unit's counted tasks is red, yellow if any is yellow, green if it
    has a counted task; none (chưa có nhiệm vụ) if it has none — never green for that."""
    if counts.get("red"):
        return UnitColour.RED
    if counts.get("yellow"):
        return UnitColour.YELLOW
    return UnitColour.GREEN if rated(counts)[1] else UnitColour.NONE


def communes_share(counts: Mapping[str, int]) -> float | None:
    """The share of green communes: green communes / communes with a counted task; None
    when no commune has one. `communes_none` says apart how many have none."""
    judged = counts.get("communes", 0) - counts.get("communes_none", 0)
    return counts.get("communes_green", 0) / judged if judged else None


def roll_up(units: Iterable[UnitRow], own: Mapping[int, Mapping[str, int]]) -> dict[int, Counter]:
    """Each unit's subtree totals: its own counts plus every unit's below it, plus
    `units` (how many units are below it), `communes`, `communes_green` and
    `communes_none` (communes in its subtree, itself included, whose subtree colour is
    green, or none).

    Totals flow up to a unit's parent only when the parent is among `units`: pass every
    unit for the whole tree, or a subtree's units to stop at its root."""
    rows = sorted(units, key=lambda u: u.depth, reverse=True)
    present = {u.id for u in rows}
    # Deepest first, so that each unit's totals are complete (its own counts plus its
    # children's totals) before they are added to its parent's, once per unit.
    totals: dict[int, Counter] = defaultdict(Counter)
    for unit in rows:
        counts = totals[unit.id]
        if unit.id in own:
            counts.update(own[unit.id])
        if unit.kind == COMMUNE:
            colour = unit_colour(counts)
            counts["communes"] += 1
            counts["communes_green"] += int(colour == UnitColour.GREEN)
            counts["communes_none"] += int(colour == UnitColour.NONE)
        if unit.parent_id in present:
            parent = totals[unit.parent_id]
            parent.update(counts)
            parent["units"] += 1
    return totals
