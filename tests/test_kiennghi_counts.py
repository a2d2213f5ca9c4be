"""Kiến nghị counted (issue 18, "Counted"): the daily supervision report — its page, its
downloads and the API's — shows what the day's cutoff counted, by field and by responsible
unit, in the report unit's scope, and keeps it when they are answered later; the
dashboard counts them live."""

from __future__ import annotations

import io
from datetime import date

import pytest

from tests.factories import cutoff_through, ict, make_department, make_task, make_user
from tracker.extensions import db
from tracker.kiennghi import service
from tracker.kiennghi.counts import day_figures, live_figures
from tracker.kiennghi.models import RecommendationDayCount
from tracker.reports.history import daily_report

MONDAY = ict(2026, 11, 16, 9, 0)
TUESDAY = date(2026, 11, 17)
WEDNESDAY = date(2026, 11, 18)


def _input(title, field):
    return {"title": title, "kind": "recommendation", "content": "Nội dung", "field": field,
            "legal_basis": "Nghị định 151/2017/NĐ-CP", "level_asked": "province"}


@pytest.fixture
def raised(users, units):
    """Monday: Cô Tô raises two (Tài sản công, Đất đai), Hạ Long one (Tài sản công) —
    a duplicate the province merges into Cô Tô's; the province gives Cô Tô's first to the
    Sở Tài chính for 1 working day (due Tuesday) and keeps Cô Tô's second unrouted."""
    department = make_department(units["province"], "Sở Tài chính")
    answerer = make_user("so_tai_chinh", "member", department)
    # A task assigned the Friday before: the cutoffs are due from that day on.
    make_task(users["admin"], units["ha_long"], at=ict(2026, 11, 13, 9, 0))
    db.session.commit()
    first = service.raise_recommendation(users["co_to"], _input("Trụ sở dôi dư", "Tài sản công"),
                                         now=MONDAY)
    second = service.raise_recommendation(users["co_to"], _input("Giao đất", "Đất đai"),
                                          now=MONDAY)
    duplicate = service.raise_recommendation(users["ha_long"],
                                             _input("Trụ sở cũ", "Tài sản công"), now=MONDAY)
    service.forward(users["co_to_supervisor"], first, note="Vượt thẩm quyền", now=MONDAY)
    service.route(users["supervisor"], first, responsible_unit_id=department.id,
                  response_days=1, now=MONDAY)
    service.merge(users["supervisor"], duplicate, into_id=first.id, now=MONDAY)
    db.session.commit()
    return {"first": first, "second": second, "duplicate": duplicate,
            "department": department, "answerer": answerer}


def cutoff(day):
    cutoff_through(day, ict(day.year, day.month, day.day, 17, 0))
    db.session.commit()


def test_the_report_counts_what_the_cutoff_saw_by_field_and_responsible_unit(units, raised):
    cutoff(WEDNESDAY)  # Monday..Wednesday; the deadline (Tuesday) has passed unanswered
    kn = daily_report(units["province"], WEDNESDAY)["recommendations"]
    assert kn["totals"] == {"received": 3, "received_today": 0, "answered_on_time": 0,
                            "answered_late": 0, "pending": 1, "overdue": 1, "merged": 1}
    assert [(f["field"], f["received"], f["overdue"], f["merged"]) for f in kn["by_field"]] \
        == [("Đất đai", 1, 0, 0), ("Tài sản công", 2, 1, 1)]
    assert [(u["unit"], u["received"], u["overdue"]) for u in kn["by_unit"]] == [
        ("Sở Tài chính", 1, 1)]
    monday = daily_report(units["province"], date(2026, 11, 16))["recommendations"]
    assert monday["totals"]["received_today"] == 3 and monday["totals"]["overdue"] == 0


def test_a_past_report_keeps_its_counts_when_answered_later(users, units, raised):
    cutoff(WEDNESDAY)
    service.answer(raised["answerer"], raised["first"], answer_text="Đã có hướng dẫn",
                   now=ict(2026, 11, 19, 9, 0))
    db.session.commit()
    cutoff(date(2026, 11, 19))
    assert day_figures(units["province"], WEDNESDAY)["totals"]["overdue"] == 1
    thursday = day_figures(units["province"], date(2026, 11, 19))["totals"]
    assert (thursday["overdue"], thursday["answered_late"]) == (0, 1)


def test_a_forced_rerun_replaces_the_days_counts(units, raised):
    cutoff(TUESDAY)
    rows = db.session.query(RecommendationDayCount).filter_by(day=TUESDAY).count()
    cutoff_through(TUESDAY, ict(2026, 11, 17, 18, 0), force=True)
    db.session.commit()
    assert db.session.query(RecommendationDayCount).filter_by(day=TUESDAY).count() == rows
    assert day_figures(units["province"], TUESDAY)["totals"]["received"] == 3


def test_a_fault_storing_the_counts_never_holds_up_the_cutoff(units, raised, monkeypatch,
                                                             caplog):
    """The day's tasks are processed and the next day's cutoff runs; the counts of that day
    are missing (logged), and a forced rerun stores them once mended."""
    from tracker.cutoff.models import CutoffRun
    from tracker.kiennghi import counts

    def broken(_day):
        raise RuntimeError("a fault in the counts")

    monkeypatch.setattr(counts, "_store", broken)
    cutoff(TUESDAY)
    assert db.session.get(CutoffRun, TUESDAY).finished_at is not None
    assert db.session.query(RecommendationDayCount).filter_by(day=TUESDAY).count() == 0
    assert "were not stored" in caplog.text
    monkeypatch.undo()
    cutoff_through(TUESDAY, ict(2026, 11, 17, 18, 0), force=True)
    db.session.commit()
    assert day_figures(units["province"], TUESDAY)["totals"]["received"] == 3


def test_each_unit_counts_only_what_its_scope_holds(units, raised):
    cutoff(WEDNESDAY)
    co_to = day_figures(units["co_to"], WEDNESDAY)["totals"]
    assert (co_to["received"], co_to["overdue"], co_to["pending"]) == (2, 1, 1)
    ha_long = day_figures(units["ha_long"], WEDNESDAY)["totals"]
    assert (ha_long["received"], ha_long["merged"], ha_long["overdue"]) == (1, 1, 0)
    # The department answers one; it sees that one, not the communes' others.
    department = day_figures(raised["department"], WEDNESDAY)
    assert department["totals"]["received"] == 1 and department["totals"]["overdue"] == 1
    assert [f["field"] for f in department["by_field"]] == ["Tài sản công"]
    assert day_figures(units["bai_chay"], WEDNESDAY)["totals"]["received"] == 0


def test_the_dashboard_counts_them_live(users, units, raised):
    at_tuesday = live_figures(units["province"], ict(2026, 11, 17, 10, 0))["totals"]
    assert (at_tuesday["pending"], at_tuesday["overdue"]) == (2, 0)
    at_wednesday = live_figures(units["province"], ict(2026, 11, 18, 0, 0))["totals"]
    assert (at_wednesday["pending"], at_wednesday["overdue"]) == (1, 1)
    service.answer(raised["answerer"], raised["first"], answer_text="Trả lời",
                   now=ict(2026, 11, 17, 11, 0))
    db.session.commit()
    answered = live_figures(units["province"], ict(2026, 11, 18, 9, 0))["totals"]
    assert (answered["answered_on_time"], answered["overdue"]) == (1, 0)


def test_the_report_page_and_the_dashboard_show_them(login_as, clock, units, raised):
    cutoff(WEDNESDAY)
    clock.set(ict(2026, 11, 18, 18, 0))
    client = login_as("supervisor")
    page = client.get("/reports/daily?date=2026-11-18").get_data(as_text=True)
    assert 'data-testid="recommendation-counts"' in page
    assert "Vướng mắc, kiến nghị" in page and "Sở Tài chính" in page
    assert 'data-testid="kn-overdue">1<' in page and 'data-testid="kn-received">3<' in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="kn-overdue">1<' in dashboard and "Theo lĩnh vực" in dashboard
    past = client.get("/dashboard?date=2026-11-17").get_data(as_text=True)
    assert 'data-testid="kn-overdue">0<' in past and 'data-testid="kn-pending">2<' in past


def test_a_communes_viewer_sees_only_its_communes_counts(login_as, clock, units, raised):
    cutoff(WEDNESDAY)
    clock.set(ict(2026, 11, 18, 18, 0))
    page = login_as("co_to_viewer").get("/reports/daily?date=2026-11-18").get_data(
        as_text=True)
    assert 'data-testid="kn-received">2<' in page and 'data-testid="kn-merged">0<' in page


def test_the_api_report_carries_them(client, users, units, raised):
    from tests.api.conftest import ApiClient
    from tracker import clock
    from tracker.auth.tokens import create_token

    cutoff(WEDNESDAY)
    _token, raw = create_token(None, users["supervisor"], name="t", now=clock.now())
    db.session.commit()
    body = ApiClient(client, raw).get("/reports/daily?date=2026-11-18").get_json()
    assert body["recommendations"]["totals"]["overdue"] == 1
    assert body["recommendations"]["by_unit"][0]["unit"] == "Sở Tài chính"
    assert body["recommendations"]["by_field"][0] == {
        "field": "Đất đai", "received": 1, "received_today": 0, "answered_on_time": 0,
        "answered_late": 0, "pending": 1, "overdue": 0, "merged": 0}


def test_the_downloads_carry_them(units, raised, app):
    from docx import Document
    from openpyxl import load_workbook

    from tracker.reports import export, official

    cutoff(WEDNESDAY)
    report = daily_report(units["province"], WEDNESDAY)
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        book = load_workbook(io.BytesIO(export.report_xlsx(report)))
        assert book.sheetnames[-2:] == ["Kiến nghị theo lĩnh vực", "Kiến nghị theo đầu mối"]
        rows = [[c.value for c in row] for row in book["Kiến nghị theo lĩnh vực"].iter_rows()]
        assert ["Tài sản công", 2, 0, 0, 0, 0, 1, 1] in rows
        summary = [[c.value for c in row] for row in book[book.sheetnames[0]].iter_rows()]
        assert ["Số kiến nghị đã tiếp nhận", 3] in summary
        csv = export.report_csv(report).decode("utf-8")
        assert "Kiến nghị theo đơn vị đầu mối" in csv and "Sở Tài chính" in csv
        document = Document(io.BytesIO(official.report_docx(report)))
    paragraphs = [p.text for p in document.paragraphs]
    assert "VI. TIẾP NHẬN, TRẢ LỜI KIẾN NGHỊ" in paragraphs
    assert any(p.startswith("Tổng số vướng mắc, kiến nghị đã tiếp nhận: 3") for p in paragraphs)
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert {"Sở Tài chính", "Đất đai", "Tài sản công"} <= cells
