"""The daily supervision report as an administrative document (văn bản hành chính): one
document model, following the layout of Decree 30/2020/NĐ-CP (Phụ lục I, văn bản có tên
loại), that `render_docx` and `render_pdf` both draw — so the DOCX the office edits and
signs and the PDF are the same document.

The model holds text only, in Vietnamese whatever the reader's language (an official
document is in Vietnamese): the letterhead (quốc hiệu, tiêu ngữ, cơ quan chủ quản and ban
hành, số và ký hiệu, địa danh và ngày tháng), the kind and subject (tên loại, trích yếu
"Báo cáo giám sát … tính đến 16 giờ 00 ngày dd/mm/yyyy"), the body (totals by colour and
by the four categories, units ranked, units that missed updates, red tasks, what
changed) and the closing (nơi nhận, thẩm quyền, chức vụ and họ tên of the signer).
Unit names and task titles are user text: the renderers never read markup from it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale

from tracker.labels import COMMUNES_SHARE_DEFINITION, GREEN_RATE_DEFINITION, reason_text

MOTTO_COUNTRY = "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
KIND = "BÁO CÁO"
NUMBER_BLANK = "\u00a0" * 10
ROWS = 300  # red tasks and changes listed in the document; the XLSX holds them all
COLOURS = {"green": "Xanh", "yellow": "Vàng", "red": "Đỏ", "none": "Chưa có nhiệm vụ"}
CATEGORIES = (
    ("done_on_time", "Hoàn thành đúng hạn"),
    ("done_late", "Hoàn thành quá hạn"),
    ("open_within_deadline", "Chưa hoàn thành, trong hạn"),
    ("open_overdue", "Chưa hoàn thành, quá hạn"),
)


@dataclass(frozen=True)
class Letterhead:
    """Who issues the document and who signs it (a unit's `UnitReportSettings`)."""

    parent_body: str
    issuing_body: str
    symbol: str
    place: str
    signer_authority: str
    signer_title: str
    signer_name: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Text:
    """A paragraph: `style` is "heading" (I., II. …), "body" or "note" (italic)."""

    text: str
    style: str = "body"


@dataclass(frozen=True)
class Grid:
    """A table: a header row and rows of text; `widths` are fractions of the text width;
    the columns in `numeric` are right-aligned."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    widths: tuple[float, ...]
    numeric: frozenset[int] = frozenset()


@dataclass
class OfficialDocument:
    letterhead: Letterhead
    number: str  # "Số:      /BC-VP": the number is given by the văn thư when it is issued
    dated: str  # "Quảng Ninh, ngày 17 tháng 11 năm 2026"
    kind: str
    subject: str
    body: list[Text | Grid] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.kind.capitalize()} {self.subject[0].lower()}{self.subject[1:]}"


def date_line(place: str, day: date) -> str:
    """Decree 30: the day below 10 and the months January and February take a leading 0."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    prefix = f"{place}, " if place else ""
    return f"{prefix}ngày {day.day:02d} tháng {month} năm {day.year}"


def cutoff_words(cutoff: str) -> str:
    """"16:00" → "16 giờ 00"."""
    hours, _sep, minutes = cutoff.partition(":")
    return f"{int(hours)} giờ {minutes or '00'}"


def _percent(rate: float | None) -> str:
    """A rate as the document prints it; "–" when nothing is counted (no rate)."""
    return "–" if rate is None else f"{rate:.0%}"


def _summary(report: dict) -> list[Text | Grid]:
    t = report["totals"]
    total = t["total"]
    lines = [
        Text("I. TÌNH HÌNH CHUNG", "heading"),
        Text(f"Tổng số nhiệm vụ theo dõi: {total}; trong đó {t['green']} nhiệm vụ xanh, "
             f"{t['yellow']} nhiệm vụ vàng, {t['red']} nhiệm vụ đỏ. Tỷ lệ xanh: "
             f"{_percent(t['green_rate'])}; màu của đơn vị: "
             f"{COLOURS.get(t['colour'], t['colour']).lower()}."),
    ]
    if t.get("not_started"):
        lines.append(Text(f"Nhiệm vụ chưa thực hiện, chưa tính vào tỷ lệ xanh: "
                          f"{t['not_started']}."))
    lines.append(Text(str(GREEN_RATE_DEFINITION), "note"))
    if t.get("communes"):
        none = t.get("communes_none", 0)
        lines.append(Text(f"Số xã, phường, đặc khu xanh: {t['communes_green']}/"
                          f"{t['communes'] - none}"
                          + (f" ({none} xã, phường, đặc khu chưa có nhiệm vụ)." if none
                             else ".")))
        lines.append(Text(str(COMMUNES_SHARE_DEFINITION), "note"))
    lines.append(Text(f"Số lượt không cập nhật tiến độ trong ngày: {t['missed']}."))
    if report.get("likely_red") is not None:  # the stored early warning (docs/forecast.md)
        lines.append(Text(f"Số nhiệm vụ có khả năng chuyển đỏ trong 3 ngày làm việc tới: "
                          f"{report['likely_red']}."))
    rows = [(name, str(t[key]), _percent(t[key] / total) if total else "–")
            for key, name in CATEGORIES]
    lines.append(Grid(("Nhóm nhiệm vụ", "Số lượng", "Tỷ lệ"), rows, (0.6, 0.2, 0.2),
                      frozenset({1, 2})))
    return lines


def _units(report: dict) -> list[Text | Grid]:
    out: list[Text | Grid] = [Text("II. XẾP HẠNG ĐƠN VỊ THEO TỶ LỆ XANH", "heading")]
    if not report["units"]:
        return [*out, Text("Không có đơn vị trực thuộc có nhiệm vụ.", "note")]
    rows = [(str(i), u["unit"], COLOURS.get(u["colour"], u["colour"]),
             _percent(u["green_rate"]), str(u["total"]), str(u["red"]), str(u["missed"]))
            for i, u in enumerate(report["units"], start=1)]
    grid = Grid(("TT", "Đơn vị", "Màu", "Tỷ lệ xanh", "Nhiệm vụ", "Đỏ", "Không cập nhật"),
                rows, (0.06, 0.36, 0.1, 0.13, 0.12, 0.08, 0.15), frozenset({0, 3, 4, 5, 6}))
    return [*out, grid]


def _missed(report: dict) -> list[Text | Grid]:
    out: list[Text | Grid] = [Text("III. ĐƠN VỊ KHÔNG CẬP NHẬT TIẾN ĐỘ", "heading")]
    if not report["missed_units"]:
        return [*out, Text("Tất cả các đơn vị đã cập nhật tiến độ đúng hạn.", "note")]
    rows = [(str(i), m["unit"], str(m["missed"]))
            for i, m in enumerate(report["missed_units"], start=1)]
    grid = Grid(("TT", "Đơn vị", "Số lượt không cập nhật"), rows, (0.08, 0.62, 0.3),
                frozenset({0, 2}))
    return [*out, grid]


def _more(shown: int, total: int, what: str) -> list[Text]:
    if total > shown:
        return [Text(f"Còn {total - shown} {what} khác: xem bản XLSX của báo cáo.", "note")]
    return []


def _red(report: dict) -> list[Text | Grid]:
    out: list[Text | Grid] = [Text("IV. NHIỆM VỤ ĐỎ", "heading")]
    red = list(itertools.islice(report["red_tasks"], ROWS))
    if not red:
        return [*out, Text("Không có nhiệm vụ đỏ.", "note")]
    rows = [(str(i), r["code"], r["title"], r["unit"], r["owner"] or "",
             reason_text(r["reason"], r["days"])) for i, r in enumerate(red, start=1)]
    grid = Grid(("TT", "Mã", "Nhiệm vụ", "Đơn vị chủ trì", "Người phụ trách", "Lý do"),
                rows, (0.06, 0.18, 0.26, 0.15, 0.14, 0.21), frozenset({0}))
    return [*out, grid, *_more(len(red), report.get("red_total", 0), "nhiệm vụ đỏ")]


def _changes(report: dict) -> list[Text | Grid]:
    out: list[Text | Grid] = [Text("V. THAY ĐỔI SO VỚI BÁO CÁO TRƯỚC", "heading")]
    changes = list(itertools.islice(report["changes"], ROWS))
    if not changes:
        return [*out, Text("Không có nhiệm vụ đổi màu.", "note")]
    rows = [(str(i), c["code"], c["title"], c["unit"],
             COLOURS.get(c["from"], "Mới") if c["from"] else "Mới",
             COLOURS.get(c["to"], c["to"]), reason_text(c["reason"], c["days"]))
            for i, c in enumerate(changes, start=1)]
    grid = Grid(("TT", "Mã", "Nhiệm vụ", "Đơn vị chủ trì", "Từ", "Sang", "Lý do"), rows,
                (0.06, 0.18, 0.22, 0.15, 0.08, 0.08, 0.23), frozenset({0}))
    return [*out, grid, *_more(len(changes), report.get("changes_total", 0), "thay đổi")]


KIEN_NGHI = (
    ("answered_on_time", "Đã trả lời đúng hạn"),
    ("answered_late", "Đã trả lời quá hạn"),
    ("pending", "Chưa trả lời, trong hạn"),
    ("overdue", "Chưa trả lời, quá hạn"),
)


def _recommendations(report: dict) -> list[Text | Grid]:
    """VI. The kiến nghị (tracker.kiennghi.counts): received, how they were answered, by
    field and by responsible unit."""
    out: list[Text | Grid] = [Text("VI. TIẾP NHẬN, TRẢ LỜI KIẾN NGHỊ", "heading")]
    kn = report.get("recommendations")
    if not kn or not kn["totals"]["received"]:
        return [*out, Text("Không có vướng mắc, kiến nghị.", "note")]
    t = kn["totals"]
    out.append(Text(
        f"Tổng số vướng mắc, kiến nghị đã tiếp nhận: {t['received']} (trong ngày: "
        f"{t['received_today']}); đã trả lời đúng hạn {t['answered_on_time']}, đã trả lời "
        f"quá hạn {t['answered_late']}, chưa trả lời trong hạn {t['pending']}, chưa trả lời "
        f"quá hạn {t['overdue']}; đã gộp vào kiến nghị khác {t['merged']}."))
    header = tuple(name for _key, name in KIEN_NGHI)
    out.append(Grid(("Lĩnh vực", "Tiếp nhận", *header),
                    [(f["field"], str(f["received"]), *(str(f[k]) for k, _n in KIEN_NGHI))
                     for f in kn["by_field"]],
                    (0.28, 0.12, 0.15, 0.15, 0.15, 0.15), frozenset({1, 2, 3, 4, 5})))
    if kn["by_unit"]:
        out.append(Grid(("Đơn vị đầu mối", "Đã giao", *header),
                        [(u["unit"], str(u["received"]), *(str(u[k]) for k, _n in KIEN_NGHI))
                         for u in kn["by_unit"]],
                        (0.28, 0.12, 0.15, 0.15, 0.15, 0.15), frozenset({1, 2, 3, 4, 5})))
    return out


def build(report: dict, letterhead: Letterhead) -> OfficialDocument:
    """The document of `report` (tracker.reports.history.daily_report) issued under
    `letterhead`. The red tasks and the changes: at most `ROWS` of each."""
    day = date.fromisoformat(report["date"])
    cutoff = cutoff_words(current_app.config["TRACKER_CUTOFF_TIME"])
    subject = (f"Giám sát việc thực hiện nhiệm vụ của {report['unit']['name']} "
               f"tính đến {cutoff} ngày {day.strftime('%d/%m/%Y')}")
    document = OfficialDocument(
        letterhead=letterhead,
        # the number is left blank (spaces that do not collapse) for the văn thư to fill
        number=f"Số:{NUMBER_BLANK}/{letterhead.symbol}" if letterhead.symbol else "Số:",
        dated=date_line(letterhead.place, day), kind=KIND, subject=subject)
    with force_locale("vi"):  # the reasons' words (tracker.labels)
        for part in (_summary, _units, _missed, _red, _changes, _recommendations):
            document.body += part(report)
    return document
