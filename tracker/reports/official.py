"""The daily report's downloads as an official document: the DOCX and the PDF of one
document model (`document.build`) under the unit's letterhead (`letterhead`), and the PDF
signed with the unit's certificate (`signing`). Called like `tracker.reports.export`'s
formats: with the report of `history.daily_report` (read with `red_limit=ROWS`)."""

from __future__ import annotations

from datetime import date

from tracker.auth.models import User
from tracker.extensions import db
from tracker.reports import render_docx, render_pdf
from tracker.reports.document import ROWS, OfficialDocument, build
from tracker.reports.letterhead import letterhead_for
from tracker.reports.signing import sign_report
from tracker.units.models import Unit

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
__all__ = ["DOCX", "ROWS", "document_of", "report_docx", "report_pdf",
           "report_pdf_signed"]


def document_of(report: dict) -> OfficialDocument:
    unit = db.session.get(Unit, report["unit"]["id"])
    return build(report, letterhead_for(unit))


def report_pdf(report: dict) -> bytes:
    return render_pdf.render(document_of(report))


def report_docx(report: dict) -> bytes:
    return render_docx.render(document_of(report))


def report_pdf_signed(actor: User, unit: Unit, report: dict) -> bytes:
    """The PDF signed with `unit`'s certificate by `actor` (tracker.reports.signing)."""
    document = build(report, letterhead_for(unit))
    return sign_report(actor, unit, render_pdf.render(document),
                       day=date.fromisoformat(report["date"]),
                       location=document.letterhead.place)
