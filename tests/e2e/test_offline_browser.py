"""A member on a phone with no connection (docs/offline.md): /today and the task page open
from what the service worker kept, marked with their time; an update written offline waits
on the phone as a draft, survives closing the tab, and is sent once when the connection
returns — stamped by the server, which decides its reporting day."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.e2e.harness import ROOT
from tests.factories import cutoff_through, ict, make_task
from tracker.extensions import db
from tracker.updates.models import ProgressUpdate


@pytest.fixture
def task(users, units):
    task = make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                     title="Rà soát hồ sơ đất đai")
    cutoff_through(date(2026, 11, 17), ict(2026, 11, 17, 17, 0))
    db.session.commit()
    return {"id": task.id, "code": task.code}


def _kept(page) -> list[str]:
    return page.evaluate("async () => (await (await caches.open('tracker-pages')).keys())"
                         ".map(r => new URL(r.url).pathname)")


def _worker_ready(page) -> None:
    """Wait for the service worker to control the page and a page to be kept. (Polled from
    here: `wait_for_function` polls with code the strict CSP refuses to evaluate.) A page
    whose navigation began while the worker was activating stays uncontrolled, as in any
    browser: like a member's next visit, a reload is then controlled."""
    for attempt in range(150):
        if page.evaluate("() => navigator.serviceWorker.controller !== null") and _kept(page):
            return
        if attempt % 20 == 19 and page.evaluate(
                "async () => !!(await navigator.serviceWorker.getRegistration())?.active"):
            page.reload()
        page.wait_for_timeout(100)
    state = page.evaluate("""async () => [!!navigator.serviceWorker.controller,
        (await navigator.serviceWorker.getRegistrations()).map(r => [!!r.active, !!r.installing,
            !!r.waiting, r.active && r.active.state]), await caches.keys(), location.href]""")
    raise AssertionError(f"no service worker in control, or no page kept: {state}")


def _updates() -> list[tuple]:
    """(task, progress, what was done, stamp) of every update; the transaction ended, so
    that the server may write (SQLite)."""
    rows = [(u.task_id, u.progress, u.work_done, u.created_at)
            for u in db.session.scalars(db.select(ProgressUpdate))]
    db.session.rollback()
    return rows


@pytest.mark.viewport(360, 740)
def test_an_update_written_offline_is_kept_and_sent_once_when_back_online(
        page, live, login, task, clock):
    from playwright.sync_api import expect

    login("ha_long")
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.goto(live.url(f"/tasks/{task['id']}"))  # the task page opened: kept too
    page.goto(live.url("/today"))

    context = page.context
    context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    expect(page.get_by_test_id("offline-banner")).to_have_text(
        "Dữ liệu lúc 18/11/2026 10:00, đang ngoại tuyến")
    row = page.locator(f"#task-{task['id']}")
    row.get_by_test_id("quick-update").click()
    row.locator(f"#t{task['id']}-progress").fill("40")
    row.locator(f"#t{task['id']}-work_done").fill("Đã rà soát 120 hồ sơ")
    row.locator("button[type=submit]").click()
    draft = page.locator(f"[data-drafts-for='{task['id']}'] [data-testid=draft]")
    expect(draft).to_have_text("Đã rà soát 120 hồ sơ — chưa gửi — sẽ gửi khi có mạng")
    assert _updates() == []

    # The tab is closed; a new one opens /today, still offline: the draft is still there.
    page.close()
    page = context.new_page()
    page.goto(live.url("/today"))
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    expect(page.locator(f"[data-drafts-for='{task['id']}'] [data-testid=draft]")).to_have_text(
        "Đã rà soát 120 hồ sơ — chưa gửi — sẽ gửi khi có mạng")
    page.goto(live.url(f"/tasks/{task['id']}"))  # the task page too, with its draft
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    expect(page.get_by_test_id("drafts")).to_contain_text("chưa gửi")
    # A copy of the draft as it is (files and all), to send it a second time below.
    assert page.evaluate("""() => new Promise(done => {
        const open = indexedDB.open('tracker-offline', 1);
        open.onsuccess = () => open.result.transaction('drafts').objectStore('drafts')
            .getAll().onsuccess = e => { window.keptDrafts = e.target.result;
                                         done(e.target.result.length); }; })""") == 1

    # Back online after 16:00 (by the server's clock): sent, counted for the next day.
    clock.set(ict(2026, 11, 18, 16, 5))
    live.settle()
    context.set_offline(False)
    status = page.get_by_test_id("drafts-status")
    expect(status).to_contain_text("Đã gửi từ điện thoại này")
    expect(status).to_contain_text("19/11/2026")
    expect(page.get_by_test_id("drafts")).to_be_hidden()

    # Stored once, with the server's stamp (not the phone's time of writing).
    assert _updates() == [(task["id"], 40, "Đã rà soát 120 hồ sơ", ict(2026, 11, 18, 16, 5))]

    # The same draft again (a tab that had it too, a lost answer): recorded once.
    page.evaluate("""() => new Promise(done => {
        const open = indexedDB.open('tracker-offline', 1);
        open.onsuccess = () => { const tx = open.result.transaction('drafts', 'readwrite');
            tx.objectStore('drafts').put(window.keptDrafts[0]); tx.oncomplete = done; }; })""")
    page.reload()
    expect(page.get_by_test_id("drafts-status")).to_contain_text("chỉ được ghi nhận một lần")
    assert len(_updates()) == 1


def test_logging_out_empties_the_kept_pages(page, live, login, task):
    login("ha_long")
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.goto(live.url(f"/tasks/{task['id']}"))
    assert sorted(_kept(page)) == [f"/tasks/{task['id']}", "/today"]
    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert "tracker-pages" not in page.evaluate("async () => await caches.keys()")
    page.context.set_offline(True)
    from playwright.sync_api import Error

    with pytest.raises(Error, match=r"ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto(live.url("/today"))  # nothing kept: the browser's own offline error


def test_a_draft_with_a_stale_csrf_token_gets_a_fresh_one(page, live, login, task):
    """A draft kept for hours carries a token the server no longer takes: the page fetches
    a fresh one and the draft is not lost."""
    from playwright.sync_api import expect

    login("ha_long")
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.context.set_offline(True)
    page.reload()
    row = page.locator(f"#task-{task['id']}")
    row.get_by_test_id("quick-update").click()
    row.locator(f"#t{task['id']}-work_done").fill("Đã họp tổ công tác")
    page.evaluate(f"document.querySelector('#task-{task['id']} input[name$=csrf_token]')"
                  ".value = 'stale-token'")
    row.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=draft]")).to_contain_text("chưa gửi")
    live.settle()
    page.context.set_offline(False)
    expect(page.get_by_test_id("drafts-status")).to_contain_text("Đã gửi từ điện thoại này")
    assert [u[2] for u in _updates()] == ["Đã họp tổ công tác"]


def _sent_size(live, url: str) -> int:
    """The bytes of the answer's body as sent over the wire to a browser asking for gzip."""
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip",
                                                   "Cookie": live.cookie})
    with urllib.request.urlopen(request) as answer:
        return len(answer.read())


def test_the_first_load_of_today_weighs_under_60_kb(page, live, login, users, units):
    """Every file the browser asks for to show /today with a full page of 50 tasks, each
    counted once as sent (gzip where the app compresses), as if nothing were cached: the
    page, its styles and scripts, the manifest and icons, the service worker and what it
    stores for later (docs/offline.md gives the figure)."""
    for n in range(50):
        make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0),
                  title=f"Rà soát, cập nhật hồ sơ thủ tục hành chính số {n + 1}")
    db.session.commit()
    login("ha_long")
    live.cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    asked: set[str] = set()
    page.context.on("request", lambda request: asked.add(request.url)
                    if request.method == "GET" else None)
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.wait_for_load_state("networkidle")
    # The worker's own requests are not the page's: the worker, what it stores at install
    # (its STATIC_FILES) and the manifest a phone reads to install the app.
    worker = (ROOT / "tracker" / "static" / "js" / "sw.js").read_text()
    stored = re.search(r"STATIC_FILES = \[(.*?)\]", worker, re.S).group(1)
    asked |= {live.url(path) for path in re.findall(r'"(/[^"]+)"', stored)}
    asked |= {live.url("/sw.js"), live.url("/manifest.webmanifest")}
    sizes = {url.removeprefix(live.base): _sent_size(live, url) for url in sorted(asked)}
    total = sum(sizes.values())
    print(f"first load of /today: {total} bytes in {len(sizes)} files: {sizes}")
    assert page.locator("[data-testid=today-row]").count() == 50
    assert "/today" in sizes and "/sw.js" in sizes and "/static/css/app.css" in sizes
    assert total < 60 * 1024
