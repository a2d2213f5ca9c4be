"""A unit's colour and figures from its tasks', and the roll-up of a subtree (SPEC §6).

One roll-up serves the cutoff's stored figures of the day (`unit_day_stats`) and the
dashboard's live ones, so that the two agree at the cutoff moment (a test compares them).
Pure: the caller reads the units and each unit's own counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from tracker.rules.colours import Colour

COMMUNE = "commune"


class UnitRow(NamedTuple):
    id: int
    parent_id: int | None
    kind: str
    depth: int


def unit_colour(counts: Mapping[str, int]) -> Colour:
    """Red if any of the unit's (non-cancelled) tasks is red, yellow if any is yellow,
    else green — a unit with no tasks owes nothing and has nothing at risk."""
    if counts.get("red"):
        return Colour.RED
    if counts.get("yellow"):
        return Colour.YELLOW
    return Colour.GREEN


def green_rate(counts: Mapping[str, int]) -> float:
    """Tỷ lệ xanh: the share of the unit's (non-cancelled) tasks that are green; 1.0 with
    no tasks."""
    total = counts.get("total", 0)
    return counts.get("green", 0) / total if total else 1.0


def roll_up(units: Iterable[UnitRow], own: Mapping[int, Mapping[str, int]]) -> dict[int, Counter]:
    """Each unit's subtree totals: its own counts plus every unit's below it, plus
    `units` (how many units are below it), `communes` and `communes_green` (communes in
    its subtree, itself included, whose subtree colour is green).

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
            counts["communes"] += 1
            counts["communes_green"] += int(unit_colour(counts) == Colour.GREEN)
        if unit.parent_id in present:
            parent = totals[unit.parent_id]
            parent.update(counts)
            parent["units"] += 1
    return totals
