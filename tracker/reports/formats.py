"""The daily report's downloads, for the page and the API alike: each format's mimetype,
how many red tasks and changes it lists, and the file itself — XLSX and CSV carry the data
(`tracker.reports.export`), PDF and DOCX are the administrative document
(`tracker.reports.official`, one model in both formats)."""

from __future__ import annotations

from tracker.reports.document import ROWS

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
OFFICIAL = frozenset({"pdf", "docx"})


def red_limit(fmt: str) -> int | None:
    """The red tasks and changes a format lists: the document's pages stop at `ROWS` (and
    point to the XLSX); the data formats list them all."""
    return ROWS if fmt in OFFICIAL else None


def render(fmt: str, report: dict):
    """The report as the `fmt` file: bytes, or for CSV chunks sent from a spooled file."""
    # The formats' libraries (openpyxl, reportlab, python-docx) load on the first download.
    from tracker.reports import export, official

    if fmt == "csv":
        return export.spooled(export.csv_chunks(report))
    if fmt == "xlsx":
        return export.report_xlsx(report)
    return official.report_pdf(report) if fmt == "pdf" else official.report_docx(report)
