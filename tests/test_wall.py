"""The 16:00 wall (issue 16, item 4): its page and its JSON — scope per role, the provinces on
the tile map, a province's communes, the figures equal to the dashboard's for the same
moment, the last cutoff's colours and streaks."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.factories import make_user
from tests.test_past_day import seeded_history
from tracker.extensions import db
from tracker.reports.live import rollup
from tracker.reports.wall import GRID_COLUMNS, GRID_ROWS, PROVINCE_TILES, tile_positions
from tracker.rules.units import green_rate, unit_colour
from tracker.units.importer import find_province, import_units

history = pytest.fixture(seeded_history, name="history")


def as_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    return response.get_json()


def test_the_table_places_each_of_the_34_provinces_once_and_strangers_below():
    from vietnam_provinces import Province

    codes = {f"{int(p.code):02d}" for p in Province.iter_all()}
    assert set(PROVINCE_TILES) == codes and len(codes) == 34
    assert len(set(PROVINCE_TILES.values())) == 34  # no two on one place
    assert all(1 <= c <= GRID_COLUMNS for _, c in PROVINCE_TILES.values())
    places = tile_positions(["22", "X1", "X2"])
    assert places["22"] == PROVINCE_TILES["22"]
    assert places["X1"] == (GRID_ROWS + 1, 1) and places["X2"] == (GRID_ROWS + 1, 2)


def test_a_national_viewer_sees_the_provinces_on_the_map_with_the_dashboards_counts(
        history, units, client):
    import_units([find_province("Cao Bằng")])
    make_user("nation_viewer", "viewer", units["nation"])
    db.session.commit()
    login(client, "nation_viewer")
    data = as_json(client, "/wall/data.json")
    totals = rollup(units["nation"])  # the dashboard's roll-up, at the same moment
    counts = totals[units["nation"].id]
    assert data["layout"] == "map" and data["unit"]["id"] == units["nation"].id
    for name in ("total", "green", "yellow", "red", "done_on_time", "done_late",
                 "open_within_deadline", "open_overdue"):
        assert data["counts"][name] == counts.get(name, 0), name
    assert data["counts"]["red"] > 0
    assert data["live"]["colour"] == unit_colour(counts).value
    assert {c["key"]: c["count"] for c in data["categories"]}["open_overdue"] == \
        counts["open_overdue"]
    tiles = {t["code"]: t for t in data["tiles"]}
    assert set(tiles) == {"22", "04"}  # Quảng Ninh and Cao Bằng, nothing below them
    assert (tiles["22"]["row"], tiles["22"]["col"]) == PROVINCE_TILES["22"]
    assert (tiles["04"]["row"], tiles["04"]["col"]) == PROVINCE_TILES["04"]
    quang_ninh = totals[units["province"].id]
    assert tiles["22"]["live"]["colour"] == unit_colour(quang_ninh).value == "red"
    assert tiles["22"]["live"]["rate"] == green_rate(quang_ninh)
    assert tiles["22"]["live"]["icon"] == "■" and tiles["22"]["live"]["label"] == "Đỏ"
    assert tiles["22"]["cutoff"]["colour"] == "red" and tiles["22"]["has_children"]
    assert tiles["04"]["live"]["colour"] == "none" and tiles["04"]["cutoff"] is None
    assert data["cutoff_day"] and "25/11/2026" in data["cutoff_text"]
    assert data["trend"]["points"] and data["up"] is None
    # A province chosen: its communes, and the way back up.
    data = as_json(client, f"/wall/data.json?unit={units['province'].id}")
    assert data["layout"] == "units" and data["up"] == units["nation"].id
    assert len(data["tiles"]) == 54


def test_a_province_viewer_sees_its_communes_and_nothing_outside(history, units, login_as):
    client = login_as("viewer")
    data = as_json(client, "/wall/data.json")
    assert data["unit"]["id"] == units["province"].id and data["layout"] == "units"
    tiles = {t["id"]: t for t in data["tiles"]}
    assert len(tiles) == 54 and all(t["row"] is None for t in tiles.values())
    bai_chay = tiles[units["bai_chay"].id]
    assert bai_chay["live"]["colour"] == "green" and bai_chay["streak"] == 4
    assert bai_chay["cutoff"] == {"colour": "green", "rate": 1.0, "rate_text": "100%",
                                  "label": "Xanh", "icon": "●"}
    co_to = tiles[units["co_to"].id]
    assert co_to["live"]["colour"] == "red" and co_to["streak"] == 0
    totals = rollup(units["province"])
    assert data["counts"]["red"] == totals[units["province"].id]["red"]
    assert [m["unit"] for m in data["movement"]["improved"]] == [units["bai_chay"].name]
    assert data["at_text"] == "Số liệu lúc 10:00" and data["at_hhmm"] == "10:00"
    as_json(client, f"/wall/data.json?unit={units['nation'].id}", 404)
    as_json(client, "/wall/data.json?unit=99999999999", 404)
    data = as_json(client, f"/wall/data.json?unit={units['co_to'].id}")
    assert [t["id"] for t in data["tiles"]] == [units["co_to"].id]  # a commune: itself


def test_a_communes_viewer_is_kept_to_the_commune(history, units, client):
    login(client, "co_to_viewer")
    data = as_json(client, "/wall/data.json")
    assert [t["id"] for t in data["tiles"]] == [units["co_to"].id]
    as_json(client, f"/wall/data.json?unit={units['province'].id}", 404)
    as_json(client, f"/wall/data.json?unit={units['ha_long'].id}", 404)


def test_the_page_is_a_frame_for_the_script_and_members_go_to_their_tasks(
        units, users, login_as, client):
    client = login_as("viewer")
    response = client.get("/wall?refresh=1")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Màn hình giám sát" in text
    assert "/static/js/wall.js" in text and "<style" not in text and " style=" not in text
    assert 'data-refresh="2"' in text  # clamped
    assert "Mất kết nối — số liệu lúc __AT__" in text
    assert client.get(f"/wall?unit={units['co_to'].id}").status_code == 200
    assert client.get(f"/wall?unit={units['nation'].id}").status_code == 404
    client.post("/logout", data={})
    client2 = client.application.test_client()
    login(client2, "ha_long")
    for url in ("/wall", "/wall/data.json"):
        response = client2.get(url)
        assert response.status_code == 302 and response.location.endswith("/today")
