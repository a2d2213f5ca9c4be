"""Any day as it stood at 16:00, the comparison of two days, green streaks and the week's
movement (issue 16, items 3 and 5): all read from what each cutoff recorded.

The history, judged day by day by the cutoff itself (working days 13, 16–20, 23 and 25
November; the 24th is Vietnam Culture Day, a holiday):

- Hạ Long: `steady` reported until the 20th, then silent (yellow the 23rd, red the 25th);
  `late` reported every day, deadline the 20th (yellow in the warning window, red overdue
  from the 23rd);
- Cô Tô: `silent` never reported (yellow the 16th, red from the 17th); `recovers` silent
  the 16th and 17th (red the 17th), then reported from the 18th (green);
- Bãi Cháy: `punctual` reported every day but the 18th (yellow that day only).
"""

from datetime import date

import pytest
from sqlalchemy import select

from tests.factories import cutoff_through, ict, make_task
from tracker.cutoff.models import RedTaskDay, UnitDayStat
from tracker.errors import InvalidInput
from tracker.extensions import db
from tracker.reports.compare import compare, compare_xlsx
from tracker.reports.pastday import cutoff_day, green_streaks, tasks_on, week_movement
from tracker.updates.service import post_update
from tracker.xlsx import to_bytes

ASSIGNED = ict(2026, 11, 13, 9, 0)  # a Friday: Monday 16 November is the first day owed
DAYS = [date(2026, 11, d) for d in (16, 17, 18, 19, 20, 23, 25)]
TODAY = date(2026, 11, 26)


def seeded_history(app, clock, users, units):
    """The tasks, their updates and every cutoff of the history above; the clock then
    stands at 10:00 on the 26th."""
    def task(unit, **kw):
        return make_task(users["admin"], units[unit], at=ASSIGNED, start_date="2026-11-01",
                         **kw)

    made = {"steady": task("ha_long"), "late": task("ha_long", deadline="2026-11-20"),
            "silent": task("co_to"), "recovers": task("co_to"),
            "punctual": task("bai_chay")}
    members = {"ha_long": users["ha_long"], "co_to": users["co_to"]}
    from tests.factories import make_user

    members["bai_chay"] = make_user("bai_chay", "member", units["bai_chay"])
    db.session.commit()
    reports = {"steady": DAYS[:5], "late": DAYS, "recovers": DAYS[2:],
               "punctual": [d for d in DAYS if d.day != 18]}
    who = {"steady": "ha_long", "late": "ha_long", "recovers": "co_to",
           "punctual": "bai_chay"}
    cutoff_through(date(2026, 11, 13), ict(2026, 11, 13, 17, 0))
    db.session.commit()
    for day in DAYS:
        for name, days in reports.items():
            if day in days:
                post_update(members[who[name]], made[name], {"progress": 10, "work_done": "x"},
                            now=ict(day.year, day.month, day.day, 10, 0))
        db.session.commit()
        cutoff_through(day, ict(day.year, day.month, day.day, 16, 1))
        db.session.commit()
    clock.set(ict(2026, 11, 26, 10, 0))
    return made


history = pytest.fixture(seeded_history, name="history")


def codes(*tasks):
    return sorted(t.code for t in tasks)


# --- the day asked for ----------------------------------------------------------------


@pytest.mark.parametrize(("text", "words"), [
    ("hôm qua", "dd/mm/yyyy"), ("31/02/2026", "dd/mm/yyyy"),
    ("2026-11-27", "chưa đến"), ("2026-11-21", "Không có giờ chốt 16:00"),
    ("2026-11-24", "Không có giờ chốt 16:00"),
    ("01/11/2026", "Không có giờ chốt 16:00"),
])
def test_a_day_that_is_no_processed_cutoff_is_refused_naming_the_field(history, text, words):
    with pytest.raises(InvalidInput) as refused:
        cutoff_day(text, "date", TODAY)
    assert list(refused.value.fields) == ["date"]
    assert words in refused.value.fields["date"][0]


def test_a_processed_cutoff_day_is_accepted_typed_either_way(history):
    assert cutoff_day("17/11/2026", "date", TODAY) == date(2026, 11, 17)
    assert cutoff_day("2026-11-17", "date", TODAY) == date(2026, 11, 17)


# --- the tasks of a past day ----------------------------------------------------------


def test_the_tasks_of_a_past_day_have_the_colours_that_cutoff_recorded(history, units):
    at_17 = {t.code: c for t, c, _, _ in tasks_on(units["province"], date(2026, 11, 17),
                                                  "", 1).items}
    h = history
    assert at_17 == {h["steady"].code: "green", h["late"].code: "yellow",
                     h["silent"].code: "red", h["recovers"].code: "red",
                     h["punctual"].code: "green"}
    at_25 = tasks_on(units["province"], date(2026, 11, 25), "", 1)
    # worst first: the red ones (by code), then the green ones
    assert [c for _, c, _, _ in at_25.items] == ["red", "red", "red", "green", "green"]
    assert at_25.total == 5


def test_the_tasks_of_a_past_day_keep_to_the_subtree_and_the_colour_asked(history, units):
    page = tasks_on(units["co_to"], date(2026, 11, 25), "red", 1)
    assert [t.code for t, *_ in page.items] == [history["silent"].code]
    assert page.items[0][2:] == ("missed_updates", 7)  # seven days missed by the 25th


# --- the red queue and the figures of a past day --------------------------------------


def test_the_red_list_of_a_past_day_is_that_days(history):
    red = set(db.session.scalars(select(RedTaskDay.task_id)
                                 .where(RedTaskDay.day == date(2026, 11, 17))))
    assert red == {history["silent"].id, history["recovers"].id}


# --- streaks and movement ---------------------------------------------------------------


def test_a_green_streak_counts_the_cutoffs_in_a_row_and_breaks_on_any_other_colour(
        history, units):
    ids = [units[n].id for n in ("bai_chay", "ha_long", "co_to", "province")]
    at_25 = green_streaks(ids, date(2026, 11, 25))
    # Bãi Cháy: yellow the 18th, green the 19th, 20th, 23rd and 25th.
    assert at_25 == {units["bai_chay"].id: 4, units["ha_long"].id: 0,
                     units["co_to"].id: 0, units["province"].id: 0}
    # At the 17th: green the 16th and 17th; the 13th its task, assigned that morning, was
    # not started and counted nowhere: no colour ("none"), which is not green.
    assert db.session.get(UnitDayStat, (units["bai_chay"].id, date(2026, 11, 13))).colour \
        == "none"
    assert green_streaks([units["bai_chay"].id], date(2026, 11, 17)) == {
        units["bai_chay"].id: 2}
    assert green_streaks([units["bai_chay"].id], date(2026, 11, 18)) == {
        units["bai_chay"].id: 0}


def test_a_cutoff_with_no_row_for_the_unit_breaks_its_streak(history, units):
    db.session.execute(UnitDayStat.__table__.delete().where(
        UnitDayStat.unit_id == units["bai_chay"].id, UnitDayStat.day == date(2026, 11, 20)))
    assert green_streaks([units["bai_chay"].id], date(2026, 11, 25)) == {
        units["bai_chay"].id: 2}


def test_the_week_movement_names_the_most_improved_and_most_declined(history, units):
    moved = week_movement(units["province"], date(2026, 11, 25))
    # The last cutoff a week or more before the 25th: the 18th (the 17th is no later).
    assert moved["since"] == date(2026, 11, 18)
    # Bãi Cháy 0 % → 100 % (yellow the 18th); Hạ Long 50 % → 0 %; Cô Tô 50 % both.
    assert [(m["unit"], m["change"]) for m in moved["improved"]] == [
        (units["bai_chay"].name, 100.0)]
    assert [(m["unit"], m["change"]) for m in moved["declined"]] == [
        (units["ha_long"].name, -50.0)]


def test_no_movement_before_a_week_of_cutoffs(history, units):
    assert week_movement(units["province"], date(2026, 11, 18)) == {
        "since": None, "improved": [], "declined": []}


# --- the comparison ---------------------------------------------------------------------


def test_the_comparison_names_what_turned_red_and_green_and_how_units_moved(history, units):
    result = compare(units["province"], date(2026, 11, 17), date(2026, 11, 25))
    h = history
    assert sorted(r["code"] for r in result["turned_red"]) == codes(h["steady"], h["late"])
    assert {r["code"]: r["from"] for r in result["turned_red"]} == {
        h["steady"].code: "green", h["late"].code: "yellow"}
    assert [(r["code"], r["from"]) for r in result["turned_green"]] == [
        (h["recovers"].code, "red")]
    assert (result["turned_red_total"], result["turned_green_total"]) == (2, 1)
    assert result["totals"]["red"] == {"before": 2, "after": 3, "change": 1}
    moves = {u["unit"]: (u["rank_before"], u["rank_after"], u["moved"], u["rate_change"])
             for u in result["units"]}
    assert moves[units["bai_chay"].name] == (1, 1, 0, 0.0)
    assert moves[units["co_to"].name] == (3, 2, 1, 50.0)
    assert moves[units["ha_long"].name] == (2, 3, -1, -50.0)
    assert result["units"][0]["unit"] == units["co_to"].name  # rose most first


def test_a_communes_comparison_has_only_its_tasks(history, units):
    result = compare(units["ha_long"], date(2026, 11, 17), date(2026, 11, 25))
    assert sorted(r["code"] for r in result["turned_red"]) == codes(history["steady"],
                                                                    history["late"])
    assert result["turned_green"] == [] and result["units"] == []


def test_the_comparison_workbook_holds_typed_totals_units_and_tasks(history, units):
    from io import BytesIO

    from openpyxl import load_workbook

    result = compare(units["province"], date(2026, 11, 17), date(2026, 11, 25), limit=None)
    book = load_workbook(BytesIO(to_bytes(compare_xlsx(result))))
    assert len(book.sheetnames) == 4
    totals, moves, red, green = (book[n] for n in book.sheetnames)
    rows = [[c.value for c in row] for row in totals.iter_rows()]
    header = rows.index(next(r for r in rows if r[0] is None and r[3]))
    red_row = next(r for r in rows[header:] if r[1] == 2 and r[2] == 3)
    assert red_row[3] == 1
    move_rows = [[c.value for c in row] for row in moves.iter_rows(min_row=2)]
    assert [units["co_to"].name, 3, 2, 1] == move_rows[0][:4]
    assert moves.cell(2, 5).number_format == "0%"
    red_codes = sorted(row[0].value for row in red.iter_rows(min_row=2))
    assert red_codes == codes(history["steady"], history["late"])
    assert [row[0].value for row in green.iter_rows(min_row=2)] == [
        history["recovers"].code]


def test_the_past_tasks_page_through_the_red_list_then_unit_by_unit(history, units,
                                                                    monkeypatch):
    from tracker.reports import pastday

    monkeypatch.setattr(pastday, "PER_PAGE", 2)
    pages = [tasks_on(units["province"], date(2026, 11, 25), "", n) for n in (1, 2, 3, 4)]
    seen = [(t.code, c) for p in pages for t, c, _, _ in p.items]
    h = history
    # Red in the red list's order (overdue first, then the longest run of missed updates),
    # then the green ones unit by unit in Vietnamese order ("Đặc khu Cô Tô" before
    # "Phường Bãi Cháy").
    assert seen == [(h["late"].code, "red"), (h["silent"].code, "red"),
                    (h["steady"].code, "red"), (h["recovers"].code, "green"),
                    (h["punctual"].code, "green")]
    assert [p.total for p in pages] == [5] * 4 and pages[3].items == []
    monkeypatch.setattr(pastday, "PER_PAGE", 1)
    greens = tasks_on(units["province"], date(2026, 11, 25), "green", 2)
    assert [(t.code, c) for t, c, _, _ in greens.items] == [(h["punctual"].code, "green")]
    assert greens.total == 2


def test_the_comparison_workbook_writes_user_text_as_text_never_a_formula(history, units):
    from io import BytesIO

    from openpyxl import load_workbook

    history["steady"].title = '=HYPERLINK("http://evil.example","Bấm vào đây")'
    db.session.commit()
    result = compare(units["province"], date(2026, 11, 17), date(2026, 11, 25), limit=None)
    book = load_workbook(BytesIO(to_bytes(compare_xlsx(result))))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    title = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert title.data_type == "s"


def test_turned_green_goes_by_the_colour_at_the_first_day_not_the_changes_between(
        history, units):
    # `recovers`: green the 13th, yellow the 16th, red the 17th, green from the 18th.
    h = history
    since_16 = compare(units["co_to"], date(2026, 11, 16), date(2026, 11, 25))
    assert [(r["code"], r["from"]) for r in since_16["turned_green"]] == [
        (h["recovers"].code, "yellow")]
    since_13 = compare(units["co_to"], date(2026, 11, 13), date(2026, 11, 25))
    assert since_13["turned_green"] == []  # green then, green now
    assert [r["code"] for r in since_13["turned_red"]] == [h["silent"].code]
