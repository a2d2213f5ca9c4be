"""A member on a phone with no connection (docs/offline.md): /today and the task page open
from what the service worker kept, marked with their time; an update written offline waits
on the phone as a draft, survives closing the tab, and is sent once when the connection
returns — stamped by the server, which decides its reporting day."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.e2e.harness import ROOT
from tests.factories import PASSWORD, cutoff_through, ict, make_task
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


def _offline_error(page, path: str, live) -> None:
    """Opening `path` with no connection gives the browser's own offline error: nothing
    kept is shown."""
    from playwright.sync_api import Error

    with pytest.raises(Error, match=r"ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto(live.url(path))


def test_logging_out_empties_the_kept_pages(page, live, login, task):
    login("ha_long")
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.goto(live.url(f"/tasks/{task['id']}"))
    assert sorted(_kept(page)) == [f"/tasks/{task['id']}", "/today"]
    # The logout form's request, sent neither through the page script (its submit
    # listener empties the pages too) nor followed to the login page (which does too): the
    # worker's own handling of the logout alone must empty the kept pages.
    assert page.evaluate("""async () => {
        const form = document.querySelector("form[action='/logout']");
        const answer = await fetch(form.action, {method: 'POST', body: new FormData(form),
                                                 redirect: 'manual'});
        return answer.type; }""") == "opaqueredirect"
    assert "tracker-pages" not in page.evaluate("async () => await caches.keys()")
    page.goto(live.url("/today"))
    assert page.url.startswith(live.url("/login"))  # the session did end
    page.context.set_offline(True)
    _offline_error(page, "/today", live)  # nothing kept


def _drafts(page) -> list[dict]:
    return page.evaluate("""() => new Promise(done => {
        const open = indexedDB.open('tracker-offline', 1);
        open.onsuccess = () => open.result.transaction('drafts').objectStore('drafts')
            .getAll().onsuccess = e => done(e.target.result); })""")


def test_a_kept_page_is_not_shown_to_the_next_user_after_single_sign_on(
        page, live, login, task, users, app, clock):
    """Hà Long's session ends without a logout (revoked, or timed out); Cô Tô's member
    logs in on the same phone with single sign-on, from a bookmark of /login/sso, and
    lands on her /today: offline, Hà Long's task page is not shown to her."""
    from tests.oidc_provider import Provider
    from tracker.auth.models import User
    from tracker.auth.sessions import end_all_sessions

    ha_long = users["ha_long"].id
    login("ha_long")
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.goto(live.url(f"/tasks/{task['id']}"))
    assert sorted(_kept(page)) == [f"/tasks/{task['id']}", "/today"]

    end_all_sessions(db.session.get(User, ha_long))
    with Provider(clock) as provider:
        app.config.update(provider.settings())
        provider.user = {"sub": "qn-0002", "preferred_username": "co_to"}
        live.settle()
        with page.expect_navigation(url=live.url("/today")):
            page.goto(live.url("/login/sso"))
    assert "co_to" in page.locator(".who").inner_text()

    page.context.set_offline(True)
    _offline_error(page, f"/tasks/{task['id']}", live)


def test_a_page_of_another_user_empties_what_the_previous_user_left(
        page, live, login, task, users):
    """Hà Long's session ends without a logout; however the next user's session began —
    here a login the worker never saw (a hard reload bypasses it) — the first page of
    hers that loads drops Hà Long's kept pages and drafts; offline, the phone shows her
    nothing of his."""
    ha_long = users["ha_long"].id
    login("ha_long")
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.evaluate("""() => new Promise(done => {
        const open = indexedDB.open('tracker-offline', 1);
        open.onsuccess = () => { const tx = open.result.transaction('drafts', 'readwrite');
            tx.objectStore('drafts').put({key: 'k-ha-long', user: USER, task: TASK,
                fields: [], state: 'pending'}); tx.oncomplete = done; }; })"""
                  .replace("USER", str(ha_long)).replace("TASK", str(task["id"])))

    from tracker.auth.models import User
    from tracker.auth.sessions import end_all_sessions

    end_all_sessions(db.session.get(User, ha_long))  # his session timed out
    live.settle()
    request = page.context.request  # the browser's cookies, not through the worker
    form = request.get(live.url("/login")).text()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    answer = request.post(live.url("/login"), form={
        "csrf_token": token, "username": "co_to", "password": PASSWORD}, max_redirects=0)
    assert answer.status == 302
    page.goto(live.url("/tasks"))  # her task list: a page the worker does not keep
    assert "co_to" in page.locator(".who").inner_text()
    for _ in range(50):  # the worker hears of her from the page's script
        if not _kept(page) and not _drafts(page):
            break
        page.wait_for_timeout(100)
    assert _kept(page) == [] and _drafts(page) == []

    page.context.set_offline(True)
    _offline_error(page, "/today", live)


def test_a_kept_page_is_shown_only_while_young_enough(page, live, login, task, app):
    """TRACKER_OFFLINE_PAGE_DAYS (7 by default; 5 seconds here) bounds how long a kept
    page may be shown offline."""
    from playwright.sync_api import expect

    app.config["TRACKER_OFFLINE_PAGE_DAYS"] = 5 / 86400
    login("ha_long")
    page.goto(live.url("/today"))
    _worker_ready(page)
    page.goto(live.url("/today"))  # kept afresh
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    page.wait_for_timeout(5500)
    _offline_error(page, "/today", live)


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
