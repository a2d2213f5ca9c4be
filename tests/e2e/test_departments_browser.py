"""An admin adds a department (sở, ngành) under the province, renames it, creates a user in
it and corrects the user's e-mail; a member then changes their own phone — on a 360 px
phone and on a desktop, in Vietnamese."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.harness import DESKTOP, PHONE, log_in
from tests.factories import PASSWORD
from tracker.auth.models import User
from tracker.extensions import db
from tracker.units.models import Unit, UnitKind


def _fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _walk(page, live, login, browser, size: dict, mobile: bool) -> None:
    from playwright.sync_api import expect

    login("admin")
    page.goto(live.url("/admin/units"))
    adding = page.get_by_test_id("add-department")
    adding.locator("#f-name").fill("Sở Nội vụ")
    with page.expect_navigation():
        adding.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Sở Nội vụ")
    assert _fits(page)

    renaming = page.get_by_test_id("rename-department")
    renaming.locator("#f-name").fill("Sở Nội vụ tỉnh Quảng Ninh")
    with page.expect_navigation():
        renaming.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Sở Nội vụ tỉnh Quảng Ninh")
    assert _fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    device = "phone" if mobile else "desktop"
    page.screenshot(path=str(SCREENSHOTS / f"department_{device}.png"), full_page=True)

    with page.expect_navigation():
        page.locator(".actions a[href*='/admin/users/new?unit=']").click()
    page.fill("#f-username", "snv_chuyenvien")
    page.fill("#f-full_name", "Trần Thị Bình")
    page.fill("#f-email", "binh.tt@quangninh.gov")
    page.fill("#f-password", "mật khẩu của sở nội vụ")
    page.fill("#f-password2", "mật khẩu của sở nội vụ")
    with page.expect_navigation():
        page.locator("form button[type=submit].primary").click()
    expect(page.get_by_test_id("email")).to_have_text("binh.tt@quangninh.gov")

    contact = page.get_by_test_id("contact")
    contact.locator("#f-email").fill("binh.tt@quangninh.gov.vn")
    with page.expect_navigation():
        contact.locator("button[type=submit]").click()
    expect(page.get_by_test_id("email")).to_have_text("binh.tt@quangninh.gov.vn")
    assert _fits(page)

    live.settle()
    department = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.DEPARTMENT))
    staff = db.session.scalar(select(User).where(User.username == "snv_chuyenvien"))
    assert department.name == "Sở Nội vụ tỉnh Quảng Ninh"
    assert department.path == f"{department.parent.path}{department.id}/"
    assert (staff.unit_id, staff.email) == (department.id, "binh.tt@quangninh.gov.vn")
    db.session.rollback()

    # A member, in another browser, changes their own phone on their account page.
    context = browser.new_context(viewport=size, is_mobile=mobile, has_touch=mobile,
                                  locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    try:
        member = context.new_page()
        log_in(member, live, "ha_long", PASSWORD)
        member.goto(live.url("/account/profile"))
        form = member.get_by_test_id("profile")
        form.locator("#f-phone").fill("0912 345")  # 7 digits, too few: named, nothing saved
        with member.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(member.locator("#e-phone")).to_be_visible()
        member.get_by_test_id("profile").locator("#f-phone").fill("0912 345 678")
        with member.expect_navigation():
            member.get_by_test_id("profile").locator("button[type=submit]").click()
        expect(member.locator(".flash-success")).to_be_visible()
        expect(member.locator("#f-phone")).to_have_value("0912 345 678")
        assert _fits(member)
        member.screenshot(path=str(SCREENSHOTS / f"profile_{device}.png"), full_page=True)
    finally:
        context.close()
    live.settle()
    assert db.session.scalar(select(User.phone).where(User.username == "ha_long")) == \
        "0912 345 678"
    db.session.rollback()


@pytest.mark.viewport(360, 740)
def test_departments_and_contact_details_on_a_phone(page, live, login, browser, users):
    _walk(page, live, login, browser, PHONE, True)


def test_departments_and_contact_details_on_a_desktop(page, live, login, browser, users):
    _walk(page, live, login, browser, DESKTOP, False)
