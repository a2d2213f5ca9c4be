"""The kiến nghị workbook: every kiến nghị of a list, grouped by field (lĩnh vực) and legal
basis, and a summary sheet counting each group — the way a province compiles "ý kiến của
các địa phương" for its report upward. In Vietnamese whatever the page's language; user
text is written as inert string cells (tracker.xlsx, tracker.downloads.xlsx_cells)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.kiennghi.colour import colour_of
from tracker.kiennghi.models import Recommendation
from tracker.kiennghi.wording import CATEGORY_LABELS, KIND_LABELS, LEVEL_LABELS, STATUS_LABELS
from tracker.rules.vietnamese import sort_key
from tracker.xlsx import TableSheet, new_book, saved

MAX_ROWS = 20_000  # the newest so many (a province's compilation holds far fewer)
HEADER = ["Lĩnh vực", "Cơ sở pháp lý, chính sách", "Mã", "Loại", "Tiêu đề", "Nội dung",
          "Đơn vị kiến nghị", "Ngày gửi", "Cấp đề nghị giải quyết", "Đơn vị đầu mối trả lời",
          "Hạn trả lời", "Trạng thái", "Kết quả", "Trả lời", "Văn bản trả lời", "Gộp vào"]
SUMMARY_HEADER = ["Lĩnh vực", "Cơ sở pháp lý, chính sách", "Số kiến nghị", "Số đơn vị",
                  "Đã trả lời đúng hạn", "Đã trả lời quá hạn", "Chưa trả lời, trong hạn",
                  "Chưa trả lời, quá hạn", "Đã gộp"]
CATEGORIES = ("answered_on_time", "answered_late", "pending", "overdue")


def _local(at: datetime):
    return at.astimezone(ZoneInfo(current_app.config["TRACKER_TIMEZONE"]))


def export_filename(at: datetime) -> str:
    return f"kien-nghi-{_local(at).date().isoformat()}.xlsx"


def _group(rec: Recommendation) -> tuple:
    return (sort_key(rec.field), sort_key(rec.legal_basis), rec.raised_at, rec.id)


def recommendations_xlsx(query: Select, *, at: datetime) -> Iterator[bytes]:
    """The workbook of `query`'s kiến nghị (already narrowed to the user's scope)."""
    # The units and the kiến nghị merged into are read with the rows (three statements in
    # all, not three per row).
    query = query.options(selectinload(Recommendation.raising_unit),
                          selectinload(Recommendation.responsible_unit),
                          selectinload(Recommendation.merged_into))
    recs = sorted(db.session.scalars(
        query.order_by(Recommendation.raised_at.desc(), Recommendation.id.desc())
        .limit(MAX_ROWS)).unique(), key=_group)
    with force_locale("vi"):
        rows, counts = [], {}
        for rec in recs:
            result = colour_of(rec, at)
            category = result.category.value if result.category else None
            group = counts.setdefault((rec.field, rec.legal_basis),
                                      {"n": 0, "units": set(), "merged": 0,
                                       **Counter({c: 0 for c in CATEGORIES})})
            group["n"] += 1
            group["units"].add(rec.raising_unit_id)
            if category:
                group[category] += 1
            else:
                group["merged"] += 1
            rows.append([
                rec.field, rec.legal_basis, rec.code, str(KIND_LABELS[rec.kind]), rec.title,
                rec.content, rec.raising_unit.name, _local(rec.raised_at).date(),
                str(LEVEL_LABELS[rec.level_asked]),
                rec.responsible_unit.name if rec.responsible_unit else "",
                rec.response_due, str(STATUS_LABELS[rec.status]),
                str(CATEGORY_LABELS[category]) if category else "",
                rec.answer or "", rec.answer_documents or "",
                rec.merged_into.code if rec.merged_into else ""])
        summary = [[field, basis, g["n"], len(g["units"]),
                    *(g[c] for c in CATEGORIES), g["merged"]]
                   for (field, basis), g in counts.items()]
    book = new_book()
    TableSheet(book, "Tổng hợp", SUMMARY_HEADER, summary,
               above=[[f"Tổng hợp kiến nghị theo lĩnh vực và cơ sở pháp lý, "
                       f"đến {_local(at):%d/%m/%Y %H:%M}"]]).write()
    TableSheet(book, "Kiến nghị", HEADER, rows).write()
    return saved(book)
