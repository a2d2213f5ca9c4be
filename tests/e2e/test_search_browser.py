"""Search as people type, in the browser (issue 14): "ha long" and the same words typed
decomposed (NFD) find Hạ Long's tasks on the task list, and narrow the unit picker of the
task form to "Phường Hạ Long"; the picker's JavaScript folds text as the server does."""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import select

from tests.factories import ict, make_task
from tracker.extensions import db
from tracker.rules.vietnamese import fold
from tracker.tasks.models import Task

NFD_HA_LONG = unicodedata.normalize("NFD", "Phường Hạ Long")


@pytest.fixture
def tasks(users, units):
    at = ict(2026, 11, 13, 9, 0)
    return {  # ids: the browser's requests end the test's session (live.settle)
        "ha_long": make_task(users["admin"], units["ha_long"], at=at, title="Rà soát trụ sở").id,
        "co_to": make_task(users["admin"], units["co_to"], at=at, title="Số hoá hồ sơ").id,
    }


def _listed(page) -> set[int]:
    return {int(m) for m in re.findall(r"/tasks/(\d+)", page.inner_html("ul.task-list"))}


@pytest.mark.parametrize("typed", ["ha long", NFD_HA_LONG], ids=["ascii", "nfd"])
def test_the_task_list_finds_ha_longs_tasks_as_people_type(page, live, login, tasks, typed):
    login("admin")
    page.goto(live.url("/tasks"))
    assert _listed(page) == {tasks["ha_long"], tasks["co_to"]}
    page.fill("input[name=q]", typed)
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    assert _listed(page) == {tasks["ha_long"]}


def _visible_units(page) -> list[str]:
    return page.eval_on_selector_all(
        "#f-lead_unit_id option",
        "os => os.filter(o => o.value && !o.hidden).map(o => o.textContent.trim())")


@pytest.mark.parametrize("typed", ["ha long", NFD_HA_LONG], ids=["ascii", "nfd"])
def test_the_unit_picker_narrows_the_lead_units_as_people_type(page, live, login, users, units,
                                                               typed):
    ha_long = str(units["ha_long"].id)
    login("admin")
    page.goto(live.url("/admin/tasks/new"))
    assert len(_visible_units(page)) == 55  # the province and its 54 units
    box = page.locator("input.unit-filter[aria-controls=f-lead_unit_id]")
    box.fill(typed)
    assert _visible_units(page) == ["Phường Hạ Long"]
    assert page.inner_text(".unit-filter-count").strip().startswith("1")
    page.select_option("#f-lead_unit_id", value=ha_long)
    box.fill("")
    assert len(_visible_units(page)) == 55
    assert page.eval_on_selector("#f-lead_unit_id", "s => s.value") == ha_long


def test_choosing_through_the_picker_assigns_the_task_to_that_unit(page, live, login, users,
                                                                  units):
    dam_ha = units["dam_ha"].id
    login("admin")
    page.goto(live.url("/admin/tasks/new"))
    page.locator("input.unit-filter[aria-controls=f-lead_unit_id]").fill("dam ha")
    assert _visible_units(page) == ["Xã Đầm Hà"]
    page.select_option("#f-lead_unit_id", value=str(dam_ha))
    for field, value in {"title": "Rà soát trụ sở dôi dư", "description": "Rà soát.",
                         "owner_name": "Chủ tịch UBND xã", "start_date": "2026-11-18",
                         "deadline": "2026-12-31", "leader_in_charge": "Phó Chủ tịch",
                         "expected_output": "Báo cáo", "assigning_authority": "Ban Chỉ đạo",
                         "source_doc_number": "05-TB/BCĐ",
                         "source_doc_date": "2026-11-10"}.items():
        page.fill(f"#f-{field}", value)
    with page.expect_navigation():
        page.click("form.task-form button[type=submit]")
    live.settle()
    lead = db.session.scalar(select(Task.lead_unit_id))
    db.session.rollback()
    assert lead == dam_ha


def test_the_pickers_javascript_folds_as_the_server_does(page, live, login, users):
    login("admin")
    page.goto(live.url("/admin/tasks/new"))
    samples = ["Phường Hạ Long", NFD_HA_LONG, "PHƯỜNG  HẠ LONG ", "Đặc khu Cô Tô", "Ðồng",
               "Xã Đầm Hà", "Nghị quyết 18-NQ/TW", "ỗ ự ậ ặ ẫ", "100% mau_bieu", ""]
    in_browser = page.evaluate("xs => xs.map(window.trackerFold)", samples)
    assert in_browser == [fold(s) for s in samples]
