"""Phone ergonomics in a real browser (issue 13, item 7): a compact header whose touch
targets are at least 24 × 24 px (WCAG 2.5.8), its links behind a menu button on a
360 × 740 phone; and axe-core finds no serious or critical violation on each role's main
pages, on a phone and on a desktop."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.tasks.lifecycle import request_extension, submit_completion

HEADER_MAX = 100  # px, on a 740 px high phone screen
TARGET_MIN = 24  # px, WCAG 2.2 2.5.8 (AA)
PHONE = pytest.mark.viewport(360, 740)


@pytest.fixture
def scene(users, units):
    """Hạ Long: an overdue task (red), a completion waiting, an extension request
    waiting; Cô Tô: a silent task. Judged by the cutoff of Tuesday 17/11."""
    admin, member = users["admin"], users["ha_long"]
    at = ict(2026, 11, 13, 9, 0)
    overdue = make_task(admin, units["ha_long"], at=at, title="Rà soát tài sản công",
                        start_date="2026-11-01", deadline="2026-11-12")
    done = make_task(admin, units["ha_long"], at=at, title="Sắp xếp thôn, tổ dân phố")
    longer = make_task(admin, units["ha_long"], at=at, title="Số hoá hồ sơ lưu trữ")
    make_task(admin, units["co_to"], at=at, title="Chuyển giao hồ sơ đất đai")
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    submit_completion(member, done, result="Đã sắp xếp 12 thôn", now=ict(2026, 11, 18, 8, 0))
    request_extension(member, longer, new_deadline="2027-01-31", reason="Chờ kinh phí",
                      now=ict(2026, 11, 18, 8, 30))
    db.session.commit()
    return SimpleNamespace(overdue=overdue.id, done=done.id, longer=longer.id)


def _small_targets(page, scope: str) -> list[str]:
    """The visible links, buttons and summaries in `scope` smaller than 24 × 24 px."""
    return page.evaluate("""([scope, least]) => {
        const found = [];
        for (const el of document.querySelectorAll(
                scope + ' a, ' + scope + ' button, ' + scope + ' summary')) {
            const box = el.getBoundingClientRect();
            if (box.width === 0 && box.height === 0) continue;  // hidden
            if (box.width < least || box.height < least)
                found.push(`${el.textContent.trim()} ${box.width}x${box.height}`);
        }
        return found;
    }""", [scope, TARGET_MIN])


def _header_height(page) -> float:
    return page.locator("header.topbar").bounding_box()["height"]


# --- the header ----------------------------------------------------------------------------


@PHONE
@pytest.mark.parametrize("username", ["ha_long", "supervisor", "admin"])
def test_the_header_is_compact_on_a_phone_with_its_links_behind_a_menu(
        page, live, login, scene, username):
    from playwright.sync_api import expect

    login(username)
    page.goto(live.url("/tasks"))
    assert _header_height(page) <= 64  # one row: the brand and the menu button
    assert _small_targets(page, "header") == []
    nav = page.locator("#site-nav")
    expect(nav).to_be_hidden()

    menu = page.get_by_test_id("menu-button")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Nhiệm vụ", exact=True)).to_be_visible()
    expect(nav.get_by_role("button", name="Đăng xuất")).to_be_visible()
    assert _small_targets(page, "header") == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"phone_menu_{username}.png"))
    with page.expect_navigation():
        nav.get_by_role("link", name="Thông báo").click()
    assert page.url.endswith("/notifications")


def test_on_a_desktop_the_header_shows_every_link_without_a_menu(
        page, live, login, scene):
    from playwright.sync_api import expect

    login("supervisor")
    page.goto(live.url("/supervise/red"))
    expect(page.get_by_test_id("menu-button")).to_be_hidden()
    expect(page.get_by_test_id("nav-inbox")).to_be_visible()
    assert _header_height(page) <= HEADER_MAX
    assert _small_targets(page, "header") == []


@PHONE
def test_a_rows_requests_are_buttons_in_sight_on_a_phone(page, live, login, scene):
    from playwright.sync_api import expect

    login("ha_long")
    page.goto(live.url("/today"))
    row = page.locator(f"#task-{scene.overdue}")
    for name in ("Đề nghị xác nhận hoàn thành", "Đề nghị gia hạn"):
        button = row.get_by_role("link", name=name)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box["height"] >= 40 and box["width"] >= TARGET_MIN
    summary = row.get_by_test_id("quick-update")
    assert summary.bounding_box()["height"] >= 40
    summary.click()
    expect(row.locator("textarea").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@PHONE
def test_the_account_pages_fit_a_phones_width(page, live, login, scene):
    login("ha_long")
    for path in ("/account/profile", "/account/notifications", "/account/calendar"):
        assert page.goto(live.url(path)).status == 200, path
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        # Every tab in sight, none cut off at the screen's edge ("Lịch iCalen…").
        assert page.evaluate("Math.max(...[...document.querySelectorAll('.account-tabs a')]"
                             ".map(a => a.getBoundingClientRect().right)) <= window.innerWidth"
                             ), path


# --- axe-core ------------------------------------------------------------------------------

PAGES = {
    "ha_long": ["/today", "/tasks/{overdue}", "/notifications"],
    "supervisor": ["/supervise/red", "/supervise/inbox", "/tasks/{done}"],
    "admin": ["/dashboard", "/admin", "/admin/users", "/tasks", "/admin/tasks/new"],
}


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            for node in violation["nodes"]:
                found.append(f"{violation['id']} ({violation['impact']}): {node['target']} "
                             f"{node['html'][:120]}")
    return found


def _check_role(page, live, login, scene, username: str) -> None:
    login(username)
    problems = {}
    for path in PAGES[username]:
        response = page.goto(live.url(path.format(**vars(scene))))
        assert response.status == 200, path
        found = _serious(page)
        if found:
            problems[path] = found
    assert problems == {}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_axe_finds_no_serious_violation_on_a_desktop(page, live, login, scene, username):
    _check_role(page, live, login, scene, username)


@PHONE
@pytest.mark.parametrize("username", sorted(PAGES))
def test_axe_finds_no_serious_violation_on_a_phone(page, live, login, scene, username):
    _check_role(page, live, login, scene, username)


@PHONE
def test_axe_finds_no_serious_violation_with_the_phone_menu_open(page, live, login, scene):
    login("supervisor")
    page.goto(live.url("/supervise/inbox"))
    page.get_by_test_id("menu-button").click()
    assert _serious(page) == []
