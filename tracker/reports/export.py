"""The daily supervision report as CSV, XLSX and PDF (Vietnamese text throughout).

The PDF embeds a Unicode TrueType font (DejaVu Sans by default: Debian's
`fonts-dejavu-core`; `TRACKER_PDF_FONT` names another file), since the PDF core fonts
cannot draw Vietnamese diacritics.

Task titles, unit and owner names are user text: every format goes through
tracker.downloads, so that no cell becomes a formula and no PDF paragraph reads markup.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from tracker.downloads import chunks_of, csv_writer, pdf_text
from tracker.labels import (
    COMMUNES_SHARE_DEFINITION,
    GREEN_RATE_DEFINITION,
    percent,
    reason_text,
    unit_colour_text,
)
from tracker.xlsx import Percent, TableSheet, new_book, to_bytes

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)


def _colour(value: str | None) -> str:
    return unit_colour_text(value)


def _reason(code: str, days: int) -> str:
    return reason_text(code, days)


def _dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def sections(report: dict, typed: bool = False) -> list[tuple[str, list[str], list[list]]]:
    """The report as titled tables: (title, header, rows). Every format renders these; the
    rows of the two task lists are iterators (a national download has a million). Typed,
    dates are dates and rates `Percent`s (for a workbook); else both are text."""
    t = report["totals"]
    # No rate (nothing counted) is "–" in text and an empty cell in a workbook.
    rate = (lambda value: None if value is None else Percent(value)) if typed else percent
    summary = [
        [_("Unit"), report["unit"]["name"]],
        [_("Date"), date.fromisoformat(report["date"]) if typed else _dmy(report["date"])],
        [_("Tasks"), t["total"]],
        [_("Green"), t["green"]], [_("Yellow"), t["yellow"]], [_("Red"), t["red"]],
        [_("Green rate"), rate(t["green_rate"])],
        [_("Not started, not counted"), t.get("not_started", 0)],
        [_("Completed on time"), t["done_on_time"]],
        [_("Completed late"), t["done_late"]],
        [_("Not completed, within deadline"), t["open_within_deadline"]],
        [_("Not completed, overdue"), t["open_overdue"]],
        [_("Missed updates"), t["missed"]],
    ]
    if report.get("likely_red") is not None:  # the stored early warning (docs/forecast.md)
        summary.append([_("About to turn red"), report["likely_red"]])
    summary.append([_("Definition"), str(GREEN_RATE_DEFINITION)])
    if t.get("communes"):
        judged = t["communes"] - t.get("communes_none", 0)
        summary += [
            [_("Green communes"), f"{t['communes_green']}/{judged}"],
            [_("Share of green communes"), rate(t.get("communes_share"))],
            [_("Communes with no task"), t.get("communes_none", 0)],
            [_("Definition"), str(COMMUNES_SHARE_DEFINITION)],
        ]
    kn = report.get("recommendations") or {"totals": {}, "by_field": [], "by_unit": []}
    summary += [[label, kn["totals"].get(key, 0)] for key, label in recommendation_counts()]
    return [
        (_("Summary"), [_("Item"), _("Value")], summary),
        (_("Units ranked by green rate"),
         [_("Unit"), _("Colour"), _("Green rate"), _("Tasks"), _("Red"), _("Missed updates")],
         [[u["unit"], _colour(u["colour"]), rate(u["green_rate"]), u["total"], u["red"],
           u["missed"]] for u in report["units"]]),
        (_("Units with no task counted"), [_("Unit"), _("Tasks"), _("Not started")],
         [[u["unit"], u["total"], u["not_started"]] for u in report.get("idle_units", [])]),
        (_("Units that missed updates"), [_("Unit"), _("Missed updates")],
         [[m["unit"], m["missed"]] for m in report["missed_units"]]),
        (_("Red tasks"), [_("Code"), _("Task"), _("Unit"), _("Owner"), _("Reason")],
         ([r["code"], r["title"], r["unit"], r["owner"], _reason(r["reason"], r["days"])]
          for r in report["red_tasks"])),
        (_("Changes since the previous report"),
         [_("Code"), _("Task"), _("Unit"), _("From"), _("To"), _("Reason")],
         ([c["code"], c["title"], c["unit"], _colour(c["from"]) or _("New"),
           _colour(c["to"]), _reason(c["reason"], c["days"])] for c in report["changes"])),
        (_("Recommendations by field"),
         [_("Field"), *(label for _key, label in recommendation_counts())],
         [[f["field"], *(f[key] for key, _label in recommendation_counts())]
          for f in kn["by_field"]]),
        (_("Recommendations by responsible unit"),
         [_("Responsible unit"), *(label for key, label in recommendation_counts()
                                   if key != "merged")],
         [[u["unit"], *(u[key] for key, _label in recommendation_counts() if key != "merged")]
          for u in kn["by_unit"]]),
    ]


def recommendation_counts() -> list[tuple[str, str]]:
    """The kiến nghị's counts (tracker.kiennghi.counts) and their column names."""
    return [("received", _("Recommendations received")),
            ("received_today", _("Of which received that day")),
            ("answered_on_time", _("Answered on time")),
            ("answered_late", _("Answered late")),
            ("pending", _("Not answered, within deadline")),
            ("overdue", _("Not answered, overdue")),
            ("merged", _("Merged"))]


def title(report: dict) -> str:
    return _("Daily supervision report %(day)s – %(unit)s", day=_dmy(report["date"]),
             unit=report["unit"]["name"])


def csv_chunks(report: dict, rows_per_chunk: int = 1000) -> Iterator[bytes]:
    """The report as CSV, a chunk at a time (a download streams it)."""
    out = io.StringIO()
    writer = csv_writer(out)

    def flush() -> bytes:
        data = out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
        return data

    # A byte-order mark so that spreadsheet programs read the Vietnamese as UTF-8.
    yield "\ufeff".encode()
    writer.writerow([title(report)])
    for heading, header, rows in sections(report):
        writer.writerow([])
        writer.writerow([heading])
        writer.writerow(header)
        for count, row in enumerate(rows, start=1):
            writer.writerow(row)
            if count % rows_per_chunk == 0:
                yield flush()
    yield flush()


def report_csv(report: dict) -> bytes:
    return b"".join(csv_chunks(report))


def spooled(chunks: Iterator[bytes], in_memory: int = 8 << 20) -> Iterator[bytes]:
    """Write the chunks now (inside the request) to a file kept in memory up to
    `in_memory` bytes and on disk beyond, and send it from there: a national download
    never sits whole in a web worker's memory. The file is closed once sent."""
    out = tempfile.SpooledTemporaryFile(max_size=in_memory)  # noqa: SIM115 (closed by chunks_of)
    for chunk in chunks:
        out.write(chunk)
    out.seek(0)
    return chunks_of(out)


def report_xlsx(report: dict) -> bytes:
    """The report as a workbook, a sheet per section (tracker.xlsx: typed cells, the header
    frozen and filtered, A4 landscape); written row by row, so that a national day's rows
    are never all held at once."""
    book = new_book()
    names = sheet_names()
    for (heading, header, rows), name in zip(sections(report, typed=True), names, strict=True):
        TableSheet(book, name, header, rows, above=[[title(report)], [heading]]).write()
    return to_bytes(book)


def sheet_names() -> list[str]:
    """The sheets of the report's workbook, one per section, short enough for a sheet name."""
    return [_("Summary"), _("Unit ranking"), _("Units with no task"), _("Units not reporting"),
            _("Red tasks"), _("Changes"), _("Recommendations by field"),
            _("Recommendations by unit")]


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
    # Every text is escaped (pdf_text): Paragraph reads <img>, <a> and the like as markup.
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=title(report),
                            leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm)
    story = [Paragraph(pdf_text(title(report)), styles["Title"])]
    for heading, header, rows in sections(report):
        story += [Spacer(1, 4 * mm), Paragraph(pdf_text(heading), styles["Heading2"])]
        if not rows:
            story.append(Paragraph("–", cell))
            continue
        data = [[Paragraph(pdf_text(v), cell) for v in header]] + \
            [[Paragraph(pdf_text(v), cell) for v in row] for row in rows]
        table = Table(data, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f0fe")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
    doc.build(story)
    return out.getvalue()
