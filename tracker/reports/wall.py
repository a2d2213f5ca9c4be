"""The figures of the 16:00 wall (màn hình giám sát, issue 16 item 4): one read of a subtree
for an operations room's screen — the live counts, the four categories, the 30-day trend,
and one tile per province (laid out like the country) or, below a province, per commune,
each with its colour live and at the last cutoff, its green rate and its green streak.

Nothing here is a new rule: the counts are the dashboard's (`tracker.reports.live.rollup`),
the colour and the green rate the one roll-up's (`tracker.rules.units`), the trend and the
cutoff's figures what the cutoffs stored (`unit_day_stats`), the streaks and the week's
movement the past-day pages' (`tracker.reports.pastday`). So the wall and the dashboard
can never disagree about the same moment.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.cutoff.models import UnitDayStat
from tracker.extensions import db
from tracker.reports.history import green_rate_trend
from tracker.reports.live import CATEGORIES, children_of, descendants, rollup
from tracker.reports.pastday import green_streaks, latest_cutoff, week_movement
from tracker.rules.units import green_rate, rated, unit_colour
from tracker.units.models import Unit, UnitKind

# The 34 provinces after the 2025 merger (official code → (row, column) on a grid of
# tiles), placed roughly as on the map: the north in the first rows, the coast to the
# right, the Mekong delta at the bottom left. Drawn by the app; no outside map data.
PROVINCE_TILES: dict[str, tuple[int, int]] = {
    "12": (1, 2), "15": (1, 3), "08": (1, 4), "04": (1, 5),  # Lai Châu … Cao Bằng
    "11": (2, 1), "14": (2, 2), "25": (2, 3), "19": (2, 4), "20": (2, 5),  # … Lạng Sơn
    "01": (3, 3), "24": (3, 4), "22": (3, 5),  # Hà Nội, Bắc Ninh, Quảng Ninh
    "38": (4, 2), "37": (4, 3), "33": (4, 4), "31": (4, 5),  # Thanh Hóa … Hải Phòng
    "40": (5, 2), "42": (5, 3),  # Nghệ An, Hà Tĩnh
    "44": (6, 3), "46": (6, 4),  # Quảng Trị, Huế
    "48": (7, 4), "51": (7, 5),  # Đà Nẵng, Quảng Ngãi
    "52": (8, 5),  # Gia Lai
    "66": (9, 5), "56": (9, 6),  # Đắk Lắk, Khánh Hòa
    "80": (10, 2), "79": (10, 3), "75": (10, 4), "68": (10, 5),  # Tây Ninh … Lâm Đồng
    "91": (11, 1), "82": (11, 2), "86": (11, 3),  # An Giang, Đồng Tháp, Vĩnh Long
    "96": (12, 1), "92": (12, 2),  # Cà Mau, Cần Thơ
}
GRID_ROWS = max(row for row, _ in PROVINCE_TILES.values())
GRID_COLUMNS = 6
MOVERS = 3  # most improved / most declined units shown


def tile_positions(codes: list[str]) -> dict[str, tuple[int, int]]:
    """Each province code's (row, column): from the table, or, for a province the table
    does not know, the next free place of a last row below the map."""
    places: dict[str, tuple[int, int]] = {}
    row, column = GRID_ROWS + 1, 0
    for code in codes:
        if code in PROVINCE_TILES:
            places[code] = PROVINCE_TILES[code]
            continue
        column += 1
        if column > GRID_COLUMNS:
            row, column = row + 1, 1
        places[code] = (row, column)
    return places


def _figures(counts) -> dict:
    green, counted = rated(counts)
    return {"colour": unit_colour(counts).value, "rate": green_rate(counts),
            "green": green, "counted": counted, "red": counts.get("red", 0),
            "yellow": counts.get("yellow", 0)}


def wall(unit: Unit, today: date) -> dict:
    """The wall of `unit`'s subtree: live now, and as stored by the latest cutoff on or
    before `today`. Tiles: the provinces below `unit` on the map; with none, the units
    directly below it (a province's communes); with none either, `unit` itself."""
    totals = rollup(unit)
    counts = totals[unit.id]
    provinces = descendants(unit, UnitKind.PROVINCE)
    layout = "map" if provinces else "units"
    tiles = provinces or children_of(unit) or [unit]
    day = latest_cutoff(today)
    ids = [tile.id for tile in tiles]
    stored = {}
    if day is not None:
        stored = {s.unit_id: s for s in db.session.scalars(
            select(UnitDayStat).where(UnitDayStat.day == day, UnitDayStat.unit_id.in_(ids)))}
    streaks = green_streaks(ids, day) if day is not None else {}
    places = tile_positions([t.code for t in tiles]) if layout == "map" else {}
    out_tiles = []
    for tile in tiles:
        stat = stored.get(tile.id)
        row, column = places.get(tile.code, (None, None))
        out_tiles.append({
            "id": tile.id, "code": tile.code, "name": tile.name, "kind": str(tile.kind),
            "row": row, "col": column, "live": _figures(totals[tile.id]),
            "cutoff": ({"colour": stat.colour, "rate": stat.green_rate} if stat else None),
            "streak": streaks.get(tile.id, 0),
            "has_children": tile.id != unit.id and totals[tile.id].get("units", 0) > 0,
        })
    movement = week_movement(unit, day, MOVERS) if day is not None else None
    return {
        "unit": {"id": unit.id, "name": unit.name, "kind": str(unit.kind)},
        "layout": layout, "rows": GRID_ROWS, "columns": GRID_COLUMNS,
        "counts": {name: counts.get(name, 0) for name in
                   ("total", "green", "yellow", "red", "not_started", *CATEGORIES)},
        "live": _figures(counts),
        "cutoff_day": day,
        "tiles": out_tiles,
        "trend": green_rate_trend(unit, today),
        "movement": movement,
    }
