"""A leader picks a past day on the dashboard, drills down as it stood at that 16:00, then
compares two days and downloads the comparison (issue 16, item 3)."""

from __future__ import annotations

import pytest

from tests.test_past_day import seeded_history

history = pytest.fixture(seeded_history, name="history")


def test_a_leader_picks_a_past_day_and_compares_two_days(page, live, login, history, units,
                                                         tmp_path):
    from playwright.sync_api import expect

    codes = {name: task.code for name, task in history.items()}
    co_to = units["co_to"].name
    login("supervisor")
    page.click("a[href='/dashboard']")
    expect(page.get_by_test_id("day-picker")).to_be_visible()

    # The picker: the 17th, as it stood at 16:00.
    page.fill("#day-picker-date", "2026-11-17")
    with page.expect_navigation():
        page.get_by_test_id("day-picker").locator("button[type=submit]").click()
    expect(page.get_by_test_id("as-of")).to_contain_text("tính đến 16 giờ 00 ngày 17/11/2026")
    expect(page.get_by_test_id("count-red")).to_have_text("2")
    with page.expect_navigation():
        page.get_by_test_id("ranking").get_by_role("link", name=co_to).click()
    assert "date=2026-11-17" in page.url
    expect(page.get_by_test_id("as-of")).to_contain_text("17/11/2026")
    expect(page.get_by_test_id("unit-tasks")).to_contain_text(codes["recovers"])

    # The comparison of the 17th and the 25th, for the province.
    page.click("a[href='/dashboard']")
    with page.expect_navigation():
        page.get_by_test_id("compare-link").click()
    page.fill("#compare-from", "2026-11-17")
    page.fill("#compare-to", "2026-11-25")
    with page.expect_navigation():
        page.get_by_test_id("compare-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("turned-red")).to_contain_text(codes["steady"])
    expect(page.get_by_test_id("turned-red")).to_contain_text(codes["late"])
    expect(page.get_by_test_id("turned-green")).to_contain_text(codes["recovers"])
    expect(page.get_by_test_id("compare-units").get_by_test_id("unit-move").first) \
        .to_contain_text(co_to)
    with page.expect_download() as info:
        page.get_by_test_id("compare-xlsx").click()
    download = info.value
    assert download.suggested_filename == "so-sanh-2026-11-17-2026-11-25.xlsx"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"PK")
