"""The daily supervision report as CSV, XLSX and PDF (Vietnamese text throughout).

The PDF embeds a Unicode TrueType font (DejaVu Sans by default: Debian's
`fonts-dejavu-core`; `TRACKER_PDF_FONT` names another file), since the PDF core fonts
cannot draw Vietnamese diacritics.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
COLOURS = {"green": "Green", "yellow": "Yellow", "red": "Red"}


def _colour(value: str | None) -> str:
    return _(COLOURS[value]) if value in COLOURS else (value or "")


def _reason(code: str, days: int) -> str:
    from tracker.web.formatting import reason_text

    return reason_text(code, days)


def _dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def sections(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The report as titled tables: (title, header, rows). Every format renders these."""
    t = report["totals"]
    summary = [
        [_("Unit"), report["unit"]["name"]],
        [_("Date"), _dmy(report["date"])],
        [_("Tasks"), t["total"]],
        [_("Green"), t["green"]], [_("Yellow"), t["yellow"]], [_("Red"), t["red"]],
        [_("Green rate"), f"{t['green_rate']:.0%}"],
        [_("Completed on time"), t["done_on_time"]],
        [_("Completed late"), t["done_late"]],
        [_("Not completed, within deadline"), t["open_within_deadline"]],
        [_("Not completed, overdue"), t["open_overdue"]],
        [_("Missed updates"), t["missed"]],
    ]
    if t.get("communes"):
        summary.append([_("Green communes"), f"{t['communes_green']}/{t['communes']}"])
    return [
        (_("Summary"), [_("Item"), _("Value")], summary),
        (_("Units ranked by green rate"),
         [_("Unit"), _("Colour"), _("Green rate"), _("Tasks"), _("Red"), _("Missed updates")],
         [[u["unit"], _colour(u["colour"]), f"{u['green_rate']:.0%}", u["total"], u["red"],
           u["missed"]] for u in report["units"]]),
        (_("Units that missed updates"), [_("Unit"), _("Missed updates")],
         [[m["unit"], m["missed"]] for m in report["missed_units"]]),
        (_("Red tasks"), [_("Code"), _("Task"), _("Unit"), _("Owner"), _("Reason")],
         [[r["code"], r["title"], r["unit"], r["owner"], _reason(r["reason"], r["days"])]
          for r in report["red_tasks"]]),
        (_("Changes since the previous report"),
         [_("Code"), _("Task"), _("Unit"), _("From"), _("To"), _("Reason")],
         [[c["code"], c["title"], c["unit"], _colour(c["from"]) or _("New"), _colour(c["to"]),
           _reason(c["reason"], c["days"])] for c in report["changes"]]),
    ]


def title(report: dict) -> str:
    return _("Daily supervision report %(day)s – %(unit)s", day=_dmy(report["date"]),
             unit=report["unit"]["name"])


def report_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title(report)])
    for heading, header, rows in sections(report):
        writer.writerow([])
        writer.writerow([heading])
        writer.writerow(header)
        writer.writerows(rows)
    # A byte-order mark so that spreadsheet programs read the Vietnamese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for heading, header, rows in sections(report):
        sheet = book.create_sheet(heading[:31])
        sheet.append([title(report)])
        sheet.append(header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column[1:]) if len(column) > 1 else 10
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _font() -> str:
    """Register a Unicode font for reportlab once; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "TrackerSans" in pdfmetrics.getRegisteredFontNames():
        return "TrackerSans"
    configured = current_app.config.get("TRACKER_PDF_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            pdfmetrics.registerFont(TTFont("TrackerSans", candidate))
            return "TrackerSans"
    raise RuntimeError("No Unicode TrueType font found for PDF reports: install "
                       "fonts-dejavu-core or set TRACKER_PDF_FONT")


def report_pdf(report: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = font
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=title(report),
                            leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm)
    story = [Paragraph(title(report), styles["Title"])]
    for heading, header, rows in sections(report):
        story += [Spacer(1, 4 * mm), Paragraph(heading, styles["Heading2"])]
        if not rows:
            story.append(Paragraph("–", cell))
            continue
        data = [[Paragraph(str(v), cell) for v in header]] + \
            [[Paragraph(str(v), cell) for v in row] for row in rows]
        table = Table(data, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0fe")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
    doc.build(story)
    return out.getvalue()
