"""A kiến nghị's whole way in the browser (issue 18, "Done when"): two communes' members,
each on a phone, raise the same thing — Cô Tô's in one step from its daily update, Hạ
Long's with a file on the form; the province's supervisor merges the second into the
first and routes it to the Sở Tài chính with a deadline; the department answers with a
document; the first commune's member asks again with a reason; the department answers
again and the member accepts; both raisers see the answer, Hạ Long's downloads its
document."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.harness import DESKTOP, PHONE, log_in
from tests.factories import PASSWORD, ict, make_department, make_task, make_user
from tracker.extensions import db
from tracker.kiennghi.models import Recommendation

TITLE = "Chưa có hướng dẫn bàn giao trụ sở dôi dư"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FIRST_ANSWER = "Thực hiện theo Nghị định 151/2017/NĐ-CP."
SECOND_ANSWER = "Sở Tài chính đã ban hành Hướng dẫn số 2345/HD-STC ngày 20/11/2026."
REASON = "Nghị định chưa quy định trường hợp trụ sở đang cho thuê."


@pytest.fixture
def department(units, users, app, tmp_path):
    app.config["TRACKER_EVIDENCE_PATH"] = str(tmp_path / "evidence")
    unit = make_department(units["province"], "Sở Tài chính")
    make_user("so_tai_chinh", "member", unit)
    task = make_task(users["admin"], units["co_to"], at=ict(2026, 11, 13, 9, 0),
                     title="Sắp xếp trụ sở sau hợp nhất", field="Tài sản công")
    db.session.commit()
    return {"id": unit.id, "name": unit.name, "task": task.id}


def _fits(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _context(browser, *, phone: bool):
    return browser.new_context(viewport=PHONE if phone else DESKTOP, is_mobile=phone,
                               has_touch=phone, locale="vi-VN",
                               timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)


def _submit(tab, locator) -> None:
    with tab.expect_navigation():
        locator.click()


def _raise(tab, live, title: str, tmp_path) -> str:
    """Raise a kiến nghị from the list's link, with a file; returns its page's path."""
    from playwright.sync_api import expect

    tab.goto(live.url("/kien-nghi"))
    tab.get_by_test_id("kn-new").click()
    tab.locator("select[name=kind]").select_option("recommendation")
    tab.locator("input[name=title]").fill(title)
    tab.locator("textarea[name=content]").fill(
        "Xã đang quản lý 3 trụ sở dôi dư sau sắp xếp, chưa rõ thẩm quyền xử lý.")
    tab.locator("input[name=field]").fill("Tài sản công")
    tab.locator("textarea[name=legal_basis]").fill("Nghị định 151/2017/NĐ-CP")
    tab.locator("select[name=level_asked]").select_option("province")
    attached = tmp_path / "danh-sach-tru-so.pdf"
    attached.write_bytes(PDF)
    tab.locator("input[name=files]").set_input_files(str(attached))
    _submit(tab, tab.get_by_role("button", name="Gửi cơ quan giám sát"))
    expect(tab.get_by_test_id("kn-status")).to_have_text("Chờ phân loại")
    expect(tab.get_by_test_id("kn-files")).to_contain_text("danh-sach-tru-so.pdf")
    assert _fits(tab)
    return tab.url.removeprefix(live.url("")).split("?")[0]


def _raise_from_update(tab, live, task_id: int) -> None:
    """Raise the obstacle of the day's update on the task page, in the same submission."""
    from playwright.sync_api import expect

    tab.goto(live.url(f"/tasks/{task_id}"))
    tab.locator("textarea[name=work_done]").fill("Đã rà soát 3 trụ sở dôi dư")
    tab.locator("textarea[name=obstacles]").fill(
        f"{TITLE}\nCần tỉnh hướng dẫn thẩm quyền xử lý.")
    tab.get_by_test_id("kn-from-update-box").locator("summary").click()
    tab.get_by_test_id("kn-raise-obstacle").check()
    expect(tab.locator("input[name=field]")).to_have_value("Tài sản công")  # the task's
    tab.locator("input[name=legal_basis]").fill("Nghị định 151/2017/NĐ-CP")
    tab.locator("select[name=level_asked]").select_option("province")
    assert _fits(tab)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.locator("#post-update").screenshot(
        path=str(SCREENSHOTS / "kiennghi_from_update_phone.png"))
    _submit(tab, tab.get_by_role("button", name="Gửi báo cáo tiến độ"))
    expect(tab.locator(".flash-success").last).to_contain_text("KN-")


def _as(browser, live, username: str, *, phone: bool = False):
    context = _context(browser, phone=phone)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    log_in(tab, live, username, PASSWORD)
    return context, tab


@pytest.mark.viewport(360, 740)
def test_a_kien_nghi_from_two_communes_to_the_province_and_back(page, live, login, browser,
                                                                department, tmp_path):
    from playwright.sync_api import expect

    # Cô Tô's member raises it on a phone, in one step from the day's update; Hạ Long's
    # raises the same on another phone, with a file.
    login("co_to")
    _raise_from_update(page, live, department["task"])
    live.settle()
    first_id, first_code = db.session.execute(db.select(
        Recommendation.id, Recommendation.code).where(Recommendation.title == TITLE)).one()
    first = f"/kien-nghi/{first_id}"
    live.settle()
    context, ha_long = _as(browser, live, "ha_long", phone=True)
    try:
        second = _raise(ha_long, live, "Xử lý trụ sở dôi dư sau sắp xếp", tmp_path)
    finally:
        context.close()
    live.settle()

    # The province's supervisor merges Hạ Long's into Cô Tô's, then routes that one.
    context, chief = _as(browser, live, "supervisor")
    try:
        chief.goto(live.url("/kien-nghi/queue"))
        expect(chief.get_by_test_id("kn-row")).to_have_count(2)
        chief.goto(live.url(second))
        merge = chief.locator("select[name='merge-into_id']")
        merge.select_option(label=next(o for o in merge.locator("option").all_inner_texts()
                                       if o.startswith(first_code)))
        _submit(chief, chief.get_by_test_id("kn-merge"))
        expect(chief.get_by_test_id("kn-status")).to_have_text("Đã gộp")
        chief.goto(live.url(first))
        chief.locator("select[name='route-responsible_unit_id']").select_option(
            str(department["id"]))
        chief.locator("input[name='route-response_days']").fill("5")
        _submit(chief, chief.get_by_test_id("kn-route"))
        expect(chief.get_by_test_id("kn-responsible")).to_have_text("Sở Tài chính")
        expect(chief.get_by_test_id("kn-due")).to_be_visible()
        expect(chief.locator("#duplicates")).to_contain_text("Hạ Long")
    finally:
        context.close()
    live.settle()

    # The department answers from its queue.
    def answer(text: str) -> None:
        context, office = _as(browser, live, "so_tai_chinh")
        try:
            office.goto(live.url("/kien-nghi/queue"))
            office.get_by_test_id("kn-row").filter(has_text=TITLE).locator("a").click()
            office.locator("textarea[name='answer-answer']").fill(text)
            office.locator("input[name='answer-answer_documents']").fill("2345/HD-STC")
            document = tmp_path / "huong-dan-2345.pdf"
            document.write_bytes(PDF)
            office.locator("input[name='answer-files']").set_input_files(str(document))
            _submit(office, office.get_by_test_id("kn-answer-send"))
            expect(office.get_by_test_id("kn-status")).to_have_text("Đã trả lời")
        finally:
            context.close()
        live.settle()

    answer(FIRST_ANSWER)

    # Cô Tô's member, on the phone, finds it answered and asks again with a reason.
    page.goto(live.url(first))
    expect(page.get_by_test_id("kn-answer")).to_have_text(FIRST_ANSWER)
    _submit(page, page.get_by_test_id("kn-ask-again"))  # no reason: refused, named
    expect(page.locator(".flash-error").first).to_be_visible()
    page.locator("textarea[name='again-reason']").fill(REASON)
    _submit(page, page.get_by_test_id("kn-ask-again"))
    expect(page.get_by_test_id("kn-status")).to_have_text("Đề nghị trả lời lại")
    assert _fits(page)
    live.settle()

    answer(SECOND_ANSWER)

    # Given again: Cô Tô's member accepts it.
    page.goto(live.url(first))
    expect(page.get_by_test_id("kn-answer")).to_have_text(SECOND_ANSWER)
    _submit(page, page.get_by_test_id("kn-accept"))
    expect(page.get_by_test_id("kn-status")).to_have_text("Đã chấp nhận trả lời")
    assert _fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "kiennghi_accepted_phone.png"), full_page=True)
    live.settle()

    # Hạ Long's member sees the answer on its own (merged) kiến nghị, on a phone.
    context, ha_long = _as(browser, live, "ha_long", phone=True)
    try:
        ha_long.goto(live.url(second))
        expect(ha_long.get_by_test_id("kn-status")).to_have_text("Đã gộp")
        expect(ha_long.get_by_test_id("kn-primary-answer")).to_contain_text(SECOND_ANSWER)
        assert _fits(ha_long)
        with ha_long.expect_download() as download:
            ha_long.get_by_test_id("kn-primary-answer-files").locator("a").first.click()
        assert download.value.suggested_filename == "huong-dan-2345.pdf"
        assert Path(download.value.path()).read_bytes() == PDF
    finally:
        context.close()
    live.settle()
    statuses = dict(db.session.execute(db.select(Recommendation.title,
                                                 Recommendation.status)).all())
    assert statuses[TITLE] == "closed" and set(statuses.values()) == {"closed", "merged"}
