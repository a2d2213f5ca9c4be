"""The official document (`tracker.reports.document`) drawn as a PDF with reportlab: A4,
the margins and sizes of Decree 30/2020/NĐ-CP, the serif of `tracker.reports.fonts`
embedded, the page number centred in the top margin from page 2 on.

Every text is escaped (`tracker.downloads.pdf_text`) before a Paragraph reads it: a
unit's name or a task's title is printed as written, never read as markup.
"""

from __future__ import annotations

import io

from tracker.downloads import pdf_text
from tracker.reports import fonts
from tracker.reports.document import MOTTO, MOTTO_COUNTRY, Grid, OfficialDocument

# Decree 30, Phụ lục I: top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
BODY, SMALL, TABLE = 13, 12, 10.5  # points


def _markup(text: str) -> str:
    return pdf_text(text).replace("\n", "<br/>")


class _Styles:
    def __init__(self):
        from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm

        fonts.register()

        def style(name, size=BODY, *, bold=False, italic=False, align=TA_CENTER, **kw):
            kw.setdefault("leading", size * 1.2)
            return ParagraphStyle(name, fontName=fonts.font_name(bold, italic),
                                  fontSize=size, alignment=align, **kw)

        self.body_top = style("parent")
        self.body_bold = style("issuer", bold=True)
        self.country = style("country", SMALL, bold=True)
        self.motto = style("motto", bold=True)
        self.number = style("number")
        self.dated = style("dated", italic=True)
        self.kind = style("kind", 14, bold=True, spaceBefore=6 * mm)
        self.subject = style("subject", 14, bold=True)
        self.heading = style("heading", bold=True, align=TA_LEFT, spaceBefore=6, spaceAfter=3)
        self.body = style("body", align=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=4,
                          leading=BODY * 1.3)
        self.note = style("note", italic=True, align=TA_JUSTIFY, firstLineIndent=10 * mm,
                          spaceAfter=4)
        self.cell = style("cell", TABLE, align=TA_LEFT)
        self.cell_number = style("cellnum", TABLE, align=TA_RIGHT)
        self.cell_head = style("cellhead", TABLE, bold=True)
        self.recipients_head = style("rhead", SMALL, bold=True, italic=True, align=TA_LEFT)
        self.recipient = style("recipient", 11, align=TA_LEFT, leading=13)
        self.signer = style("signer", bold=True)


def _rule(width: float):
    from reportlab.lib import colors
    from reportlab.platypus import HRFlowable

    return HRFlowable(width=width, thickness=0.5, color=colors.black, spaceBefore=1,
                      spaceAfter=2, hAlign="CENTER")


def _letterhead(doc: OfficialDocument, styles: _Styles, width: float):
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    head = doc.letterhead
    left = []
    if head.parent_body:
        left.append(Paragraph(_markup(head.parent_body.upper()), styles.body_top))
    left.append(Paragraph(_markup(head.issuing_body.upper()), styles.body_bold))
    issuer_width = fonts.text_width(head.issuing_body.upper(), BODY, bold=True)
    left.append(_rule(min(max(issuer_width / 2, 20 * mm), 0.4 * width * 0.9)))
    right = [Paragraph(MOTTO_COUNTRY, styles.country), Paragraph(MOTTO, styles.motto),
             _rule(fonts.text_width(MOTTO, BODY, bold=True))]
    table = Table([[left, right],
                   [Paragraph(_markup(doc.number), styles.number),
                    Paragraph(_markup(doc.dated), styles.dated)]],
                  colWidths=[0.4 * width, 0.6 * width])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("ALIGN", (0, 0), (-1, -1), "CENTER"),  # the rules
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    subject_width = min(fonts.text_width(doc.subject, 14, bold=True), width * 0.9)
    return [table, Paragraph(_markup(doc.kind), styles.kind),
            Paragraph(_markup(doc.subject), styles.subject),
            _rule(max(subject_width / 3, 30 * mm)), Spacer(1, 4 * mm)]


def _grid(grid: Grid, styles: _Styles, width: float):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    def cell(value: str, column: int):
        return Paragraph(_markup(value),
                         styles.cell_number if column in grid.numeric else styles.cell)

    data = [[Paragraph(_markup(h), styles.cell_head) for h in grid.header]]
    data += [[cell(v, i) for i, v in enumerate(row)] for row in grid.rows]
    table = Table(data, colWidths=[f * width for f in grid.widths], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 3),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 3)]))
    return table


def _closing(doc: OfficialDocument, styles: _Styles, width: float):
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    head = doc.letterhead
    left = [Paragraph("Nơi nhận:", styles.recipients_head)]
    lines = list(head.recipients)
    for i, line in enumerate(lines):
        end = "." if i == len(lines) - 1 else ";"
        left.append(Paragraph(_markup(f"- {line.rstrip(';.')}{end}"), styles.recipient))
    right = [Paragraph(_markup(line.upper()), styles.signer)
             for line in (head.signer_authority, head.signer_title) if line]
    right += [Spacer(1, 25 * mm), Paragraph(_markup(head.signer_name), styles.signer)]
    table = Table([[left, right]], colWidths=[0.45 * width, 0.55 * width])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("ALIGN", (1, 0), (1, 0), "CENTER"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(1, 6 * mm), table]


def render(doc: OfficialDocument) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, SimpleDocTemplate

    styles = _Styles()
    out = io.BytesIO()
    page = SimpleDocTemplate(
        out, pagesize=A4, title=doc.title, author=doc.letterhead.issuing_body,
        subject=doc.subject, creator="Tracker", initialFontName=fonts.font_name(),
        **{f"{side}Margin": value * mm for side, value in MARGINS_MM.items()})
    width = page.width
    story = _letterhead(doc, styles, width)
    for block in doc.body:
        if isinstance(block, Grid):
            story.append(_grid(block, styles, width))
        else:
            style = {"heading": styles.heading, "note": styles.note}.get(block.style,
                                                                          styles.body)
            if block.style == "heading":  # not alone at the foot of a page
                story.append(CondPageBreak(25 * mm))
            story.append(Paragraph(_markup(block.text), style))
    story.append(KeepTogether(_closing(doc, styles, width)))

    def number(canvas, template):
        # Decree 30: Arabic numerals, centred in the top margin, none on the first page.
        canvas.saveState()
        canvas.setFont(fonts.font_name(), BODY)
        canvas.drawCentredString(A4[0] / 2 + (MARGINS_MM["left"] - MARGINS_MM["right"]) * mm
                                 / 2, A4[1] - 12 * mm, str(canvas.getPageNumber()))
        canvas.restoreState()

    page.build(story, onLaterPages=number)
    return out.getvalue()
