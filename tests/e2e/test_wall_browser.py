"""The 16:00 wall on an operations room's screen (issue 16, item 4), at 1920×1080: a viewer
opens it and reads the tiles and the counts; the network then fails — the last figures stay
and the wall says how old they are — and comes back, and the notice goes by itself. A
national viewer sees the provinces on the map and opens one's communes."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.test_past_day import seeded_history
from tracker.extensions import db
from tracker.reports.live import rollup
from tracker.units.importer import find_province, import_units

history = pytest.fixture(seeded_history, name="history")
WALL = {"width": 1920, "height": 1080}


def test_the_wall_keeps_its_figures_through_a_lost_connection(page, live, login, history,
                                                             units):
    from playwright.sync_api import expect

    counts = rollup(units["province"])[units["province"].id]
    ids = {name: units[name].id for name in ("bai_chay", "co_to")}
    page.set_viewport_size(WALL)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    login("viewer")
    page.click("[data-testid=wall-link]")  # from the dashboard
    expect(page.get_by_test_id("wall-tiles").get_by_test_id("tile")).to_have_count(54)
    page.goto(live.url("/wall?refresh=2"))
    tiles = page.get_by_test_id("wall-tiles").get_by_test_id("tile")
    expect(tiles).to_have_count(54)
    for colour in ("green", "yellow", "red"):
        expect(page.get_by_test_id(f"wall-count-{colour}")).to_have_text(str(counts[colour]))
    bai_chay = page.locator(f"[data-unit-id='{ids['bai_chay']}']")
    expect(bai_chay).to_have_attribute("data-colour", "green")
    expect(bai_chay).to_contain_text("100%")
    expect(bai_chay).to_contain_text("Xanh")  # the colour said in words too
    expect(bai_chay).to_contain_text("4 ngày xanh liên tiếp")
    expect(page.locator(f"[data-unit-id='{ids['co_to']}']")).to_contain_text("Đỏ")
    expect(page.get_by_test_id("wall-status")).to_contain_text("Số liệu lúc 10:00")
    expect(page.get_by_test_id("wall-offline")).to_be_hidden()
    assert page.get_by_test_id("wall-trend").locator("circle").count() > 0

    # The network fails: the figures stay, and the wall says from when they are.
    page.route("**/wall/data.json*", lambda route: route.abort())
    notice = page.get_by_test_id("wall-offline")
    expect(notice).to_be_visible(timeout=8_000)
    expect(notice).to_have_text("Mất kết nối — số liệu lúc 10:00")
    expect(tiles).to_have_count(54)
    expect(page.get_by_test_id("wall-count-red")).to_have_text(str(counts["red"]))

    # It comes back: the next refresh clears the notice, with no reload.
    page.unroute("**/wall/data.json*")
    expect(notice).to_be_hidden(timeout=8_000)
    expect(tiles).to_have_count(54)
    assert refused == []  # no inline script or style refused by the CSP


def test_a_national_viewer_opens_a_province_from_the_map(page, live, login, history, units):
    from playwright.sync_api import expect

    import_units([find_province("Cao Bằng")])
    make_user("nation_viewer", "viewer", units["nation"])
    db.session.commit()
    province, nation = units["province"], units["nation"]
    ids = {"province": province.id}
    names = {"province": province.name, "nation": nation.name}
    page.set_viewport_size(WALL)
    login("nation_viewer")
    page.goto(live.url("/wall"))
    tiles = page.get_by_test_id("wall-tiles").get_by_test_id("tile")
    expect(tiles).to_have_count(2)
    quang_ninh = page.locator(f"[data-unit-id='{ids['province']}']")
    expect(quang_ninh).to_have_class("tile tile-red r3 c5")  # its place on the map
    expect(page.get_by_test_id("wall-back")).to_be_hidden()
    quang_ninh.click()
    expect(tiles).to_have_count(54)
    expect(page.get_by_test_id("wall-unit")).to_have_text(names["province"])
    assert f"unit={ids['province']}" in page.url
    page.get_by_test_id("wall-back").click()
    expect(tiles).to_have_count(2)
    expect(page.get_by_test_id("wall-unit")).to_have_text(names["nation"])
